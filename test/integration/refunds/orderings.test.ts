// Whichever of the refund call's answer, the refund query and Alipay's refund notify arrives first
// moves the order, once; the others change nothing. Plus the local gateway's Alipay-like refund
// behaviours: async refunds, a query answer without refund_status, business errors.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Refund } from "@prisma/client";
import { buildSignedNotify } from "../../../sandbox/notify-params.ts";
import { requestRefund, type RefundDeps } from "../../../core/refunds/index.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";
import { gatewayRefunds, paidOrder, waitForRefund } from "./helpers.ts";

let stack: Stack;
let deps: RefundDeps;
before(async () => {
  stack = await startStack({
    name: "refund-orderings",
    worker: { ticks: true },
    env: { RECONCILE_INTERVAL_SECONDS: "1", REFUND_QUERY_DELAY_SECONDS: "1", ALIPAY_TIMEOUT_MS: "800" },
  });
  deps = stack.worker!.refundDeps;
});
after(async () => {
  await stack?.close();
});

const refund = (orderId: number, amountFen: number | null) => requestRefund(deps, { orderId, amountFen, reason: "test", source: "staff", actor: "ops@example.com" });

/** The end state every ordering must reach: one refund, one order event for it, notifies applied or duplicate. */
async function expectSettledOnce(order: { id: number; outTradeNo: string }, r: Refund, status: "PARTIALLY_REFUNDED" | "REFUNDED", refundedFen: number) {
  await waitForRefund(stack, r.id, "SUCCEEDED", 30_000);
  const o = await stack.waitForStatus(order.id, status);
  assert.equal(o.refundedFen, refundedFen);
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 1);
  const type = status === "REFUNDED" ? "refunded" : "partially_refunded";
  await waitFor("the refund notify to be processed", async () =>
    (await stack.prisma.paymentNotification.count({ where: { orderId: order.id, refundFen: { not: null }, outcome: { in: ["applied", "duplicate"] } } })) >= 1);
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type } }), 1, "one order event for the refund");
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "refund.succeeded" } }), 1);
}

test("notify AFTER the call's answer: the answer settles it, the notify is a duplicate", async () => {
  const order = await paidOrder(stack, 6000);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "delayNotify", ms: 1500, times: 5 }] });
  const r = await refund(order.id, 2000);
  await expectSettledOnce(order, r, "PARTIALLY_REFUNDED", 2000);
  assert.equal((await stack.prisma.refund.findUniqueOrThrow({ where: { id: r.id } })).settledBy, "call");
  await waitFor("the delayed notify recorded as duplicate", async () =>
    (await stack.prisma.paymentNotification.count({ where: { orderId: order.id, refundFen: 2000, outcome: "duplicate" } })) === 1);
});

test("notify BEFORE the call's answer (the answer is an ACQ.SYSTEM_ERROR): the notify settles it, the replayed call changes nothing", async () => {
  const order = await paidOrder(stack, 6000);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "gatewayError", error: "ACQ.SYSTEM_ERROR", methods: ["alipay.trade.refund"], commit: true, times: 1 }] });
  const r = await refund(order.id, null);
  await expectSettledOnce(order, r, "REFUNDED", 6000);
});

test("WITHOUT the call's answer (it never comes, notifies only): the notify settles it", async () => {
  const order = await paidOrder(stack, 6000);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "hang", methods: ["alipay.trade.refund", "alipay.trade.fastpay.refund.query"], commit: true }] });
  const r = await refund(order.id, 1000);
  await expectSettledOnce(order, r, "PARTIALLY_REFUNDED", 1000);
  assert.equal((await stack.prisma.refund.findUniqueOrThrow({ where: { id: r.id } })).settledBy, "notify");
  await stack.control.clearFaults(order.outTradeNo);
});

test("a refund notify for an order never recorded as paid records the payment and the refund, flagged for review", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(3000);
  const { order } = await stack.placeOrder(buyer, [course.id]);
  const body = buildSignedNotify(
    { outTradeNo: order.outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen: 3000, status: "TRADE_CLOSED" },
    {},
    { privateKey: stack.alipayPrivateKey, refund: { outRequestNo: "console_refund_1", refundFen: 3000 } },
  );
  assert.equal(body.trade_status, "TRADE_CLOSED");
  assert.equal(body.receipt_amount, undefined, "a full-refund notify carries no receipt amount");
  assert.equal(body.fund_bill_list, undefined, "nor a fund_bill_list");
  assert.equal(body.out_biz_no, "console_refund_1");
  assert.equal((await stack.postNotify(body)).text, "success");
  const o = await stack.waitForStatus(order.id, "REFUNDED");
  assert.equal(o.needsReview, true);
  assert.ok(o.paidAt, "the payment is on the books");
  assert.equal(o.refundedFen, 3000);
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "anomaly.refund_without_payment" } }), 1);
});

test("async refund: REFUND_PROCESSING for a while, then succeeded (query or notify), one refund", async () => {
  const order = await paidOrder(stack, 5000);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "asyncRefund", ms: 2500, times: 1 }] });
  const r = await refund(order.id, 1500);
  await waitFor("the refund to be seen processing", async () => {
    const row = await stack.prisma.refund.findUniqueOrThrow({ where: { id: r.id } });
    return row.state === "SUBMITTED" && row.attempts >= 1;
  });
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "PAID", "not refunded while processing");
  await expectSettledOnce(order, r, "PARTIALLY_REFUNDED", 1500);
});

test("a refund query answering success without refund_status settles the refund as SUCCEEDED (never sent twice)", async () => {
  const order = await paidOrder(stack, 5000);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [
    { kind: "hang", methods: ["alipay.trade.refund"], commit: true, times: 10 },
    { kind: "dropNotify", times: 100 },
    { kind: "refundQueryNoStatus" },
  ] });
  const r = await refund(order.id, 2500);
  const done = await waitForRefund(stack, r.id, "SUCCEEDED", 30_000);
  assert.equal(done.settledBy, "query");
  assert.equal((done.lastQueryAnswer as { statusImplied?: boolean }).statusImplied, true);
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 1);
  await stack.control.clearFaults(order.outTradeNo);
});

test("seller balance not enough: the refund ends FAILED with the reason in Chinese and English; nothing refunded", async () => {
  const order = await paidOrder(stack, 5000);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "refundError", error: "ACQ.SELLER_BALANCE_NOT_ENOUGH", times: 1 }] });
  const r = await refund(order.id, 1000);
  const failed = await waitForRefund(stack, r.id, "FAILED");
  assert.equal(failed.failureCode, "ACQ.SELLER_BALANCE_NOT_ENOUGH");
  const ev = await stack.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, type: "refund.failed" } });
  const p = ev.payload as { zh: string; en: string };
  assert.match(p.zh, /余额不足/);
  assert.match(p.en, /balance is not enough/);
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 0);
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "PAID");
  // The failed amount is free again: a new refund goes through.
  const again = await refund(order.id, 1000);
  await waitForRefund(stack, again.id, "SUCCEEDED");
});
