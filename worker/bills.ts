// The worker's part of bill reconciliation: consume the bill queue, and tick on schedule.
//
// Schedule (docs/operations.md): at BILL_FETCH_AT Beijing time, then every BILL_RETRY_MINUTES until
// BILL_GIVE_UP_AT, a tick reconciles every day of the catch-up window (yesterday and the
// BILL_CATCH_UP_DAYS before it) that has no finished batch; a bill Alipay has not produced yet waits
// for the next tick, and at the give-up time becomes no_bill with an alert. At start-up one catch-up
// tick runs, for days missed while no worker ran. node-cron fires in every replica; the tick's job id
// is the slot, so one tick runs per slot, and claimBatch makes one attempt per batch at a time.
import { Worker, type ConnectionOptions } from "bullmq";
import cron, { type ScheduledTask } from "node-cron";
import type { PrismaClient } from "@prisma/client";
import type { BillAlipay } from "../core/bills/fetch.ts";
import { BILL_QUEUE, BillJob, createBillQueue, type BillQueue } from "../core/bills/queue.ts";
import { billTick, reconcileBillDay, type BillDeps } from "../core/bills/reconcile.ts";
import type { Config } from "../core/config/index.ts";
import type { Logger } from "../core/logging/index.ts";
import type { BillMetrics } from "../core/metrics/port.ts";
import { bullConnection } from "../core/redis/index.ts";

/** Minutes since Beijing midnight of an instant. */
export function beijingMinutes(at: Date): number {
  const b = new Date(at.getTime() + 8 * 3600_000);
  return b.getUTCHours() * 60 + b.getUTCMinutes();
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether a scheduled tick is due at this minute: fetchAt, fetchAt + k·retry, …, up to and including giveUpAt. */
export function isTickMinute(at: Date, s: Config["bills"]): boolean {
  const m = beijingMinutes(at);
  const from = minutesOf(s.fetchAt);
  const to = minutesOf(s.giveUpAt);
  if (m < from || m > to) return false;
  return m === to || (m - from) % s.retryMinutes === 0;
}

export interface BillWorker {
  queue: BillQueue;
  worker: Worker;
  close(): Promise<void>;
}

export async function startBillWorker(opts: {
  prisma: PrismaClient;
  config: Config;
  logger: Logger;
  /** the Prometheus adapter (core/metrics `metrics`) */
  metrics: BillMetrics;
  alipay: BillAlipay;
  /** node-cron ticks and the start-up catch-up (default true); tests drive runs by hand */
  ticks?: boolean;
  now?: () => Date;
}): Promise<BillWorker> {
  const { config, logger } = opts;
  const deps: BillDeps = { prisma: opts.prisma, alipay: opts.alipay, settings: config.bills, metrics: opts.metrics, logger, now: opts.now };
  const queue = createBillQueue(config);
  const worker = new Worker(
    BILL_QUEUE,
    async (job) => {
      const data = BillJob.parse(job.data);
      if (data.kind === "tick") return billTick(deps, data.trigger);
      return reconcileBillDay(deps, { billDate: data.billDate, trigger: "staff", actor: data.actor, rerun: true });
    },
    {
      connection: bullConnection(config.redisUrl) as ConnectionOptions,
      prefix: config.redisPrefix,
      concurrency: 1,
      // A million-row bill takes a while: the lock is renewed, and a dead worker's job is retried.
      lockDuration: config.worker.lockMs,
    },
  );
  worker.on("error", (err) => logger.warn({ err: err.message }, "bill worker error (reconnecting)"));
  await worker.waitUntilReady();

  let task: ScheduledTask | null = null;
  if (opts.ticks !== false) {
    task = cron.schedule(
      "* * * * *",
      async () => {
        const now = opts.now?.() ?? new Date();
        if (!isTickMinute(now, config.bills)) return;
        const slot = now.toISOString().slice(0, 16);
        await queue.enqueueTick("schedule", slot).catch((e) => logger.warn({ err: (e as Error).message }, "could not enqueue the bill tick"));
      },
      { name: "bill-tick", timezone: "UTC", noOverlap: true },
    );
    // Catch-up of days missed while no worker ran: one per start-up minute across replicas.
    const slot = (opts.now?.() ?? new Date()).toISOString().slice(0, 16);
    await queue.enqueueTick("catch_up", slot).catch((e) => logger.warn({ err: (e as Error).message }, "could not enqueue the bill catch-up"));
  }
  return {
    queue,
    worker,
    async close() {
      await task?.destroy();
      await worker.close();
      await queue.close();
    },
  };
}
