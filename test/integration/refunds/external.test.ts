// One meaning for order.refunded_fen: the sum of SUCCEEDED refund rows. A refund coursepay did not make
// (Alipay's merchant console), seen through Alipay's cumulative refund_fee, becomes a refund row of its
// own (source external), so every fen has exactly one row and one state — whatever order the call's
// answer, the refund query and the refund notifies (with or without out_biz_no) arrive in.
// Real PostgreSQL, Redis, worker and local gateway.
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
    name: "refund-external",
    worker: { ticks: true },
    env: { RECONCILE_INTERVAL_SECONDS: "1", REFUND_QUERY_DELAY_SECONDS: "1", ALIPAY_TIMEOUT_MS: "800" },
  });
  deps = stack.worker!.refundDeps;
});
after(async () => {
  await stack?.close();
});

const ours = (orderId: number, amountFen: number | null) => requestRefund(deps, { orderId, amountFen, reason: "test", source: "staff", actor: "ops@example.com" });

/** The invariant: refunded_fen is the sum of SUCCEEDED refund rows, never above the total. */
async function expectBooks(orderId: number, status: string, refundedFen: number): Promise<Refund[]> {
  const o = await stack.waitForStatus(orderId, status as never);
  await waitFor(`order ${orderId} refunded ${refundedFen}`, async () =>
    (await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).refundedFen === refundedFen);
  const rows = await stack.prisma.refund.findMany({ where: { orderId }, orderBy: { id: "asc" } });
  const fresh = await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  const succeeded = rows.filter((r) => r.state === "SUCCEEDED").reduce((s, r) => s + r.amountFen, 0);
  assert.equal(fresh.status, status);
  assert.equal(fresh.refundedFen, succeeded, "refunded_fen == sum of SUCCEEDED refund rows");
  assert.ok(fresh.refundedFen <= o.totalFen, "never above the total");
  return rows;
}

/** Every inbox row of the order processed (none pending or failed). */
async function notifiesSettled(orderId: number, count: number): Promise<void> {
  await waitFor(`${count} refund notifies of order ${orderId} processed`, async () =>
    (await stack.prisma.paymentNotification.count({ where: { orderId, refundFen: { not: null }, outcome: { in: ["applied", "duplicate"] } } })) >= count,
  { timeoutMs: 20_000 });
}

/** A refund notify as the gateway would send it for the trade as it is now, optionally without out_biz_no. */
async function craftedRefundNotify(outTradeNo: string, refund: { outRequestNo: string; refundFen: number }, withoutOutBizNo: boolean) {
  const trade = await stack.control.getTrade(outTradeNo);
  return buildSignedNotify(trade, withoutOutBizNo ? { out_biz_no: null } : {}, { privateKey: stack.alipayPrivateKey, refund });
}

async function postAndWait(body: Record<string, string>): Promise<string> {
  assert.equal((await stack.postNotify(body)).text, "success");
  let outcome = "";
  await waitFor(`notify ${body.notify_id} processed`, async () => {
    const row = await stack.prisma.paymentNotification.findFirst({ where: { notifyId: body.notify_id } });
    outcome = row?.outcome ?? "";
    return outcome !== "" && outcome !== "pending" && outcome !== "failed";
  });
  return outcome;
}

test("a console refund while ours is in flight: recorded as an external row; ours settles; the order is PARTIALLY_REFUNDED at the sum, never counted twice", async () => {
  const order = await paidOrder(stack, 10_000);
  // Ours is accepted but processing at Alipay (REFUND_PROCESSING) for a while: in flight.
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "asyncRefund", ms: 6000, times: 1 }] });
  const r = await ours(order.id, 5000);
  await waitFor("ours accepted, processing", async () => {
    const row = await stack.prisma.refund.findUniqueOrThrow({ where: { id: r.id } });
    return row.state === "SUBMITTED" && row.attempts >= 1;
  });
  const consoleRefund = await stack.control.consoleRefund(order.outTradeNo, { refundFen: 1000 });
  await waitForRefund(stack, r.id, "SUCCEEDED", 30_000);
  const rows = await expectBooks(order.id, "PARTIALLY_REFUNDED", 6000);
  const external = rows.filter((x) => x.source === "external");
  assert.equal(external.length, 1, JSON.stringify(rows));
  assert.equal(external[0]!.amountFen, 1000);
  assert.equal(external[0]!.state, "SUCCEEDED");
  assert.equal(external[0]!.outRequestNo, consoleRefund.refund.outRequestNo, "named by the notify's out_biz_no (the bill matches on it)");
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 2);
  await notifiesSettled(order.id, 2);
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "refund.external" } }), 1);
  // Every notify applied, the books unchanged by them.
  await expectBooks(order.id, "PARTIALLY_REFUNDED", 6000);
});

test("ours settled by the call's answer, then its notify with out_biz_no, then again without: duplicates, nothing external", async () => {
  const order = await paidOrder(stack, 10_000);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 100 }] });
  const r = await ours(order.id, 3000);
  const done = await waitForRefund(stack, r.id, "SUCCEEDED");
  assert.equal(done.settledBy, "call");
  await expectBooks(order.id, "PARTIALLY_REFUNDED", 3000);
  const refund = { outRequestNo: r.outRequestNo, refundFen: 3000 };
  assert.equal(await postAndWait(await craftedRefundNotify(order.outTradeNo, refund, false)), "duplicate");
  assert.equal(await postAndWait(await craftedRefundNotify(order.outTradeNo, refund, true)), "duplicate");
  assert.equal(await postAndWait(await craftedRefundNotify(order.outTradeNo, refund, false)), "duplicate");
  const rows = await expectBooks(order.id, "PARTIALLY_REFUNDED", 3000);
  assert.equal(rows.length, 1, "no external row");
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).alipayRefundFeeFen, 0, "nothing beyond our books was reported");
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "partially_refunded" } }), 1);
  await stack.control.clearFaults(order.outTradeNo);
});

