// 退款 / Refund through the admin's API, with roles: operators refund, four eyes above the threshold
// (enforced by core/refunds, not by hidden buttons), viewers get 403.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startStack, type Stack } from "../../support/index.ts";
import { AdminClient, createStaff, startAdmin, type AdminUnderTest, type TestStaff } from "../admin/support.ts";
import { gatewayRefunds, paidOrder, waitForRefund } from "./helpers.ts";

let stack: Stack;
let admin: AdminUnderTest;
let operator: TestStaff;
let boss: TestStaff;
let viewer: TestStaff;
let op: AdminClient;

before(async () => {
  stack = await startStack({ name: "admin-refunds", worker: { ticks: true }, env: { REFUND_APPROVAL_ABOVE_YUAN: "500", RECONCILE_INTERVAL_SECONDS: "1", REFUND_QUERY_DELAY_SECONDS: "1" } });
  admin = await startAdmin({ name: "admin-refunds", stack });
  operator = await createStaff(admin.prisma, "operator");
  boss = await createStaff(admin.prisma, "admin");
  viewer = await createStaff(admin.prisma, "viewer");
  op = await new AdminClient(admin.url).loginOk(operator);
});
after(async () => {
  await admin?.close();
  await stack?.close();
});

type CommandBody = { notice: { type: string; options: { summary: string } }; record: { params: Record<string, unknown> } };
const command = (client: AdminClient, path: string, body: Record<string, string> = {}) =>
  client.json<CommandBody>(`/admin/api/resources/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("an operator refunds part of a paid order from the order page; the timeline records who and why", async () => {
  const order = await paidOrder(stack, 9900);
  const r = await command(op, `Order/records/${order.id}/refund`, { amount: "30.00", reason: "重复购买 / bought twice" });
  assert.equal(r.status, 200);
  assert.equal(r.body.notice.type, "success", r.body.notice.options.summary);
  const refund = await admin.prisma.refund.findFirstOrThrow({ where: { orderId: order.id } });
  assert.equal(refund.amountFen, 3000);
  assert.equal(refund.requestedBy, operator.email);
  await waitForRefund(stack, refund.id, "SUCCEEDED");
  const o = await stack.waitForStatus(order.id, "PARTIALLY_REFUNDED");
  assert.equal(o.refundedFen, 3000);
  const requested = await admin.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, type: "refund.requested" } });
  assert.equal(requested.actor, operator.email);
  assert.equal((requested.payload as { reason: string }).reason, "重复购买 / bought twice");
});

test("a refund without a reason, or with a bad amount, is refused and nothing is created", async () => {
  const order = await paidOrder(stack, 1000);
  const noReason = await command(op, `Order/records/${order.id}/refund`, { amount: "1.00", reason: "" });
  assert.equal(noReason.body.notice.type, "error");
  assert.match(noReason.body.notice.options.summary, /退款原因|reason/);
  const bad = await command(op, `Order/records/${order.id}/refund`, { amount: "1.001", reason: "x" });
  assert.equal(bad.body.notice.type, "error");
  const tooMuch = await command(op, `Order/records/${order.id}/refund`, { amount: "10.01", reason: "x" });
  assert.equal(tooMuch.body.notice.type, "error");
  assert.equal(await admin.prisma.refund.count({ where: { orderId: order.id } }), 0);
});

test("over the threshold: the requester cannot approve their own refund, an operator cannot approve, another admin can", async () => {
  const order = await paidOrder(stack, 80_000);
  const bossClient = await new AdminClient(admin.url).loginOk(boss);
  const r = await command(bossClient, `Order/records/${order.id}/refund`, { amount: "", reason: "课程下架 / course withdrawn" });
  assert.equal(r.body.notice.type, "info", r.body.notice.options.summary);
  const refund = await admin.prisma.refund.findFirstOrThrow({ where: { orderId: order.id } });
  assert.equal(refund.state, "AWAITING_APPROVAL");
  assert.equal(refund.amountFen, 80_000);

  const self = await command(bossClient, `Refund/records/${refund.id}/approveRefund`);
  assert.equal(self.body.notice.type, "error");
  // Said in the page's language (zh-CN by default) from core's reason code, not core's English.
  assert.match(self.body.notice.options.summary, /^已拒绝 — 双人复核：申请人不能审批或拒绝自己的退款$/);
  const byOperator = await command(op, `Refund/records/${refund.id}/approveRefund`);
  assert.equal(byOperator.body.notice.type, "error");
  assert.match(byOperator.body.notice.options.summary, /需要“管理员”角色审批（您是“操作员”）/);
  assert.equal((await admin.prisma.refund.findUniqueOrThrow({ where: { id: refund.id } })).state, "AWAITING_APPROVAL");
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 0, "nothing was sent");

  const second = await createStaff(admin.prisma, "admin", "admin2");
  const secondClient = await new AdminClient(admin.url).loginOk(second);
  const ok = await command(secondClient, `Refund/records/${refund.id}/approveRefund`);
  assert.equal(ok.body.notice.type, "success", ok.body.notice.options.summary);
  const done = await waitForRefund(stack, refund.id, "SUCCEEDED");
  assert.equal(done.approvedBy, second.email);
  await stack.waitForStatus(order.id, "REFUNDED");
});

test("a viewer gets 403 for refund, approve and reject; a rejection needs a reason and is recorded", async () => {
  const order = await paidOrder(stack, 60_000);
  const client = await new AdminClient(admin.url).loginOk(viewer);
  const create = await command(client, `Order/records/${order.id}/refund`, { amount: "1.00", reason: "x" });
  assert.equal(create.status, 403);
  await command(op, `Order/records/${order.id}/refund`, { amount: "", reason: "big" });
  const refund = await admin.prisma.refund.findFirstOrThrow({ where: { orderId: order.id } });
  assert.equal(refund.state, "AWAITING_APPROVAL");
  assert.equal((await command(client, `Refund/records/${refund.id}/approveRefund`)).status, 403);
  assert.equal((await command(client, `Refund/records/${refund.id}/rejectRefund`, { reason: "no" })).status, 403);
  const bossClient = await new AdminClient(admin.url).loginOk(boss);
  const noReason = await command(bossClient, `Refund/records/${refund.id}/rejectRefund`, { reason: "" });
  assert.equal(noReason.body.notice.type, "error");
  const rejected = await command(bossClient, `Refund/records/${refund.id}/rejectRefund`, { reason: "超出退款政策 / outside policy" });
  assert.equal(rejected.body.notice.type, "success", rejected.body.notice.options.summary);
  const row = await admin.prisma.refund.findUniqueOrThrow({ where: { id: refund.id } });
  assert.equal(row.state, "REJECTED");
  assert.equal(row.rejectedBy, boss.email);
  assert.equal(row.rejectionReason, "超出退款政策 / outside policy");
  // The rejected amount is free again.
  const again = await command(op, `Order/records/${order.id}/refund`, { amount: "10.00", reason: "partial instead" });
  assert.equal(again.body.notice.type, "success", again.body.notice.options.summary);
});

test("viewers can list refunds (read-only)", async () => {
  const client = await new AdminClient(admin.url).loginOk(viewer);
  const list = await client.json<{ records: unknown[] }>(`/admin/api/resources/Refund/actions/list`);
  assert.equal(list.status, 200);
  assert.ok(list.body.records.length >= 1);
});

test("no threshold split: two operator refunds of 300 on one order (600 in all, above 500) → the second waits for an admin", async () => {
  const order = await paidOrder(stack, 80_000);
  const first = await command(op, `Order/records/${order.id}/refund`, { amount: "300.00", reason: "part 1" });
  assert.equal(first.body.notice.type, "success", first.body.notice.options.summary);
  const second = await command(op, `Order/records/${order.id}/refund`, { amount: "300.00", reason: "part 2" });
  assert.equal(second.body.notice.type, "info", second.body.notice.options.summary);
  const rows = await admin.prisma.refund.findMany({ where: { orderId: order.id }, orderBy: { id: "asc" } });
  assert.deepEqual(rows.map((r) => r.state === "AWAITING_APPROVAL"), [false, true]);
  const op2 = await createStaff(admin.prisma, "operator", "op2");
  const byOperator = await command(await new AdminClient(admin.url).loginOk(op2), `Refund/records/${rows[1]!.id}/approveRefund`);
  assert.equal(byOperator.body.notice.type, "error");
  assert.match(byOperator.body.notice.options.summary, /需要“管理员”角色审批（您是“操作员”）/);
});
