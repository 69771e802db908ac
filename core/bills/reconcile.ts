// One attempt of one bill batch, in the imperative-shell style: claim the batch (one per type and
// date across replicas), ask Alipay for the bill, download it, parse it as a stream straight into
// PostgreSQL (COPY) and match it there; record how it ended. Used by the worker's schedule, its
// catch-up, the admin's "reconcile this date now" (through the queue) and the benchmark.
import type { PrismaClient } from "@prisma/client";
import type { BillSettings } from "../config/index.ts";
import type { Logger } from "../logging/index.ts";
import type { BillMetrics } from "../metrics/port.ts";
import { fetchBill, type BillAlipay } from "./fetch.ts";
import { addDays, beijingDay, beijingDayRange, type BillType } from "./format.ts";
import { BillFormatError, parseBillFile } from "./parse.ts";
import { claimBatch, finishWithoutMatch, loadAndMatch } from "./store.ts";
import { giveUpInstant } from "./transitions.ts";

export interface BillDeps {
  prisma: PrismaClient;
  alipay: BillAlipay;
  settings: BillSettings;
  /** What a run counts (the metrics port): the worker passes the Prometheus adapter, core/metrics `metrics`. */
  metrics: BillMetrics;
  logger?: Logger;
  now?: () => Date;
}

export type BillRunOutcome =
  | { kind: "skipped"; reason: string }
  | { kind: "waiting" }
  | { kind: "no_bill" }
  | { kind: "corrupt"; reason: string }
  | { kind: "failed"; reason: string }
  | { kind: "matched" | "differences"; differencesOpen: number; found: Record<string, number>; rows: number };

export interface BillRunRequest {
  billDate: string;
  billType?: BillType;
  /** schedule, catch_up, staff, bench… (audited on the attempt) */
  trigger: string;
  actor?: string;
  /** staff re-run: a new attempt even when the batch is finished */
  rerun?: boolean;
}

export async function reconcileBillDay(deps: BillDeps, req: BillRunRequest): Promise<BillRunOutcome> {
  const billType = req.billType ?? "trade";
  const now = deps.now?.() ?? new Date();
  const log = deps.logger?.child({ billDate: req.billDate, billType, trigger: req.trigger });
  const claim = await claimBatch(deps.prisma, {
    billType, billDate: req.billDate, event: req.rerun ? "rerun" : "claim", leaseSeconds: deps.settings.leaseSeconds, trigger: req.trigger, actor: req.actor,
  });
  if (!claim) return { kind: "skipped", reason: "finished already, or another worker holds it" };

  let outcome: BillRunOutcome;
  try {
    const got = await fetchBill(deps.alipay, { billType, billDate: req.billDate });
    if (got.kind === "not_exist") {
      const giveUp = now.getTime() >= giveUpInstant(req.billDate, deps.settings.giveUpAt).getTime();
      if (giveUp) {
        // Alipay has no bill for a day without activity: only alert when we took payments that day.
        const { start, end } = beijingDayRange(req.billDate);
        const ours = await deps.prisma.order.count({ where: { paidAt: { gte: start, lt: end } } });
        await finishWithoutMatch(deps.prisma, claim, {
          state: "no_bill", outcome: "no_bill",
          error: `isp.bill_not_exist after ${deps.settings.giveUpAt} Beijing time${ours ? ` although ${ours} order(s) were paid here that day` : " (no payments here that day either)"}`,
        });
        if (ours) {
          deps.metrics.billAlerts.inc({ reason: "no_bill" });
          log?.error({ batchId: claim.batchId, paidHere: ours }, "no bill from Alipay by the give-up time although we took payments: alerting");
        }
        outcome = { kind: "no_bill" };
      } else {
        await finishWithoutMatch(deps.prisma, claim, { state: "waiting", outcome: "not_ready", error: "isp.bill_not_exist: not ready yet" });
        outcome = { kind: "waiting" };
      }
    } else if (got.kind === "failed") {
      await finishWithoutMatch(deps.prisma, claim, { state: "failed", outcome: "failed", error: got.reason });
      outcome = { kind: "failed", reason: got.reason };
    } else {
      try {
        const r = await loadAndMatch(deps.prisma, claim, req.billDate, { pendingDays: deps.settings.pendingDays }, (push) =>
          parseBillFile(got.file, push));
        if (r.kind === "footer") {
          const reason = `footer disagrees with the rows: ${r.problems.join("; ")}`;
          await finishWithoutMatch(deps.prisma, claim, { state: "corrupt", outcome: "corrupt", error: reason, summary: r.summary });
          deps.metrics.billAlerts.inc({ reason: "corrupt" });
          outcome = { kind: "corrupt", reason };
        } else {
          for (const [kind, n] of Object.entries(r.result.found)) if (n) deps.metrics.billDifferences.inc({ kind }, n);
          outcome = { kind: r.result.state, differencesOpen: r.result.differencesOpen, found: r.result.found, rows: r.summary.trades + r.summary.refunds };
        }
      } catch (e) {
        if (!(e instanceof BillFormatError)) throw e;
        await finishWithoutMatch(deps.prisma, claim, { state: "corrupt", outcome: "corrupt", error: e.message });
        deps.metrics.billAlerts.inc({ reason: "corrupt" });
        outcome = { kind: "corrupt", reason: e.message };
      } finally {
        await got.cleanup();
      }
    }
  } catch (e) {
    const reason = (e as Error).message;
    await finishWithoutMatch(deps.prisma, claim, { state: "failed", outcome: "failed", error: reason }).catch(() => false);
    outcome = { kind: "failed", reason };
  }
  deps.metrics.billRuns.inc({ outcome: outcome.kind });
  log?.info({ batchId: claim.batchId, attempt: claim.attempt, outcome }, "bill reconciliation attempt finished");
  return outcome;
}

/**
 * The days a tick should try: yesterday and the `catchUpDays` before it that have no finished batch.
 * Pure: the caller passes the finished days it found.
 */
export function daysToTry(now: Date, catchUpDays: number, finished: ReadonlySet<string>): string[] {
  const yesterday = addDays(beijingDay(now), -1);
  const days: string[] = [];
  for (let i = catchUpDays - 1; i >= 0; i--) {
    const d = addDays(yesterday, -i);
    if (!finished.has(d)) days.push(d);
  }
  return days;
}

/** One scheduler tick: every day of the catch-up window without a finished batch gets an attempt. */
export async function billTick(deps: BillDeps, trigger = "schedule"): Promise<Array<{ billDate: string; outcome: BillRunOutcome }>> {
  const now = deps.now?.() ?? new Date();
  const from = addDays(beijingDay(now), -deps.settings.catchUpDays);
  const rows = await deps.prisma.billBatch.findMany({
    where: { billType: "trade", billDate: { gte: from }, state: { in: ["matched", "differences", "no_bill", "corrupt"] } },
    select: { billDate: true },
  });
  const results: Array<{ billDate: string; outcome: BillRunOutcome }> = [];
  for (const billDate of daysToTry(now, deps.settings.catchUpDays, new Set(rows.map((r) => r.billDate)))) {
    results.push({ billDate, outcome: await reconcileBillDay(deps, { billDate, trigger }) });
  }
  return results;
}