test("a notify WITHOUT out_biz_no while ours is in flight (call and query unanswered): explained by ours, nothing external; the query settles ours later", async () => {
  const order = await paidOrder(stack, 10_000);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [
    { kind: "hang", methods: ["alipay.trade.refund", "alipay.trade.fastpay.refund.query"], commit: true },
    { kind: "dropNotify", times: 100 },
  ] });
  const r = await ours(order.id, 4000);
  await waitFor("ours applied at the gateway, unanswered", async () => (await gatewayRefunds(stack, order.outTradeNo)).length === 1);
  await waitFor("ours in flight (unknown)", async () => (await stack.prisma.refund.findUniqueOrThrow({ where: { id: r.id } })).state !== "QUEUED");
  assert.equal(await postAndWait(await craftedRefundNotify(order.outTradeNo, { outRequestNo: r.outRequestNo, refundFen: 4000 }, true)), "applied");
  let o = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(o.status, "PAID", "ours is not settled by a notify that does not name it");
  assert.equal(o.refundedFen, 0);
  assert.equal(o.alipayRefundFeeFen, 4000);
  assert.equal(await stack.prisma.refund.count({ where: { orderId: order.id, source: "external" } }), 0, "ours in flight accounts for it");
  await stack.control.clearFaults(order.outTradeNo);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 100 }] });
  // Settled by the query, the call's replay or the gateway's retried notify naming it: whichever comes first.
  await waitForRefund(stack, r.id, "SUCCEEDED", 30_000);
  const rows = await expectBooks(order.id, "PARTIALLY_REFUNDED", 4000);
  assert.equal(rows.length, 1);
  o = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(o.alipayRefundFeeFen, 4000);
  await stack.control.clearFaults(order.outTradeNo);
});

test("the notify naming ours arrives before the call's answer, then the answer: one refund, one event, nothing external", async () => {
  const order = await paidOrder(stack, 10_000);
  // The gateway applies ours and notifies, but the call's answer is an ACQ.SYSTEM_ERROR (unknown); the replay answers later.
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "gatewayError", error: "ACQ.SYSTEM_ERROR", methods: ["alipay.trade.refund"], commit: true, times: 1 }] });
  const r = await ours(order.id, 2500);
  await waitForRefund(stack, r.id, "SUCCEEDED", 30_000);
  await notifiesSettled(order.id, 1);
  const rows = await expectBooks(order.id, "PARTIALLY_REFUNDED", 2500);
  assert.equal(rows.length, 1);
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "partially_refunded" } }), 1);
});

test("two console refunds: two external rows, the order at their sum; then ours for the rest → REFUNDED", async () => {
  const order = await paidOrder(stack, 10_000);
  await stack.control.consoleRefund(order.outTradeNo, { refundFen: 1000 });
  await expectBooks(order.id, "PARTIALLY_REFUNDED", 1000);
  await stack.control.consoleRefund(order.outTradeNo, { refundFen: 2000, withoutOutBizNo: true });
  const rows = await expectBooks(order.id, "PARTIALLY_REFUNDED", 3000);
  assert.deepEqual(rows.map((x) => [x.source, x.amountFen, x.state]), [["external", 1000, "SUCCEEDED"], ["external", 2000, "SUCCEEDED"]]);
  const rest = await ours(order.id, null);
  assert.equal(rest.amountFen, 7000, "what the console refunded is not offered again");
  await waitForRefund(stack, rest.id, "SUCCEEDED", 30_000);
  await expectBooks(order.id, "REFUNDED", 10_000);
  await notifiesSettled(order.id, 3);
  await expectBooks(order.id, "REFUNDED", 10_000);
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 3);
});

test("full refund via TRADE_CLOSED + refund_fee: a console refund of everything → one external row, REFUNDED", async () => {
  const order = await paidOrder(stack, 8000);
  await stack.control.consoleRefund(order.outTradeNo, { refundFen: 8000 });
  const rows = await expectBooks(order.id, "REFUNDED", 8000);
  assert.deepEqual(rows.map((x) => [x.source, x.amountFen]), [["external", 8000]]);
  const trade = await stack.control.getTrade(order.outTradeNo);
  assert.equal(trade.status, "TRADE_CLOSED");
  assert.equal(await stack.prisma.paymentNotification.count({ where: { orderId: order.id, tradeStatus: "TRADE_CLOSED", outcome: "applied" } }), 1);
});

test("full refund via TRADE_CLOSED while ours is in flight: the console refunds the rest, the closed trade's total minus ours is external; ours settles → REFUNDED at the total", async () => {
  const order = await paidOrder(stack, 10_000);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "asyncRefund", ms: 6000, times: 1 }] });
  const r = await ours(order.id, 4000);
  await waitFor("ours processing", async () => (await stack.prisma.refund.findUniqueOrThrow({ where: { id: r.id } })).attempts >= 1);
  await stack.control.consoleRefund(order.outTradeNo, { refundFen: 6000, withoutOutBizNo: true });
  await waitForRefund(stack, r.id, "SUCCEEDED", 30_000);
  const rows = await expectBooks(order.id, "REFUNDED", 10_000);
  assert.deepEqual(rows.map((x) => [x.source, x.amountFen, x.state]), [["staff", 4000, "SUCCEEDED"], ["external", 6000, "SUCCEEDED"]]);
  await notifiesSettled(order.id, 2);
  await expectBooks(order.id, "REFUNDED", 10_000);
});
