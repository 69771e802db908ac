// The commands the admin calls: audited checks and closes, re-drive rules.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { checkPayment, closeOrder, CommandRefusedError, redriveNotification } from "../../../core/orders/index.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "staff" });
});
after(async () => {
  await stack?.close();
});

async function openOrder() {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(1500);
  const placed = await stack.placeOrder(buyer, [course.id]);
  await stack.control.openCashier(placed.payUrl);
  return placed.order;
}

test("a staff check that changes nothing still leaves an event with the actor", async () => {
  const order = await openOrder();
  const r = await checkPayment(stack.worker!.deps, { orderId: order.id, source: "staff", actor: "staff:ann@test" });
  assert.equal(r.outcome, "unchanged");
  assert.equal(r.event?.type, "payment_checked");
  assert.equal(r.event?.actor, "staff:ann@test");
  assert.equal(r.event?.source, "staff");
  assert.equal(r.order.checkAttempts, 1);
});

test("a staff check while Alipay answers ACQ.SYSTEM_ERROR: unknown, audited, untouched", async () => {
  const order = await openOrder();
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "gatewayError", error: "ACQ.SYSTEM_ERROR", methods: ["alipay.trade.query"], times: 1 }] });
  const r = await checkPayment(stack.worker!.deps, { orderId: order.id, source: "staff", actor: "staff:ann@test" });
  assert.equal(r.outcome, "unknown");
  assert.equal(r.order.status, "UNPAID");
  assert.deepEqual((r.event?.payload as { result?: string }).result, "unknown");
});

test("a staff check finds a payment whose notifies were lost", async () => {
  const order = await openOrder();
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 100 }] });
  await stack.control.pay(order.outTradeNo);
  const r = await checkPayment(stack.worker!.deps, { orderId: order.id, source: "staff", actor: "staff:ann@test" });
  assert.equal(r.outcome, "paid");
  assert.equal(r.event?.toStatus, "PAID");
  assert.equal(r.event?.actor, "staff:ann@test");
});

test("staff close: closed at Alipay first; on a paid trade it becomes PAID instead", async () => {
  const open = await openOrder();
  const closed = await closeOrder(stack.worker!.deps, { orderId: open.id, source: "staff", actor: "staff:bo@test", reason: "duplicate order" });
  assert.equal(closed.outcome, "closed");
  assert.equal((await stack.control.getTrade(open.outTradeNo)).status, "TRADE_CLOSED");
  assert.deepEqual((closed.event?.payload as { requestedReason?: string }).requestedReason, "duplicate order");

  const paidThere = await openOrder();
  await stack.control.addFaults({ outTradeNo: paidThere.outTradeNo, faults: [{ kind: "dropNotify", times: 100 }] });
  await stack.control.pay(paidThere.outTradeNo);
  const r = await closeOrder(stack.worker!.deps, { orderId: paidThere.id, source: "staff", actor: "staff:bo@test" });
  assert.equal(r.outcome, "paid");
  assert.equal(r.order.status, "PAID");
});

test("re-driving an applied or unverified notification is refused", async () => {
  const order = await openOrder();
  await stack.control.pay(order.outTradeNo);
  await stack.waitForStatus(order.id, "PAID");
  const row = await waitFor("applied row", () => stack.prisma.paymentNotification.findFirst({ where: { orderId: order.id, outcome: "applied" } }));
  await assert.rejects(redriveNotification(stack.worker!.deps, { notificationId: row.id, actor: "staff:x" }), CommandRefusedError);
  const forged = await stack.postNotify("out_trade_no=x&sign=AAAA");
  assert.equal(forged.status, 400);
  const rejected = await stack.prisma.paymentNotification.findFirstOrThrow({ where: { outTradeNo: "x" } });
  await assert.rejects(redriveNotification(stack.worker!.deps, { notificationId: rejected.id, actor: "staff:x" }), CommandRefusedError);
});
