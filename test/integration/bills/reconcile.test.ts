// Daily bill reconciliation end to end against the sandbox and a real PostgreSQL: every kind of
// difference found once, the cross-midnight allowance, not ready → ready, give-up, corrupt zips,
// footers that disagree, re-runs as audited attempts with auto-closing, and two replicas → one batch.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createPrisma } from "../../../core/db/index.ts";
import { addDays, orderFees, reconcileBillDay, type BillDeps } from "../../../core/bills/index.ts";
import { at, billWorld, daysAgo as day, recordingMetrics, type BillWorld } from "./support.ts";

let w: BillWorld;

before(async () => {
  w = await billWorld();
});
after(async () => w.close());

async function differences(billDate: string) {
  const batch = await w.prisma.billBatch.findUniqueOrThrow({ where: { billType_billDate: { billType: "trade", billDate } }, include: { differences: true, attemptLog: true } });
  return batch;
}

describe("bill reconciliation", () => {
  test("each kind of payment difference is found once; matched payments and fees are recorded", async () => {
    const D = day(10);
    const ok = await w.payment({ totalFen: 9900, alipayAt: at(D, "09:00:00"), local: { status: "PAID", paidAt: at(D, "09:00:01") } });
    const notHere = await w.payment({ totalFen: 1200, alipayAt: at(D, "10:00:00"), local: { status: "UNPAID" } });
    const closedHere = await w.payment({ totalFen: 1300, alipayAt: at(D, "10:30:00"), local: { status: "CLOSED" } });
    const amount = await w.payment({ totalFen: 5000, alipayAt: at(D, "11:00:00"), local: { status: "PAID", paidAt: at(D, "11:00:00") } });
    const omitted = await w.payment({ totalFen: 700, alipayAt: at(D, "12:00:00"), local: { status: "PAID", paidAt: at(D, "12:00:00") } });
    await w.bills.addFaults([
      { kind: "unknownTrade", outTradeNo: "not_ours_123", amountFen: 4321, at: at(D, "13:00:00") },
      { kind: "amountDiffers", outTradeNo: amount, amountFen: 4999 },
      { kind: "omitPayment", outTradeNo: omitted },
    ], D);

    const r = await reconcileBillDay(w.deps(), { billDate: D, trigger: "test" });
    assert.equal(r.kind, "differences", JSON.stringify(r));
    const batch = await differences(D);
    const kinds = batch.differences.map((d) => `${d.kind}:${d.ref}`).sort();
    assert.deepEqual(kinds, [
      `amount_differs:${amount}`, `paid_not_here:${closedHere}`, `paid_not_here:${notHere}`, `paid_not_in_bill:${omitted}`, "unknown_order:not_ours_123",
    ].sort());
    const diff = batch.differences.find((d) => d.ref === amount)!;
    assert.equal(diff.billAmountFen, 4999);
    assert.equal(diff.localAmountFen, 5000);
    assert.equal(batch.state, "differences");
    assert.equal(batch.differencesOpen, 5);
    assert.equal(batch.billTrades, 5); // ok, notHere, closedHere, amount (4999), unknown
    assert.equal(batch.billTradeFen, 9900n + 1200n + 1300n + 4999n + 4321n);
    assert.equal(batch.localTrades, 3); // ok, amount, omitted
    assert.equal(batch.localTradeFen, 9900n + 5000n + 700n);
    assert.deepEqual(await orderFees(w.prisma, ok), [{ billDate: D, feeFen: 59 }], "0.6 % of 99.00 yuan, per order and bill day");
    assert.ok(!batch.differences.some((d) => d.outTradeNo === ok));
    assert.equal(batch.attemptLog.length, 1);
    assert.equal(batch.attemptLog[0]!.trigger, "test");

    // A re-run is a new audited attempt; what it no longer sees closes automatically, nothing doubles.
    await w.prisma.order.update({ where: { outTradeNo: notHere }, data: { status: "PAID", paidAt: new Date(at(D, "10:00:00")) } });
    const skipped = await reconcileBillDay(w.deps(), { billDate: D, trigger: "schedule" });
    assert.equal(skipped.kind, "skipped", "a finished batch is not re-run by the schedule");
    const again = await reconcileBillDay(w.deps(), { billDate: D, trigger: "staff", actor: "ops@example.com", rerun: true });
    assert.equal(again.kind, "differences");
    const after2 = await differences(D);
    assert.equal(after2.differences.length, 5, "no duplicate difference records");
    const closed = after2.differences.find((d) => d.ref === notHere)!;
    assert.equal(closed.state, "auto_closed");
    assert.match(closed.note, /not seen by attempt 2/);
    assert.equal(after2.differencesOpen, 4);
    assert.deepEqual(after2.attemptLog.map((a) => [a.attempt, a.trigger, a.actor, a.outcome]).sort(), [
      [1, "test", "", "differences"], [2, "staff", "ops@example.com", "differences"],
    ]);
    await w.bills.clearFaults();
  });

  test("cross-midnight: paid 23:59:59 at Alipay, 00:00:03 here, is not flagged; a payment missing from every bill is, after the allowance", async () => {
    const E = day(20);
    const E1 = addDays(E, 1);
    const E2 = addDays(E, 2);
    const late = await w.payment({ totalFen: 4990, alipayAt: at(E, "23:59:59"), local: { status: "PAID", paidAt: at(E1, "00:00:03") } });
    const missing = await w.payment({ totalFen: 100, alipayAt: at(E1, "10:00:00"), local: { status: "PAID", paidAt: at(E1, "10:00:00") } });
    await w.payment({ totalFen: 100, alipayAt: at(E2, "10:00:00"), local: { status: "PAID", paidAt: at(E2, "10:00:00") } });
    await w.bills.addFaults([{ kind: "omitPayment", outTradeNo: missing }], E1);
    const deps = w.deps({ settings: { pendingDays: 1 } });
    for (const d of [E, E1]) assert.ok(["matched", "differences"].includes((await reconcileBillDay(deps, { billDate: d, trigger: "test" })).kind));
    assert.equal((await differences(E1)).differences.filter((x) => x.kind === "paid_not_in_bill").length, 0, "held during the allowance");
    await reconcileBillDay(deps, { billDate: E2, trigger: "test" });
    const flagged = (await differences(E2)).differences.filter((x) => x.kind === "paid_not_in_bill").map((x) => x.ref);
    assert.deepEqual(flagged, [missing]);
    assert.ok(!flagged.includes(late));
    await w.bills.clearFaults();
  });

  test("bill not ready, then ready; no bill by the give-up time becomes no_bill", async () => {
    const D = day(30);
    await w.payment({ totalFen: 100, alipayAt: at(D, "10:00:00"), local: { status: "PAID", paidAt: at(D, "10:00:00") } });
    await w.bills.addFaults([{ kind: "notReady", until: new Date(Date.now() + 3600_000).toISOString() }], D);
    // "now" is 11:00 Beijing on the day after D: before BILL_GIVE_UP_AT.
    const morning = w.deps({ now: () => new Date(at(addDays(D, 1), "11:00:00")) });
    const first = await reconcileBillDay(morning, { billDate: D, trigger: "schedule" });
    assert.equal(first.kind, "waiting", JSON.stringify(first));
    assert.equal((await differences(D)).state, "waiting");
    await w.bills.clearFaults();
    assert.equal((await reconcileBillDay(morning, { billDate: D, trigger: "schedule" })).kind, "matched");
    const b = await differences(D);
    assert.equal(b.state, "matched");
    assert.deepEqual(b.attemptLog.map((a) => a.outcome).sort(), ["matched", "not_ready"]);

    const G = day(31);
    await w.payment({ totalFen: 100, alipayAt: null, local: { status: "PAID", paidAt: at(G, "10:00:00") } });
    await w.bills.addFaults([{ kind: "notReady", until: new Date(Date.now() + 3600_000).toISOString() }], G);
    const { metrics, counted } = recordingMetrics();
    const evening = w.deps({ now: () => new Date(at(addDays(G, 1), "18:00:00")), metrics });
    assert.equal((await reconcileBillDay(evening, { billDate: G, trigger: "schedule" })).kind, "no_bill");
    const g = await differences(G);
    assert.equal(g.state, "no_bill");
    assert.match(g.lastError, /although 1 order\(s\) were paid here/);
    assert.equal(counted.get("alerts{reason=no_bill}"), 1, "alerted through the metrics port");
    assert.equal(counted.get("runs{outcome=no_bill}"), 1);
    await w.bills.clearFaults();
  });

  test("a corrupt zip and a footer that disagrees mark the batch corrupt and match nothing", async () => {
    const D = day(40);
    await w.payment({ totalFen: 300, alipayAt: at(D, "10:00:00"), local: { status: "UNPAID" } });
    await w.bills.addFaults([{ kind: "corruptZip" }], D);
    const { metrics, counted } = recordingMetrics();
    const r = await reconcileBillDay(w.deps({ metrics }), { billDate: D, trigger: "test" });
    assert.equal(r.kind, "corrupt");
    assert.equal(counted.get("alerts{reason=corrupt}"), 1, "alerted through the metrics port");
    let b = await differences(D);
    assert.equal(b.state, "corrupt");
    assert.equal(b.differences.length, 0);
    assert.equal(await w.prisma.billRow.count({ where: { batchId: b.id } }), 0);

    await w.bills.addFaults([{ kind: "footerDisagrees", deltaFen: 1 }], D);
    const f = await reconcileBillDay(w.deps(), { billDate: D, trigger: "staff", rerun: true });
    assert.equal(f.kind, "corrupt");
    b = await differences(D);
    assert.match(b.lastError, /footer disagrees/);
    assert.equal(b.differences.length, 0, "nothing matched");
    assert.equal(await w.prisma.billRow.count({ where: { batchId: b.id } }), 0, "nothing loaded");
    await w.bills.clearFaults();
  });

  test("two replicas at once: one batch, one attempt, one set of differences", async () => {
    const D = day(50);
    await w.payment({ totalFen: 800, alipayAt: at(D, "10:00:00"), local: { status: "UNPAID" } });
    const other = createPrisma(process.env.DATABASE_URL!);
    try {
      const second: BillDeps = { ...w.deps(), prisma: other };
      const results = await Promise.all([reconcileBillDay(w.deps(), { billDate: D, trigger: "schedule" }), reconcileBillDay(second, { billDate: D, trigger: "schedule" })]);
      assert.deepEqual(results.map((r) => r.kind).sort(), ["differences", "skipped"]);
      const b = await differences(D);
      assert.equal(b.attempts, 1);
      assert.equal(b.differences.length, 1);
      assert.equal(await w.prisma.billBatch.count({ where: { billDate: D } }), 1);
    } finally {
      await other.$disconnect();
    }
  });
});
