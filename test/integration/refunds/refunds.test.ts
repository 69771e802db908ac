// Refunds end to end against real PostgreSQL, Redis, the worker and the local gateway (issue 11).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { requestRefund, RefundRefusedError, type RefundDeps } from "../../../core/refunds/index.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";
import { gatewayRefunds, paidOrder, waitForRefund } from "./helpers.ts";

let stack: Stack;
let deps: RefundDeps;
before(async () => {
  stack = await startStack({
    name: "refunds",
    worker: { ticks: true },
    env: { RECONCILE_INTERVAL_SECONDS: "1", REFUND_QUERY_DELAY_SECONDS: "1", ALIPAY_TIMEOUT_MS: "800", REFUND_APPROVAL_ABOVE_YUAN: "500" },
  });
  deps = stack.worker!.refundDeps;
});
after(async () => {
  await stack?.close();
});

const staff = (actor: string, orderId: number, amountFen: number | null, reason = "课程重复购买") =>
  requestRefund(deps, { orderId, amountFen, reason, source: "staff", actor });

test("two operators refund the same order at the same moment → one refund at the gateway", async () => {
  const order = await paidOrder(stack, 9900);
  const results = await Promise.allSettled([staff("a@example.com", order.id, null), staff("b@example.com", order.id, null)]);
  const ok = results.filter((r) => r.status === "fulfilled");
  const refused = results.filter((r) => r.status === "rejected");
  assert.equal(ok.length, 1, "exactly one refund is created");
  assert.equal(refused.length, 1);
  assert.ok((refused[0] as PromiseRejectedResult).reason instanceof RefundRefusedError);
  const refund = (ok[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof staff>>>).value;
  await waitForRefund(stack, refund.id, "SUCCEEDED");
  await stack.waitForStatus(order.id, "REFUNDED");
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 1);
  assert.equal(await stack.prisma.refund.count({ where: { orderId: order.id } }), 1);
});

test("many concurrent partial refunds never exceed the order total (database guard)", async () => {
  const order = await paidOrder(stack, 10_000);
  const attempts = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => staff(`op${i}@example.com`, order.id, 3000)));
  assert.equal(attempts.filter((r) => r.status === "fulfilled").length, 3, "3 × 30.00 fit in 100.00, a 4th does not");
  const rows = await stack.prisma.refund.findMany({ where: { orderId: order.id } });
  assert.ok(rows.reduce((s, r) => s + r.amountFen, 0) <= order.totalFen);
  for (const r of rows) await waitForRefund(stack, r.id, "SUCCEEDED");
  const o = await stack.waitForStatus(order.id, "PARTIALLY_REFUNDED");
  assert.equal(o.refundedFen, 9000);
});

test("partial + partial + rest → REFUNDED; one more is refused with a clear message and nothing is sent", async () => {
  const order = await paidOrder(stack, 9900);
  const a = await staff("a@example.com", order.id, 1000);
  await waitForRefund(stack, a.id, "SUCCEEDED");
  const b = await staff("a@example.com", order.id, 2000);
  await waitForRefund(stack, b.id, "SUCCEEDED");
  const afterTwo = await stack.waitForStatus(order.id, "PARTIALLY_REFUNDED");
  assert.equal(afterTwo.refundedFen, 3000);
  const rest = await staff("a@example.com", order.id, null);
  assert.equal(rest.amountFen, 6900, "the default amount is everything not yet refunded");
  await waitForRefund(stack, rest.id, "SUCCEEDED");
  const done = await stack.waitForStatus(order.id, "REFUNDED");
  assert.equal(done.refundedFen, 9900);
  await assert.rejects(staff("a@example.com", order.id, 1), (e: unknown) => {
    assert.ok(e instanceof RefundRefusedError);
    assert.match(e.message, /paid or partially refunded/);
    assert.match(e.zh, /退款/);
    return true;
  });
  await assert.rejects(staff("a@example.com", order.id, null), RefundRefusedError);
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 3);
  assert.equal(await stack.prisma.refund.count({ where: { orderId: order.id } }), 3);
  // One order transition event per refund.
  const events = await stack.prisma.orderEvent.findMany({ where: { orderId: order.id, type: { in: ["partially_refunded", "refunded"] } } });
  assert.equal(events.length, 3);
});

