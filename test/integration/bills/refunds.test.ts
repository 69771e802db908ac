// Refund differences against our Refund rows (core/refunds), matched by out_request_no:
//   refund_not_here      — the bill shows a refund that is not SUCCEEDED here (our refund whose answer
//                          was lost, or a refund made outside coursepay);
//   refund_not_at_alipay — a refund SUCCEEDED here that no bill shows;
//   amount_differs       — a refund SUCCEEDED here for another amount than the bill's.
// and their resolution: "trust Alipay" asks the refund query and hands the answer to the refund state
// machine (which moves the order through core/orders, once); "mark resolved" closes with a note.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Refund } from "@prisma/client";
import { addDays, reconcileBillDay } from "../../../core/bills/index.ts";
import { markResolved, trustAlipay } from "../../../core/bills/resolve.ts";
import { loadConfig } from "../../../core/config/index.ts";
import { noMetrics } from "../../../core/metrics/port.ts";
import type { OrderDeps } from "../../../core/orders/index.ts";
import { applyRefundEvidence, createRefundDeps, requestRefund, submitRefund, type RefundDeps } from "../../../core/refunds/index.ts";
import { coreClient } from "../sandbox/helpers.ts";
import { at, billWorld, daysAgo, type BillWorld } from "./support.ts";

let w: BillWorld;
let orderDeps: OrderDeps;

before(async () => {
  w = await billWorld();
  orderDeps = w.orderDeps;
});
after(async () => w.close());

/** Refund deps on the sandbox; `alipay` overrides (a lost answer, a refund Alipay never made); the clock at `now`. */
function refundDeps(now: string, alipay: Partial<RefundDeps["alipay"]> = {}): RefundDeps {
  const client = coreClient(w.t.gatewayUrl);
  return createRefundDeps({ prisma: w.prisma, alipay: Object.assign(Object.create(client), alipay) as RefundDeps["alipay"], config: loadConfig(process.env, { needAlipayKeys: false }), metrics: noMetrics, now: () => new Date(now) });
}

/** A staff refund of ours, submitted through core/refunds with `deps`, at day D. */
async function ourRefund(deps: RefundDeps, outTradeNo: string, amountFen: number): Promise<Refund> {
  const order = await w.prisma.order.findUniqueOrThrow({ where: { outTradeNo } });
  const refund = await requestRefund(deps, { orderId: order.id, amountFen, reason: "bill test", source: "staff", actor: "ops@example.com" });
  assert.equal(refund.state, "QUEUED");
  await submitRefund(deps, { refundId: refund.id, retryUnknown: false });
  return w.prisma.refund.findUniqueOrThrow({ where: { id: refund.id } });
}

async function differencesOf(billDate: string) {
  const b = await w.prisma.billBatch.findUniqueOrThrow({ where: { billType_billDate: { billType: "trade", billDate } }, include: { differences: true } });
  return b.differences;
}

