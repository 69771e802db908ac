// Buyers ask for refunds through the API: inside REFUND_WINDOW_DAYS the request waits for staff;
// outside it, a clear refusal. "My orders" shows refunded amounts and states.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startStack, type Stack } from "../../support/index.ts";
import { paidOrder } from "./helpers.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "buyer-refunds", env: { REFUND_WINDOW_DAYS: "7" } });
});
after(async () => {
  await stack?.close();
});

const ask = (token: string, orderId: number, body: unknown) =>
  stack.fetchApi(`/orders/${orderId}/refund-requests`, { method: "POST", token, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("inside the window: the request is recorded for staff (AWAITING_APPROVAL) and shows on the buyer's orders", async () => {
  const order = await paidOrder(stack, 4900);
  const r = await ask(order.buyer.token, order.id, { reason: "不想学了" });
  assert.equal(r.status, 201, await r.clone().text());
  const body = (await r.json()) as { refund: { state: string; amountFen: number; source: string }; order: { refunds: { state: string }[] } };
  assert.equal(body.refund.state, "AWAITING_APPROVAL");
  assert.equal(body.refund.source, "buyer");
  assert.equal(body.refund.amountFen, 4900);
  const row = await stack.prisma.refund.findFirstOrThrow({ where: { orderId: order.id } });
  assert.equal(row.requestedBy, `buyer:${order.buyer.id}`);
  assert.equal(row.state, "AWAITING_APPROVAL");
  // A second request while one waits: refused.
  const again = await ask(order.buyer.token, order.id, { reason: "again" });
  assert.equal(again.status, 409);
  const list = (await (await stack.fetchApi("/orders", { token: order.buyer.token })).json()) as { orders: { id: number; refunds: { state: string }[]; refunded: string }[] };
  const mine = list.orders.find((o) => o.id === order.id)!;
  assert.equal(mine.refunds[0]!.state, "AWAITING_APPROVAL");
  assert.equal(mine.refunded, "0.00");
});

test("outside the window: a clear refusal, nothing recorded", async () => {
  const order = await paidOrder(stack, 4900);
  await stack.prisma.order.update({ where: { id: order.id }, data: { paidAt: new Date(Date.now() - 8 * 86_400_000) } });
  const r = await ask(order.buyer.token, order.id, { reason: "too late?" });
  assert.equal(r.status, 403);
  assert.match(((await r.json()) as { error: string }).error, /refund window/);
  assert.equal(await stack.prisma.refund.count({ where: { orderId: order.id } }), 0);
});

test("another buyer's order is 404; a missing reason is 400; an unpaid order is 409", async () => {
  const order = await paidOrder(stack, 1000);
  const other = await stack.newBuyer();
  assert.equal((await ask(other.token, order.id, { reason: "mine?" })).status, 404);
  assert.equal((await ask(order.buyer.token, order.id, {})).status, 400);
  const course = await stack.newCourse(100);
  const { order: unpaid } = await stack.placeOrder(order.buyer, [course.id]);
  assert.equal((await ask(order.buyer.token, unpaid.id, { reason: "x" })).status, 409);
});
