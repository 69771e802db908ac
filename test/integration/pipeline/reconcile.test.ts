// Reconciliation: node-cron ticks → one sweep per slot → rate-limited alipay.trade.query checks.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({
    name: "reconcile",
    worker: { ticks: true },
    env: { RECONCILE_INTERVAL_SECONDS: "1", RECONCILE_FIRST_CHECK_SECONDS: "1", RECONCILE_GRACE_MINUTES: "10", ALIPAY_QUERY_QPS: "50" },
  });
});
after(async () => {
  await stack?.close();
});

async function newOrder(priceFen = 2000) {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(priceFen);
  return stack.placeOrder(buyer, [course.id]);
}

/** Pretend time passed: the order expired `minutesAgo` minutes ago and is due for a check now. */
async function expire(orderId: number, minutesAgo: number) {
  const now = Date.now();
  await stack.prisma.order.update({ where: { id: orderId }, data: { expiresAt: new Date(now - minutesAgo * 60_000), nextCheckAt: new Date(now) } });
}

test("every notify dropped: reconciliation finds the payment and marks the order PAID", async () => {
  const { order, payUrl } = await newOrder();
  await stack.control.openCashier(payUrl);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 100 }] });
  await stack.control.pay(order.outTradeNo);
  const paid = await stack.waitForStatus(order.id, "PAID");
  assert.ok(paid.tradeNo);
  const event = await stack.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, toStatus: "PAID" } });
  assert.equal(event.source, "reconcile");
  assert.equal(event.notificationId, null);
  const notifies = await stack.control.notifies(order.outTradeNo);
  assert.ok(notifies[0]!.attempts.every((a) => a.faults.includes("dropped")), "not a single notify reached us");
  assert.equal(await stack.prisma.paymentNotification.count({ where: { orderId: order.id, kind: "notify" } }), 0);
});

test("abandoned order past expiry (buyer at the cashier, never paid): closed at the sandbox first, then locally", async () => {
  const { order, payUrl } = await newOrder();
  await stack.control.openCashier(payUrl);
  await expire(order.id, 1);
  const closed = await stack.waitForStatus(order.id, "CLOSED");
  assert.ok(closed.closedAt);
  assert.equal(closed.nextCheckAt, null);
  const trade = await stack.control.getTrade(order.outTradeNo);
  assert.equal(trade.status, "TRADE_CLOSED");
  assert.equal(trade.closeReason, "closed_by_merchant", "closed by our alipay.trade.close, not by Alipay's own expiry");
  const event = await stack.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, toStatus: "CLOSED" } });
  assert.equal(event.source, "expiry");
});

test("abandoned order that never reached the cashier: CLOSED once expiry + grace has passed", async () => {
  const { order } = await newOrder();
  await expire(order.id, 5); // within the 10-minute grace: not yet
  await waitFor("a check within the grace period", async () => (await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).checkAttempts >= 1);
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "UNPAID");
  await expire(order.id, 11);
  await stack.waitForStatus(order.id, "CLOSED");
  const event = await stack.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, toStatus: "CLOSED" } });
  assert.match(JSON.stringify(event.payload), /never created/);
});

test("query answering 20000 isp.unknow-error: the order is untouched and checked again later", async () => {
  const { order, payUrl } = await newOrder();
  await stack.control.openCashier(payUrl);
  await stack.control.addFaults({
    outTradeNo: order.outTradeNo,
    faults: [{ kind: "dropNotify", times: 100 }, { kind: "gatewayError", error: "isp.unknow-error", methods: ["alipay.trade.query"], times: 1000 }],
  });
  await stack.control.pay(order.outTradeNo); // paid at Alipay, but neither notify nor query tells us
  const checked = await waitFor("two inconclusive checks", async () => {
    const o = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
    return o.checkAttempts >= 2 ? o : null;
  });
  assert.equal(checked.status, "UNPAID", "an unknown answer never changes the order");
  assert.ok(checked.nextCheckAt && checked.nextCheckAt.getTime() > Date.now() - 1000, "another check is scheduled");
  assert.deepEqual((await stack.prisma.orderEvent.findMany({ where: { orderId: order.id } })).map((e) => e.type), ["created"]);

  await stack.control.clearFaults(order.outTradeNo);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 100 }] });
  await stack.waitForStatus(order.id, "PAID");
});