describe("refund differences", () => {
  test("our refund whose answer was lost: refund_not_here (UNKNOWN here); trust Alipay settles it through the refund state machine, once", async () => {
    const D = daysAgo(80);
    const o = await w.payment({ totalFen: 5000, alipayAt: at(D, "09:00:00"), local: { status: "PAID", paidAt: at(D, "09:00:00") } });
    // The call reaches Alipay and the refund is made, but its answer is lost: UNKNOWN here.
    const client = coreClient(w.t.gatewayUrl);
    const lost = refundDeps(at(D, "15:00:00"), {
      refund: async (req) => {
        await client.refund(req);
        return { kind: "unknown", reason: "read timeout (test)" };
      },
    });
    const refund = await ourRefund(lost, o, 1200);
    assert.equal(refund.state, "UNKNOWN");
    await w.bills.setCompletion(o, { refunds: [{ outRequestNo: refund.outRequestNo, at: at(D, "15:00:00") }] });

    assert.equal((await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" })).kind, "differences");
    const [diff, ...others] = await differencesOf(D);
    assert.equal(others.length, 0, JSON.stringify(others));
    assert.equal(diff!.kind, "refund_not_here");
    assert.equal(diff!.ref, refund.outRequestNo);
    assert.equal(diff!.outRequestNo, refund.outRequestNo);
    assert.equal(diff!.localStatus, "UNKNOWN");
    assert.equal(diff!.billAmountFen, 1200);

    // Trust Alipay, twice at once: the refund query's answer goes through core/refunds; the order
    // is refunded exactly once.
    const deps = { ...orderDeps, refunds: refundDeps(at(D, "16:00:00")) };
    const results = await Promise.allSettled([
      trustAlipay(deps, { differenceId: diff!.id, actor: "ops@example.com" }),
      trustAlipay(deps, { differenceId: diff!.id, actor: "ops@example.com" }),
    ]);
    assert.ok(results.some((r) => r.status === "fulfilled" && r.value.resolved), JSON.stringify(results));
    const settled = await w.prisma.refund.findUniqueOrThrow({ where: { id: refund.id } });
    assert.equal(settled.state, "SUCCEEDED");
    assert.equal(settled.settledBy, "query");
    const order = await w.prisma.order.findUniqueOrThrow({ where: { outTradeNo: o }, include: { events: true } });
    assert.equal(order.status, "PARTIALLY_REFUNDED");
    assert.equal(order.refundedFen, 1200, "refunded once");
    assert.equal(order.events.filter((e) => e.type === "refund.succeeded").length, 1, "the timeline shows the refund once");
    const closed = await w.prisma.billDifference.findUniqueOrThrow({ where: { id: diff!.id } });
    assert.equal(closed.state, "resolved");
    assert.equal(closed.resolvedBy, "ops@example.com");
    assert.match(closed.note, /trust Alipay: refund query: REFUND_SUCCESS 1200 fen; refund succeeded/);

    // A re-run of the day now matches the refund: nothing new, nothing reopened.
    assert.equal((await reconcileBillDay(w.deps(), { billDate: D, trigger: "staff", rerun: true })).kind, "matched");
    assert.equal((await w.prisma.billDifference.findUniqueOrThrow({ where: { id: diff!.id } })).state, "resolved");
  });

  test("a refund made outside coursepay (no Refund row): refund_not_here; trust Alipay queries it by the bill's number and records it as an external refund through core/refunds, once, even asked twice at once", async () => {
    const D = daysAgo(81);
    const o = await w.payment({ totalFen: 3000, alipayAt: at(D, "09:00:00"), local: { status: "PAID", paidAt: at(D, "09:00:00") } });
    // The merchant console's refund: Alipay makes it, every notify of it is lost.
    const number = `console_${o}`;
    const console = await coreClient(w.t.gatewayUrl).refund({ outTradeNo: o, refundFen: 700, outRequestNo: number });
    assert.equal(console.kind, "ok");
    await w.bills.setCompletion(o, { refunds: [{ outRequestNo: number, at: at(D, "11:00:00") }] });

    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    const [diff, ...others] = await differencesOf(D);
    assert.equal(others.length, 0, JSON.stringify(others));
    assert.equal(diff!.kind, "refund_not_here");
    assert.equal(diff!.localStatus, "none");
    const order = await w.prisma.order.findUniqueOrThrow({ where: { outTradeNo: o } });
    assert.equal(diff!.orderId, order.id, "the order is found by out_trade_no");

    const deps = { ...orderDeps, refunds: refundDeps(at(D, "12:00:00")) };
    const results = await Promise.all([
      trustAlipay(deps, { differenceId: diff!.id, actor: "ops@example.com" }),
      trustAlipay(deps, { differenceId: diff!.id, actor: "ops@example.com" }).catch((e: Error) => ({ resolved: false, outcome: "refused", reason: e.message })),
    ]);
    assert.ok(results.some((r) => r.resolved && r.outcome === "recorded"), JSON.stringify(results));
    const rows = await w.prisma.refund.findMany({ where: { orderId: order.id } });
    assert.equal(rows.length, 1, "one external refund row");
    assert.deepEqual([rows[0]!.outRequestNo, rows[0]!.amountFen, rows[0]!.state, rows[0]!.source], [number, 700, "SUCCEEDED", "external"]);
    const after = await w.prisma.order.findUniqueOrThrow({ where: { id: order.id }, include: { events: true } });
    assert.equal(after.status, "PARTIALLY_REFUNDED", "the order state machine applied it");
    assert.equal(after.refundedFen, 700, "refunded once");
    assert.equal(after.events.filter((e) => e.type === "refund.external").length, 1, "the timeline shows it once");
    assert.equal(after.events.filter((e) => e.type === "partially_refunded").length, 1);
    assert.equal(after.events.find((e) => e.type === "refund.external")!.actor, "ops@example.com");
    const closed = await w.prisma.billDifference.findUniqueOrThrow({ where: { id: diff!.id } });
    assert.equal(closed.state, "resolved");
    // Whichever of the two resolved it first wrote the note: the one that recorded, or the one that found it recorded.
    assert.match(closed.note, /trust Alipay: refund query: REFUND_SUCCESS 700 fen; .*(recorded as external refund|was recorded meanwhile \(SUCCEEDED, 700 fen\))/);

    // A re-run of the day matches the refund by its number: nothing new.
    assert.equal((await reconcileBillDay(w.deps(), { billDate: D, trigger: "staff", rerun: true })).kind, "matched");
    // Its late notify (refund_fee 700, out_biz_no = the console's number) adds nothing: the row accounts for it.
    await w.prisma.order.update({ where: { id: order.id }, data: { alipayRefundFeeFen: 700 } }); // what the notify's state machine records
    await applyRefundEvidence(refundDeps(at(D, "13:00:00")), { orderId: order.id, source: "notify", outBizNo: number });
    assert.equal((await w.prisma.refund.count({ where: { orderId: order.id } })), 1);
    assert.equal((await w.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).refundedFen, 700);
  });

  test("a console refund whose notify (without out_biz_no) was recorded as an unnamed external row: trust Alipay names that row, counting nothing twice", async () => {
    const D = daysAgo(88);
    const o = await w.payment({ totalFen: 3000, alipayAt: at(D, "09:00:00"), local: { status: "PAID", paidAt: at(D, "09:00:00") } });
    const number = `console_${o}`;
    assert.equal((await coreClient(w.t.gatewayUrl).refund({ outTradeNo: o, refundFen: 500, outRequestNo: number })).kind, "ok");
    await w.bills.setCompletion(o, { refunds: [{ outRequestNo: number, at: at(D, "11:00:00") }] });
    // Its notify told only Alipay's running total (refund_fee 500): core/refunds recorded an unnamed external row.
    const order = await w.prisma.order.update({ where: { outTradeNo: o }, data: { alipayRefundFeeFen: 500 } });
    await applyRefundEvidence(refundDeps(at(D, "11:00:05")), { orderId: order.id, source: "notify" });
    const [unnamed] = await w.prisma.refund.findMany({ where: { orderId: order.id } });
    assert.match(unnamed!.outRequestNo, /^ex_/);
    assert.equal((await w.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).refundedFen, 500);

    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    const [diff] = await differencesOf(D);
    assert.equal(diff!.kind, "refund_not_here");
    const r = await trustAlipay({ ...orderDeps, refunds: refundDeps(at(D, "12:00:00")) }, { differenceId: diff!.id, actor: "ops@example.com" });
    assert.equal(r.outcome, "identified", r.reason);
    assert.equal(r.resolved, true);
    const rows = await w.prisma.refund.findMany({ where: { orderId: order.id } });
    assert.deepEqual(rows.map((x) => [x.id, x.outRequestNo, x.amountFen]), [[unnamed!.id, number, 500]], "the same row, now numbered");
    assert.equal((await w.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).refundedFen, 500, "not counted twice");
    assert.equal((await reconcileBillDay(w.deps(), { billDate: D, trigger: "staff", rerun: true })).kind, "matched");
  });

  test("two console refunds revealed together by one refund total (one unnamed row of their sum): trust Alipay records nothing, the difference stays open for staff", async () => {
    const D = daysAgo(90);
    const o = await w.payment({ totalFen: 3000, alipayAt: at(D, "09:00:00"), local: { status: "PAID", paidAt: at(D, "09:00:00") } });
    const client = coreClient(w.t.gatewayUrl);
    for (const [no, fen] of [[`console_a_${o}`, 300], [`console_b_${o}`, 400]] as const) {
      assert.equal((await client.refund({ outTradeNo: o, refundFen: fen, outRequestNo: no })).kind, "ok");
    }
    await w.bills.setCompletion(o, { refunds: [{ outRequestNo: `console_a_${o}`, at: at(D, "11:00:00") }, { outRequestNo: `console_b_${o}`, at: at(D, "11:30:00") }] });
    // One notify told only the running total, 700: one unnamed external row of 700.
    const order = await w.prisma.order.update({ where: { outTradeNo: o }, data: { alipayRefundFeeFen: 700 } });
    await applyRefundEvidence(refundDeps(at(D, "11:30:05")), { orderId: order.id, source: "notify" });
    assert.deepEqual((await w.prisma.refund.findMany({ where: { orderId: order.id } })).map((r) => r.amountFen), [700]);

    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    // The bill names both refunds, which no row here carries; the unnamed row matches no bill row.
    const all = await differencesOf(D);
    assert.deepEqual(all.map((d) => d.kind).sort(), ["refund_not_at_alipay", "refund_not_here", "refund_not_here"]);
    const diffs = all.filter((d) => d.kind === "refund_not_here");
    const r = await trustAlipay({ ...orderDeps, refunds: refundDeps(at(D, "12:00:00")) }, { differenceId: diffs[0]!.id, actor: "ops@example.com" });
    assert.equal(r.outcome, "ambiguous", r.reason);
    assert.equal(r.resolved, false);
    assert.match(r.reason, /may already hold it; nothing recorded/);
    assert.equal(await w.prisma.refund.count({ where: { orderId: order.id } }), 1, "nothing recorded");
    assert.equal((await w.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).refundedFen, 700, "not counted twice");
    assert.equal((await w.prisma.billDifference.findUniqueOrThrow({ where: { id: diffs[0]!.id } })).state, "open");
  });

  test("a console refund whose money a named row of Alipay's refund total already counts (a later refund's notify named the whole jump): trust Alipay records nothing, nothing counted twice", async () => {
    const D = daysAgo(73);
    const o = await w.payment({ totalFen: 1000, alipayAt: at(D, "09:00:00"), local: { status: "PAID", paidAt: at(D, "09:00:00") } });
    const client = coreClient(w.t.gatewayUrl);
    const [c1, c2] = [`console_1_${o}`, `console_2_${o}`];
    assert.equal((await client.refund({ outTradeNo: o, refundFen: 300, outRequestNo: c1 })).kind, "ok");
    assert.equal((await client.refund({ outTradeNo: o, refundFen: 200, outRequestNo: c2 })).kind, "ok");
    await w.bills.setCompletion(o, { refunds: [{ outRequestNo: c1, at: at(D, "11:00:00") }, { outRequestNo: c2, at: at(D, "11:30:00") }] });
    // c1's notify was lost; c2's said refund_fee 500 with out_biz_no c2: one external row named c2, of 500.
    const order = await w.prisma.order.update({ where: { outTradeNo: o }, data: { alipayRefundFeeFen: 500 } });
    await applyRefundEvidence(refundDeps(at(D, "11:30:05")), { orderId: order.id, source: "notify", outBizNo: c2 });
    assert.deepEqual((await w.prisma.refund.findMany({ where: { orderId: order.id } })).map((r) => [r.outRequestNo, r.amountFen]), [[c2, 500]]);

    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    const diff = (await differencesOf(D)).find((d) => d.kind === "refund_not_here" && d.outRequestNo === c1)!;
    assert.ok(diff, "c1 is a refund only the bill shows");
    const r = await trustAlipay({ ...orderDeps, refunds: refundDeps(at(D, "12:00:00")) }, { differenceId: diff.id, actor: "ops@example.com" });
    assert.equal(r.outcome, "ambiguous", r.reason);
    assert.equal(r.resolved, false);
    assert.equal(await w.prisma.refund.count({ where: { orderId: order.id } }), 1, "nothing recorded");
    assert.equal((await w.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).refundedFen, 500, "Alipay refunded 500 in all: not 800");
    assert.equal((await w.prisma.billDifference.findUniqueOrThrow({ where: { id: diff.id } })).state, "open");
  });

  test("a console refund of an order not paid here: trust Alipay on the refund is refused by the order state machine until the payment is applied, then records it", async () => {
    const D = daysAgo(89);
    const o = await w.payment({ totalFen: 2000, alipayAt: at(D, "09:00:00"), local: { status: "UNPAID" } });
    const number = `console_${o}`;
    assert.equal((await coreClient(w.t.gatewayUrl).refund({ outTradeNo: o, refundFen: 800, outRequestNo: number })).kind, "ok");
    await w.bills.setCompletion(o, { refunds: [{ outRequestNo: number, at: at(D, "10:00:00") }] });
    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    const diffs = await differencesOf(D);
    assert.deepEqual(diffs.map((d) => d.kind).sort(), ["paid_not_here", "refund_not_here"]);
    const refundDiff = diffs.find((d) => d.kind === "refund_not_here")!;
    const payDiff = diffs.find((d) => d.kind === "paid_not_here")!;
    const deps = { ...orderDeps, refunds: refundDeps(at(D, "12:00:00")) };

    const first = await trustAlipay(deps, { differenceId: refundDiff.id, actor: "ops@example.com" });
    assert.equal(first.outcome, "refused", first.reason);
    assert.equal(first.resolved, false);
    assert.match(first.reason, /order state machine refuses it/);
    assert.equal(await w.prisma.refund.count({ where: { outRequestNo: number } }), 0, "nothing written");

    // The payment first: trust Alipay on it pays the order (the state machine), then the refund is recorded.
    assert.equal((await trustAlipay(deps, { differenceId: payDiff.id, actor: "ops@example.com" })).resolved, true);
    assert.equal((await w.prisma.order.findUniqueOrThrow({ where: { outTradeNo: o } })).status, "PAID");
    const second = await trustAlipay(deps, { differenceId: refundDiff.id, actor: "ops@example.com" });
    assert.equal(second.outcome, "recorded", second.reason);
    assert.equal(second.resolved, true);
    const refunded = await w.prisma.order.findUniqueOrThrow({ where: { outTradeNo: o } });
    assert.equal(refunded.status, "PARTIALLY_REFUNDED");
    assert.equal(refunded.refundedFen, 800);
  });

  test("a refund SUCCEEDED here that Alipay never made: refund_not_at_alipay; trust Alipay changes nothing (SUCCEEDED is final) and leaves it open", async () => {
    const D = daysAgo(82);
    const o = await w.payment({ totalFen: 4000, alipayAt: at(D, "09:00:00"), local: { status: "PAID", paidAt: at(D, "09:00:00") } });
    // A wrong success answer (fund_change=Y) for a call that never reached Alipay.
    const phantom = refundDeps(at(D, "14:00:00"), {
      refund: async (req) => ({ kind: "ok", tradeNo: "", outTradeNo: req.outTradeNo, refundedTotalFen: req.refundFen, fundChange: true, gmtRefundPay: null }),
    });
    const refund = await ourRefund(phantom, o, 900);
    assert.equal(refund.state, "SUCCEEDED");

    assert.equal((await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" })).kind, "differences");
    const [diff, ...others] = await differencesOf(D);
    assert.equal(others.length, 0, JSON.stringify(others));
    assert.equal(diff!.kind, "refund_not_at_alipay");
    assert.equal(diff!.ref, refund.outRequestNo);
    assert.equal(diff!.localAmountFen, 900);
    assert.equal(diff!.billAmountFen, null);

    const r = await trustAlipay({ ...orderDeps, refunds: refundDeps(at(D, "16:00:00")) }, { differenceId: diff!.id, actor: "ops@example.com" });
    assert.equal(r.resolved, false);
    assert.match(r.reason, /no such refund at Alipay; refund unchanged \(moot: SUCCEEDED\), now SUCCEEDED/);
    assert.equal((await w.prisma.refund.findUniqueOrThrow({ where: { id: refund.id } })).state, "SUCCEEDED", "the state machine decided: final");
    assert.equal((await w.prisma.billDifference.findUniqueOrThrow({ where: { id: diff!.id } })).state, "open");
    await markResolved(orderDeps, { differenceId: diff!.id, actor: "ops@example.com", note: "refund paid to the buyer by bank transfer" });
    assert.equal((await w.prisma.billDifference.findUniqueOrThrow({ where: { id: diff!.id } })).state, "resolved");
  });

  test("a refund SUCCEEDED here for another amount than the bill's: amount_differs on the refund; a refund in a later bill is not flagged as missing", async () => {
    const D = daysAgo(87);
    const o = await w.payment({ totalFen: 6000, alipayAt: at(D, "09:00:00"), local: { status: "PAID", paidAt: at(D, "09:00:00") } });
    // Alipay made 1000 fen under this out_request_no; here the refund row says 1100 (SUCCEEDED).
    const client = coreClient(w.t.gatewayUrl);
    const skewed = refundDeps(at(D, "13:00:00"), {
      refund: (req) => client.refund({ ...req, refundFen: req.refundFen - 100 }),
    });
    const refund = await ourRefund(skewed, o, 1100);
    assert.equal(refund.state, "SUCCEEDED");
    await w.bills.setCompletion(o, { refunds: [{ outRequestNo: refund.outRequestNo, at: at(D, "13:00:00") }] });

    // A refund of ours that succeeded at 23:59:58 here and 00:00:02 at Alipay: next day's bill.
    const p = await w.payment({ totalFen: 2000, alipayAt: at(D, "10:00:00"), local: { status: "PAID", paidAt: at(D, "10:00:00") } });
    const late = await ourRefund(refundDeps(at(D, "23:59:58")), p, 500);
    assert.equal(late.state, "SUCCEEDED");
    await w.bills.setCompletion(p, { refunds: [{ outRequestNo: late.outRequestNo, at: at(addDays(D, 1), "00:00:02") }] });

    const deps = w.deps({ settings: { pendingDays: 1 } });
    await reconcileBillDay(deps, { billDate: D, trigger: "test" });
    await reconcileBillDay(deps, { billDate: addDays(D, 1), trigger: "test" });
    const all = [...(await differencesOf(D)), ...(await differencesOf(addDays(D, 1)))];
    assert.deepEqual(all.map((d) => `${d.kind}:${d.ref}`), [`amount_differs:refund:${refund.outRequestNo}`], "the late refund is not flagged");
    const diff = all[0]!;
    assert.equal(diff.billAmountFen, 1000);
    assert.equal(diff.localAmountFen, 1100);
    assert.equal(diff.outRequestNo, refund.outRequestNo);

    // Trust Alipay: the refund query shows 1000 fen for our 1100 fen refund — nothing the state
    // machine can apply; the difference stays open for staff.
    const r = await trustAlipay({ ...orderDeps, refunds: refundDeps(at(D, "16:00:00")) }, { differenceId: diff.id, actor: "ops@example.com" });
    assert.equal(r.resolved, false);
    assert.match(r.reason, /REFUND_SUCCESS 1000 fen/);
    assert.equal((await w.prisma.refund.findUniqueOrThrow({ where: { id: refund.id } })).amountFen, 1100);
  });

  test("refund_not_here closes automatically once the refund has succeeded here, at the next run", async () => {
    const D = daysAgo(85);
    const o = await w.payment({ totalFen: 5000, alipayAt: at(D, "09:00:00"), local: { status: "PAID", paidAt: at(D, "09:00:00") } });
    const client = coreClient(w.t.gatewayUrl);
    const refund = await ourRefund(refundDeps(at(D, "15:00:00"), {
      refund: async (req) => {
        await client.refund(req);
        return { kind: "unknown", reason: "read timeout (test)" };
      },
    }), o, 800);
    await w.bills.setCompletion(o, { refunds: [{ outRequestNo: refund.outRequestNo, at: at(D, "15:00:00") }] });
    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    const [diff] = await differencesOf(D);
    assert.equal(diff!.kind, "refund_not_here");
    // The worker's own refund query settles it (as the refund sweep would).
    const { checkRefund } = await import("../../../core/refunds/index.ts");
    assert.equal((await checkRefund(refundDeps(at(D, "16:00:00")), { refundId: refund.id })).outcome, "succeeded");
    const E = daysAgo(84);
    await w.payment({ totalFen: 100, alipayAt: at(E, "10:00:00"), local: { status: "PAID", paidAt: at(E, "10:00:00") } });
    await reconcileBillDay(w.deps(), { billDate: E, trigger: "test" });
    const closed = await w.prisma.billDifference.findUniqueOrThrow({ where: { id: diff!.id } });
    assert.equal(closed.state, "auto_closed");
    assert.match(closed.note, /the refund succeeded here now/);
  });
});
