// The staff commands through the admin's API against the real pipeline (sandbox gateway, core/orders):
// they change statuses only through core/orders and leave OrderEvents naming the staff member.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startStack, type Stack } from "../../support/index.ts";
import { AdminClient, createStaff, startAdmin, type AdminUnderTest, type TestStaff } from "./support.ts";

let stack: Stack;
let admin: AdminUnderTest;
let operator: TestStaff;
let client: AdminClient;

before(async () => {
  // No worker: nothing but the staff command may settle these orders.
  stack = await startStack({ name: "admin-commands", worker: false });
  admin = await startAdmin({ name: "admin-commands", stack });
  operator = await createStaff(admin.prisma, "operator");
  client = await new AdminClient(admin.url).loginOk(operator);
});
after(async () => {
  await admin?.close();
  await stack?.close();
});

type CommandBody = { notice: { type: string; options: { summary: string } }; record: { params: Record<string, unknown> }; redirectUrl: string };
const command = (path: string, body: Record<string, string> = {}) =>
  client.json<CommandBody>(`/admin/api/resources/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("Query Alipay now", () => {
  test("an order paid at Alipay whose notifies were all lost becomes PAID, recorded as the operator's doing", async () => {
    const { order, payUrl } = await stack.unpaidOrder(4_200);
    await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 1000 }] });
    await stack.payAtSandbox(order.outTradeNo, payUrl);
    // The sandbox sent the payment notify and the fault dropped it: the api never saw it (no inbox row),
    // so only the staff command below can find the payment.
    await stack.control.waitForNotifies(order.outTradeNo, (l) => l.some((n) => n.attempts.some((a) => a.faults.includes("dropped"))));
    assert.equal(await admin.prisma.paymentNotification.count({ where: { outTradeNo: order.outTradeNo } }), 0, "no notify reached the api");
    assert.equal((await admin.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "UNPAID");

    const r = await command(`Order/records/${order.id}/checkPayment`);
    assert.equal(r.status, 200);
    assert.equal(r.body.notice.type, "success");
    assert.match(r.body.notice.options.summary, /订单已支付/);
    assert.equal(r.body.record.params.status, "PAID");
    assert.equal(r.body.redirectUrl, `/admin/resources/Order/records/${order.id}/show`);

    const events = await admin.prisma.orderEvent.findMany({ where: { orderId: order.id }, orderBy: { id: "asc" } });
    const paid = events.find((e) => e.type === "paid");
    assert.ok(paid, `events: ${events.map((e) => e.type)}`);
    assert.equal(paid.source, "staff");
    assert.equal(paid.actor, operator.email);
    assert.equal(paid.fromStatus, "UNPAID");
  });

  test("when Alipay has no trade yet, nothing changes but the check is still on the record", async () => {
    const { order } = await stack.unpaidOrder(4_200);
    const r = await command(`Order/records/${order.id}/checkPayment`);
    assert.equal(r.body.notice.type, "info");
    assert.equal(r.body.record.params.status, "UNPAID");
    const audit = await admin.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, type: "payment_checked" } });
    assert.equal(audit.actor, operator.email);
  });
});

describe("Close order", () => {
  test("closes at Alipay first, then here, with the operator's reason in the timeline", async () => {
    const { order, payUrl } = await stack.unpaidOrder(4_200);
    await stack.control.openCashier(payUrl);
    const r = await command(`Order/records/${order.id}/closeOrder`, { reason: "买家要求取消 / buyer asked" });
    assert.equal(r.body.notice.type, "success");
    assert.equal(r.body.record.params.status, "CLOSED");
    assert.equal((await stack.control.getTrade(order.outTradeNo)).status, "TRADE_CLOSED");
    const show = await client.json<{ record: { params: { timeline: string } } }>(`/admin/api/resources/Order/records/${order.id}/show`);
    const closed = JSON.parse(show.body.record.params.timeline).find((e: { type: string }) => e.type === "closed");
    assert.equal(closed.actor, operator.email);
    assert.match(closed.reason, /^买家要求取消 \/ buyer asked — /);
  });

  test("is not offered, and does nothing, on a paid order", async () => {
    const { order, payUrl } = await stack.unpaidOrder(4_200);
    await stack.payAtSandbox(order.outTradeNo, payUrl);
    await command(`Order/records/${order.id}/checkPayment`);
    const show = await client.json<{ record: { recordActions: { name: string }[] } }>(`/admin/api/resources/Order/records/${order.id}/show`);
    assert.ok(!show.body.record.recordActions.some((a) => a.name === "closeOrder"));
    const r = await command(`Order/records/${order.id}/closeOrder`);
    assert.equal(r.body.record.params.status, "PAID");
  });
});

describe("Re-drive a notify", () => {
  test("puts a failed inbox row back on the queue and records who did it", async () => {
    const { order } = await stack.unpaidOrder(4_200);
    const row = await admin.prisma.paymentNotification.create({
      data: { rawBody: "notify_id=x", verified: true, outcome: "failed", lastError: "database unreachable", outTradeNo: order.outTradeNo, orderId: order.id },
    });
    const r = await command(`PaymentNotification/records/${row.id}/redrive`);
    assert.equal(r.body.notice.type, "success");
    assert.equal(r.body.record.params.outcome, "pending");
    const event = await admin.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, type: "notification_redriven" } });
    assert.equal(event.actor, operator.email);
    assert.equal(event.notificationId, row.id);
    const waiting = await stack.api.queues.notifyApply.getJobs(["waiting", "prioritized"]);
    assert.ok(waiting.some((j) => j.data.notificationId === row.id), "job enqueued");
  });

  test("an applied notification is refused with a reason", async () => {
    const row = await admin.prisma.paymentNotification.create({ data: { rawBody: "x", verified: true, outcome: "applied" } });
    const r = await command(`PaymentNotification/records/${row.id}/redrive`);
    assert.equal(r.body.notice.type, "error");
    assert.match(r.body.notice.options.summary, /已拒绝 — 通知已处理（已应用）/);
  });
});