test("the gateway applies the refund but the answer times out → exactly one refund, settled by the refund query", async () => {
  const order = await paidOrder(stack, 8800);
  // The refund is made at Alipay, the merchant never hears back; Alipay's refund notifies are lost too,
  // so only the call's retries (same out_request_no: a replay) and the refund query can tell.
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [
    { kind: "hang", methods: ["alipay.trade.refund"], commit: true, times: 1 },
    { kind: "dropNotify", times: 50 },
  ] });
  const r = await staff("a@example.com", order.id, 3000);
  const settled = await waitForRefund(stack, r.id, "SUCCEEDED", 30_000);
  assert.equal(settled.settledBy, "query");
  const refunds = await gatewayRefunds(stack, order.outTradeNo);
  assert.equal(refunds.length, 1, "exactly one refund at the gateway");
  assert.equal(refunds[0]!.outRequestNo, r.outRequestNo);
  const o = await stack.waitForStatus(order.id, "PARTIALLY_REFUNDED");
  assert.equal(o.refundedFen, 3000);
  await stack.control.clearFaults(order.outTradeNo);
});

test("SYSTEM_ERROR after the refund was applied → one refund, order refunded once", async () => {
  const order = await paidOrder(stack, 5000);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "gatewayError", error: "ACQ.SYSTEM_ERROR", methods: ["alipay.trade.refund"], commit: true, times: 1 }] });
  const r = await staff("a@example.com", order.id, null);
  await waitForRefund(stack, r.id, "SUCCEEDED", 30_000);
  await stack.waitForStatus(order.id, "REFUNDED");
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 1);
  await waitFor("the refund notify to be processed", async () =>
    (await stack.prisma.paymentNotification.count({ where: { orderId: order.id, refundFen: 5000, outcome: { in: ["applied", "duplicate"] } } })) >= 1);
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "refunded" } }), 1);
});

test("timeout after the refund was applied, then a business error on the resend (same out_request_no) → never FAILED: one refund, settled by the query", async () => {
  const order = await paidOrder(stack, 7000);
  // Call 1: Alipay applies the refund, the answer never comes (timeout). Call 2 (the job's retry, the
  // same out_request_no): ACQ.TRADE_STATUS_ERROR. Queries hang until we have seen that answer, so
  // the order of events is fixed. Notifies are lost: only the query can tell.
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [
    { kind: "hang", methods: ["alipay.trade.refund"], commit: true, times: 1 },
    { kind: "refundError", error: "ACQ.TRADE_STATUS_ERROR", onReplay: true, times: 1 },
    { kind: "hang", methods: ["alipay.trade.fastpay.refund.query"] },
    { kind: "dropNotify", times: 50 },
  ] });
  const r = await staff("a@example.com", order.id, 2000);
  await waitFor("the resend's business error seen", async () => {
    const row = await stack.prisma.refund.findUniqueOrThrow({ where: { id: r.id } });
    return (row.lastCallAnswer as { subCode?: string } | null)?.subCode === "ACQ.TRADE_STATUS_ERROR";
  });
  const meanwhile = await stack.prisma.refund.findUniqueOrThrow({ where: { id: r.id } });
  assert.equal(meanwhile.state, "UNKNOWN", "a business error on a resend is not final");
  assert.equal(meanwhile.unsettledCalls, 2);
  assert.equal(await staff("b@example.com", order.id, 5001).catch((e: Error) => e.name), "RefundRefusedError", "its amount stays reserved: no second refund over it");
  await stack.control.clearFaults(order.outTradeNo);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 50 }] });
  const settled = await waitForRefund(stack, r.id, "SUCCEEDED", 30_000);
  assert.equal(settled.settledBy, "query");
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "refund.failed" } }), 0, "never FAILED");
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 1, "exactly one refund at the gateway");
  const o = await stack.waitForStatus(order.id, "PARTIALLY_REFUNDED");
  assert.equal(o.refundedFen, 2000);
  await stack.control.clearFaults(order.outTradeNo);
});

test("a persistent business error cannot loop: error on a resend → UNKNOWN; the query finds no refund → sent again; that first call's error → FAILED", async () => {
  const order = await paidOrder(stack, 7000);
  // Call 1 times out WITHOUT Alipay applying it; every call after that gets ACQ.SELLER_BALANCE_NOT_ENOUGH.
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [
    { kind: "hang", methods: ["alipay.trade.refund"], times: 1 },
    { kind: "refundError", error: "ACQ.SELLER_BALANCE_NOT_ENOUGH", times: 10 },
  ] });
  const r = await staff("a@example.com", order.id, 1500);
  const failed = await waitForRefund(stack, r.id, "FAILED", 60_000);
  assert.equal(failed.failureCode, "ACQ.SELLER_BALANCE_NOT_ENOUGH");
  assert.equal(failed.unsettledCalls, 1, "final on the first call since the query found no refund");
  assert.ok(failed.attempts >= 2, `calls: ${failed.attempts}`);
  assert.ok(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "refund.requeued" } }) >= 1, "the query said: no refund data");
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 0);
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "PAID");
  await stack.control.clearFaults(order.outTradeNo);
});
