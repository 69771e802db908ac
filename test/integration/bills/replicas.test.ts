// Two worker replicas with their bill workers (worker/bills.ts: the bill queue, node-cron ticks and
// the start-up catch-up), each on its own PostgreSQL pool, against one sandbox:
// - both start at once: one catch-up tick runs (its job id is the start-up minute), and every day of
//   the BILL_CATCH_UP_DAYS window without a finished batch gets one — a day already finished is left
//   alone, a day without activity past its give-up time has no bill (not alerted);
// - ticks of two slots run on both replicas at the same moment: still one batch per day, one attempt
//   of each finished batch, one set of differences.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { PrismaClient } from "@prisma/client";
import { addDays, reconcileBillDay } from "../../../core/bills/index.ts";
import { loadConfig, type Config } from "../../../core/config/index.ts";
import { createPrisma } from "../../../core/db/index.ts";
import { createLogger } from "../../../core/logging/index.ts";
import { noMetrics } from "../../../core/metrics/port.ts";
import { startBillWorker, type BillWorker } from "../../../worker/bills.ts";
import { CONDITION_CEILING_MS, testRedisPrefix, waitFor } from "../../support/index.ts";
import { coreClient } from "../sandbox/helpers.ts";
import { at, billWorld, daysAgo, type BillWorld } from "./support.ts";

let w: BillWorld;
const replicas: { prisma: PrismaClient; bills: BillWorker }[] = [];
before(async () => {
  w = await billWorld();
});
after(async () => {
  for (const r of replicas) {
    await r.bills.close();
    await r.prisma.$disconnect();
  }
  await w.close();
});

test("two replicas start together: one catch-up of the missed days, one batch per day; concurrent ticks add no attempt to a finished batch", async () => {
  // "Now" is 09:00 Beijing time 100 days ago (before BILL_FETCH_AT: no scheduled tick fires), so the
  // catch-up window is days 101…107 ago — days no other test uses.
  const today = daysAgo(100);
  const now = () => new Date(at(today, "09:00:00"));
  const window = Array.from({ length: 7 }, (_, i) => addDays(today, -1 - i));
  const [d101, , d103, , d105] = window;
  const paidHere = await w.payment({ totalFen: 1000, alipayAt: at(d101!, "10:00:00"), local: { status: "PAID", paidAt: at(d101!, "10:00:00") } });
  const notHere = await w.payment({ totalFen: 2000, alipayAt: at(d105!, "10:00:00"), local: { status: "UNPAID" } });
  // Day 103 was reconciled before the workers went down: the catch-up leaves it alone.
  await w.payment({ totalFen: 3000, alipayAt: at(d103!, "10:00:00"), local: { status: "PAID", paidAt: at(d103!, "10:00:00") } });
  assert.equal((await reconcileBillDay(w.deps({ now }), { billDate: d103!, trigger: "schedule" })).kind, "matched");

  const base = loadConfig(process.env, { needAlipayKeys: false });
  const config: Config = { ...base, redisPrefix: testRedisPrefix("bill-replicas"), bills: { ...base.bills, schedule: true } };
  const logger = createLogger("bill-replicas", "silent");
  // Both start at the same moment (the same start-up minute), each with its own pool.
  await Promise.all([0, 1].map(async () => {
    const prisma = createPrisma(process.env.DATABASE_URL!);
    const bills = await startBillWorker({ prisma, config, logger, metrics: noMetrics, alipay: coreClient(w.t.gatewayUrl), ticks: true, now });
    replicas.push({ prisma, bills });
  }));
  const queue = replicas[0]!.bills.queue.queue;

  const batches = async () => w.prisma.billBatch.findMany({ where: { billDate: { in: window } }, include: { differences: true, attemptLog: true }, orderBy: { billDate: "asc" } });
  const allJobsDone = async () => {
    const c = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "failed", "completed");
    return c.waiting === 0 && c.active === 0 && c.delayed === 0 && c.prioritized === 0 ? c : null;
  };
  const counts = await waitFor("the catch-up tick to finish", allJobsDone, { timeoutMs: CONDITION_CEILING_MS, intervalMs: 100 });
  assert.equal(counts.failed, 0);
  assert.equal(counts.completed, 1, "one catch-up tick for the start-up minute, whichever replica took it");

  const after1 = await batches();
  assert.deepEqual(after1.map((b) => b.billDate), [...window].sort(), "one batch for each day of the window");
  const byDay = new Map(after1.map((b) => [b.billDate, b]));
  assert.deepEqual([byDay.get(d101!)!.state, byDay.get(d101!)!.attempts], ["matched", 1]);
  assert.deepEqual([byDay.get(d103!)!.state, byDay.get(d103!)!.attempts], ["matched", 1], "a finished day is not run again");
  assert.deepEqual([byDay.get(d105!)!.state, byDay.get(d105!)!.attempts], ["differences", 1]);
  assert.deepEqual(byDay.get(d105!)!.differences.map((d) => `${d.kind}:${d.ref}`), [`paid_not_here:${notHere}`]);
  for (const d of window.filter((x) => ![d101, d103, d105].includes(x))) {
    // Alipay has no bill for a day without activity; these days are past BILL_GIVE_UP_AT (the day
    // after them, 18:00), and no payment was taken here: no bill, no alert.
    assert.equal(byDay.get(d)!.state, "no_bill", d);
    assert.match(byDay.get(d)!.lastError, /no payments here that day either/, d);
  }
  assert.ok(!after1.some((b) => b.differences.some((d) => d.outTradeNo === paidHere)));

  // Two ticks of two slots at once: each replica (concurrency 1) takes one; they race on every day.
  await Promise.all([replicas[0]!.bills.queue.enqueueTick("schedule", "race-a"), replicas[1]!.bills.queue.enqueueTick("schedule", "race-b")]);
  const counts2 = await waitFor("both ticks to finish", async () => {
    const c = await allJobsDone();
    return c && c.completed === 3 ? c : null;
  }, { timeoutMs: CONDITION_CEILING_MS, intervalMs: 100 });
  assert.equal(counts2.failed, 0);
  const after2 = await batches();
  assert.equal(after2.length, 7, "still one batch per day");
  for (const b of after2) {
    assert.equal(b.attemptLog.length, b.attempts, `${b.billDate}: every attempt audited once`);
    assert.ok(b.attemptLog.every((a) => a.finishedAt !== null), `${b.billDate}: no attempt left running`);
  }
  const again = new Map(after2.map((b) => [b.billDate, b]));
  for (const d of window) assert.equal(again.get(d)!.attempts, 1, `${d}: finished, so neither tick ran it again`);
  assert.equal(again.get(d105!)!.differences.length, 1, "one set of differences");
});
