// Resolving bill differences: "trust Alipay" goes through the order state machine (the timeline
// shows it), pays a locally unpaid order exactly once even when its notify is applied at the same
// moment; "mark resolved" needs a note; viewers' and resolved differences are refused.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { reconcileBillDay } from "../../../core/bills/index.ts";
import { markResolved, trustAlipay } from "../../../core/bills/resolve.ts";
import { applyTradeStatus, CommandRefusedError, type OrderDeps } from "../../../core/orders/index.ts";
import { APP_ID, SELLER_ID } from "../sandbox/helpers.ts";
import { at, billWorld, daysAgo, type BillWorld } from "./support.ts";

let w: BillWorld;
let orderDeps: OrderDeps;

before(async () => {
  w = await billWorld();
  orderDeps = w.orderDeps;
});
after(async () => w.close());

async function differenceFor(outTradeNo: string) {
  return w.prisma.billDifference.findFirstOrThrow({ where: { outTradeNo } });
}

describe("resolving bill differences", () => {
  test("trust Alipay pays a locally unpaid order exactly once, racing its notify; the timeline shows it", async () => {
    const D = daysAgo(60);
    const unpaid = await w.payment({ totalFen: 2500, alipayAt: at(D, "10:00:00"), local: { status: "UNPAID" } });
    assert.equal((await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" })).kind, "differences");
    const diff = await differenceFor(unpaid);
    assert.equal(diff.kind, "paid_not_here");
    const trade = await w.t.control.getTrade(unpaid);

    const [trust] = await Promise.all([
      trustAlipay(orderDeps, { differenceId: diff.id, actor: "ops@example.com" }),
      applyTradeStatus(orderDeps, {
        outTradeNo: unpaid, source: "notify",
        evidence: { kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 2500, tradeNo: trade.tradeNo, appId: APP_ID, sellerId: SELLER_ID, paidAt: new Date(at(D, "10:00:00")) },
      }),
    ]);
    const order = await w.prisma.order.findUniqueOrThrow({ where: { outTradeNo: unpaid }, include: { events: true } });
    assert.equal(order.status, "PAID");
    assert.equal(order.events.filter((e) => e.type === "paid").length, 1, "paid exactly once");
    assert.ok(order.events.some((e) => e.type === "payment_checked" || (e.type === "paid" && e.actor === "ops@example.com")), "the staff check is on the timeline");
    assert.equal(trust.resolved, true);
    const after1 = await differenceFor(unpaid);
    assert.equal(after1.state, "resolved");
    assert.equal(after1.resolvedBy, "ops@example.com");
    assert.match(after1.note, /trust Alipay: alipay\.trade\.query/);
    await assert.rejects(trustAlipay(orderDeps, { differenceId: diff.id, actor: "ops@example.com" }), CommandRefusedError);
    const batch = await w.prisma.billBatch.findUniqueOrThrow({ where: { id: diff.batchId } });
    assert.equal(batch.differencesOpen, 0);
  });

  test("trust Alipay on an amount difference: the state machine records the anomaly and the difference stays open", async () => {
    const D = daysAgo(61);
    const o = await w.payment({ totalFen: 3000, alipayAt: at(D, "10:00:00"), local: { status: "UNPAID", totalFen: 3100 } });
    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    const diff = await differenceFor(o);
    assert.equal(diff.kind, "paid_not_here");
    const r = await trustAlipay(orderDeps, { differenceId: diff.id, actor: "ops@example.com" });
    assert.equal(r.outcome, "anomaly");
    assert.equal(r.resolved, false);
    const order = await w.prisma.order.findUniqueOrThrow({ where: { outTradeNo: o }, include: { events: true } });
    assert.equal(order.status, "UNPAID", "never paid with a different amount");
    assert.ok(order.events.some((e) => e.type === "anomaly.amount_mismatch"));
    assert.equal((await differenceFor(o)).state, "open");
  });

  test("trust Alipay on 'paid here, not in the bill': Alipay's query confirms the payment, the state machine changes nothing, resolved", async () => {
    const D = daysAgo(65);
    const o = await w.payment({ totalFen: 1500, alipayAt: at(D, "10:00:00"), local: { status: "PAID", paidAt: at(D, "10:00:00") } });
    await w.bills.addFaults([{ kind: "omitPayment", outTradeNo: o }], D);
    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    await w.bills.clearFaults();
    const diff = await differenceFor(o);
    assert.equal(diff.kind, "paid_not_in_bill");
    const r = await trustAlipay(orderDeps, { differenceId: diff.id, actor: "ops@example.com" });
    assert.equal(r.outcome, "unchanged", r.reason);
    assert.equal(r.resolved, true);
    const order = await w.prisma.order.findUniqueOrThrow({ where: { outTradeNo: o }, include: { events: true } });
    assert.equal(order.status, "PAID");
    assert.equal(order.events.filter((e) => e.type === "paid").length, 0, "nothing applied twice (the order was created paid)");
    const done = await differenceFor(o);
    assert.equal(done.state, "resolved");
    assert.match(done.note, /alipay\.trade\.query applied through the order state machine → unchanged/);

    // Paid here, but Alipay has no such trade at all: the query says ACQ.TRADE_NOT_EXIST; nothing is
    // resolved (the state machine leaves a paid order alone; staff must find out what happened).
    const ghost = await w.payment({ totalFen: 1600, alipayAt: null, local: { status: "PAID", paidAt: at(D, "11:00:00") } });
    await reconcileBillDay(w.deps(), { billDate: D, trigger: "staff", rerun: true });
    const ghostDiff = await differenceFor(ghost);
    assert.equal(ghostDiff.kind, "paid_not_in_bill");
    const g = await trustAlipay(orderDeps, { differenceId: ghostDiff.id, actor: "ops@example.com" });
    assert.equal(g.resolved, false, g.reason);
    assert.equal((await differenceFor(ghost)).state, "open");
  });

  test("trust Alipay on a payment amount difference: the query is run through the state machine and shown, the difference stays open for a note", async () => {
    const D = daysAgo(66);
    const o = await w.payment({ totalFen: 5000, alipayAt: at(D, "10:00:00"), local: { status: "PAID", paidAt: at(D, "10:00:00") } });
    await w.bills.addFaults([{ kind: "amountDiffers", outTradeNo: o, amountFen: 4990 }], D);
    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    await w.bills.clearFaults();
    const diff = await differenceFor(o);
    assert.equal(diff.kind, "amount_differs");
    const r = await trustAlipay(orderDeps, { differenceId: diff.id, actor: "ops@example.com" });
    assert.equal(r.resolved, false);
    assert.match(r.reason, /商家实收 is 4990 fen, the order's 5000 fen/);
    assert.equal((await w.prisma.order.findUniqueOrThrow({ where: { outTradeNo: o } })).status, "PAID");
    assert.equal((await differenceFor(o)).state, "open");
    await markResolved(orderDeps, { differenceId: diff.id, actor: "ops@example.com", note: "10 fen coupon paid by the platform" });
    assert.equal((await differenceFor(o)).state, "resolved");
  });

  test("mark resolved needs a note; an unknown order can only be marked resolved", async () => {
    const D = daysAgo(62);
    await w.payment({ totalFen: 100, alipayAt: at(D, "10:00:00"), local: { status: "PAID", paidAt: at(D, "10:00:00") } });
    await w.bills.addFaults([{ kind: "unknownTrade", outTradeNo: "stranger_1", amountFen: 555 }], D);
    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    const diff = await differenceFor("stranger_1");
    assert.equal(diff.kind, "unknown_order");
    await assert.rejects(trustAlipay(orderDeps, { differenceId: diff.id, actor: "ops@example.com" }), /no order here/);
    await assert.rejects(markResolved(orderDeps, { differenceId: diff.id, actor: "ops@example.com", note: "  " }), /note is required/);
    await markResolved(orderDeps, { differenceId: diff.id, actor: "ops@example.com", note: "test payment by the finance team, refunded by hand" });
    const done = await differenceFor("stranger_1");
    assert.equal(done.state, "resolved");
    assert.equal(done.note, "test payment by the finance team, refunded by hand");
    await assert.rejects(markResolved(orderDeps, { differenceId: diff.id, actor: "x", note: "again" }), /already resolved/);
    await w.bills.clearFaults();
  });

  test("a paid_not_here difference closes automatically once the order is paid, at the next run", async () => {
    const D = daysAgo(63);
    const o = await w.payment({ totalFen: 900, alipayAt: at(D, "10:00:00"), local: { status: "UNPAID" } });
    await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    await applyTradeStatus(orderDeps, {
      outTradeNo: o, source: "notify",
      evidence: { kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 900, tradeNo: (await w.t.control.getTrade(o)).tradeNo, appId: APP_ID, sellerId: SELLER_ID },
    });
    const E = daysAgo(64);
    await w.payment({ totalFen: 100, alipayAt: at(E, "10:00:00"), local: { status: "PAID", paidAt: at(E, "10:00:00") } });
    await reconcileBillDay(w.deps(), { billDate: E, trigger: "test" });
    const closed = await differenceFor(o);
    assert.equal(closed.state, "auto_closed");
    assert.match(closed.note, /the order is paid here now/);
  });
});
