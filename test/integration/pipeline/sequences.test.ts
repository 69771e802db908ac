// Several notifications for one trade, in and out of order: the final state is right, each change once.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { OrderStatus } from "@prisma/client";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { alipayFromConfig } from "../../../core/orders/index.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "sequences" });
});
after(async () => {
  await stack?.close();
});

async function newOrder(priceFen = 3000) {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(priceFen);
  return stack.placeOrder(buyer, [course.id]);
}

function signed(outTradeNo: string, totalFen: number, overrides: Record<string, string | null> = {}, tradeNo = "2026010122001400000000000042", event?: "payment" | "closed") {
  return buildSignedNotify(
    { outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen, tradeNo },
    overrides,
    { privateKey: stack.alipayPrivateKey, event },
  );
}

async function processed(orderId: number, n: number) {
  return waitFor(`${n} notifies of order ${orderId} processed`, async () => {
    const rows = await stack.prisma.paymentNotification.findMany({ where: { orderId, kind: "notify" }, orderBy: { id: "asc" } });
    return rows.length === n && rows.every((r) => r.outcome !== "pending") ? rows : null;
  });
}

async function transitions(orderId: number): Promise<string[]> {
  const events = await stack.prisma.orderEvent.findMany({ where: { orderId, fromStatus: { not: null } }, orderBy: { id: "asc" } });
  return events.filter((e) => e.fromStatus !== e.toStatus).map((e) => `${e.fromStatus}->${e.toStatus}`);
}

async function statusOf(orderId: number): Promise<OrderStatus> {
  return (await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).status;
}

test("TRADE_FINISHED after TRADE_SUCCESS: PAID once, the second is a duplicate", async () => {
  const { order } = await newOrder();
  assert.equal((await stack.postNotify(signed(order.outTradeNo, 3000, { trade_status: "TRADE_SUCCESS" }))).text, "success");
  await stack.waitForStatus(order.id, "PAID");
  assert.equal((await stack.postNotify(signed(order.outTradeNo, 3000, { trade_status: "TRADE_FINISHED" }))).text, "success");
  const rows = await processed(order.id, 2);
  assert.deepEqual(rows.map((r) => r.outcome), ["applied", "duplicate"]);
  assert.equal(await statusOf(order.id), "PAID");
  assert.deepEqual(await transitions(order.id), ["UNPAID->PAID"]);
});

test("TRADE_CLOSED for an unpaid order: CLOSED", async () => {
  const { order } = await newOrder();
  const closed = signed(order.outTradeNo, 3000, { trade_status: "TRADE_CLOSED" }, undefined, "closed");
  assert.equal((await stack.postNotify(closed)).text, "success");
  await stack.waitForStatus(order.id, "CLOSED");
  assert.deepEqual(await transitions(order.id), ["UNPAID->CLOSED"]);
});

test("out of order: TRADE_FINISHED before TRADE_SUCCESS, and TRADE_CLOSED arriving after the payment", async () => {
  const { order } = await newOrder();
  await stack.postNotify(signed(order.outTradeNo, 3000, { trade_status: "TRADE_FINISHED" }));
  await stack.waitForStatus(order.id, "PAID");
  await stack.postNotify(signed(order.outTradeNo, 3000, { trade_status: "TRADE_SUCCESS" }));
  // A stale unpaid-timeout close arriving after the payment must not un-pay the order.
  await stack.postNotify(signed(order.outTradeNo, 3000, { trade_status: "TRADE_CLOSED" }, undefined, "closed"));
  const rows = await processed(order.id, 3);
  assert.deepEqual(rows.map((r) => r.outcome), ["applied", "duplicate", "anomaly"]);
  assert.equal(await statusOf(order.id), "PAID");
  assert.deepEqual(await transitions(order.id), ["UNPAID->PAID"]);
  const o = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(o.needsReview, true, "a close contradicting a payment is shown to staff");
});

test("sandbox reorders payment and partial-refund notifies (refund first): PARTIALLY_REFUNDED, each change once", async () => {
  const { order, payUrl } = await newOrder(10_000);
  await stack.control.openCashier(payUrl);
  // Hold the next two first deliveries of this trade and send them newest first.
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "reorderNotify", count: 2, maxHoldMs: 10_000 }] });
  await stack.control.pay(order.outTradeNo);
  const alipay = alipayFromConfig(stack.config);
  const refund = await alipay.refund({ outTradeNo: order.outTradeNo, refundFen: 2500, outRequestNo: "r1" });
  assert.equal(refund.kind, "ok", JSON.stringify(refund));
  const notifies = await stack.control.waitForNotifies(order.outTradeNo, (n) => n.length === 2 && n.every((r) => r.state === "delivered"));
  // Delivered newest first: the refund notify reached us before the payment notify.
  const firstDelivered = [...notifies].sort((a, b) => a.attempts[0]!.at - b.attempts[0]!.at)[0]!;
  assert.equal(firstDelivered.event, "partial_refund");
  const rows = await processed(order.id, 2);
  assert.deepEqual(rows.map((r) => r.outcome), ["applied", "duplicate"]);
  // The refund row follows the payment it reveals, in its own transaction after the inbox row is
  // marked (core/refunds/notify.ts): wait for it rather than read the moment the rows are processed.
  await stack.waitForStatus(order.id, "PARTIALLY_REFUNDED");
  const o = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(o.status, "PARTIALLY_REFUNDED");
  assert.equal(o.refundedFen, 2500);
  // The refund notify first records the payment (flagged), then the refund as a refund row of its own
  // (refunded_fen is the sum of refund rows: docs/operations.md "Refunds").
  assert.deepEqual(await transitions(order.id), ["UNPAID->PAID", "PAID->PARTIALLY_REFUNDED"]);
  assert.deepEqual((await stack.prisma.refund.findMany({ where: { orderId: order.id } })).map((r) => [r.source, r.amountFen, r.state, r.outRequestNo]),
    [["external", 2500, "SUCCEEDED", "r1"]]);
});
