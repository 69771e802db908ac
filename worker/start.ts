// The worker role: BullMQ consumers for notify applies, payment checks and reconciliation sweeps,
// plus the node-cron ticks that enqueue the sweeps. Usable in-process (tests, benches) and from
// worker/main.ts. close() stops the ticks, then lets in-flight jobs finish (worker.close()).
import { UnrecoverableError, Worker, type ConnectionOptions, type Job, type Processor } from "bullmq";
import { ZodError } from "zod";
import { runWithWork } from "../core/logging/index.ts";
import { readSweepHealth, recordSweepResult } from "../core/health/sweep.ts";
import { metrics, queueDepthOf, setQueueDepthSource, setSweepHealthSource } from "../core/metrics/index.ts";
import {
  alipayFromConfig, applyNotification, checkPayment, createOrderBatching, createOrderDeps, loadInboxRow, NotificationNotFoundError, OrderNotFoundError, recordApplyFailure, settleInbox, type OrderDeps,
} from "../core/orders/index.ts";
import { createQueues, JOB_OPTIONS, NotifyApplyJob, PaymentCheckJob, QUEUE, ReconcileSweepJob, RefundJob, type QueueName, type Queues } from "../core/queues/index.ts";
import { applyRefundNotification, checkRefund, createRefundDeps, submitRefund, type RefundDeps } from "../core/refunds/index.ts";
import { bullConnection } from "../core/redis/index.ts";
import type { RoleContext } from "../core/runtime/role.ts";
import { startBillWorker, type BillWorker } from "./bills.ts";
import { startSweepTicks, type SweepTicks } from "./scheduler.ts";
import { runRefundSweep } from "./refund-sweep.ts";
import { runSweep } from "./sweep.ts";

export interface WorkerOptions {
  /** Run the node-cron ticks (default true); tests may drive sweeps by hand. */
  ticks?: boolean;
  /** Override the Alipay client (tests). */
  alipay?: OrderDeps["alipay"];
  /** Override the Alipay client of the refund jobs (tests). */
  refundAlipay?: RefundDeps["alipay"];
}

export interface RunningWorker {
  queues: Queues;
  deps: OrderDeps;
  refundDeps: RefundDeps;
  workers: Worker[];
  /** daily bill reconciliation (worker/bills.ts) */
  bills: BillWorker;
  close(): Promise<void>;
}

/** Enough concurrent checks to reach the rate limit even when each query takes ~100 ms. */
export function checkConcurrency(base: number, qps: number): number {
  return Math.max(base, Math.min(Math.ceil(qps / 5), 200));
}

/**
 * Failures a retry cannot fix (the job names an order or inbox row that does not exist, its data
 * does not parse) fail the job at once instead of after every attempt. Everything else — the
 * database or Alipay unreachable, ConcurrentChangeError — is retried with backoff.
 */
function isPermanent(e: unknown): boolean {
  return e instanceof ZodError || e instanceof OrderNotFoundError || e instanceof NotificationNotFoundError;
}

function timed<T>(queue: QueueName, fn: (job: Job) => Promise<T>): Processor {
  return async (job: Job) => {
    metrics.jobLatency.observe({ queue }, Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp) / 1000);
    const end = metrics.jobDuration.startTimer({ queue });
    const requestId = (job.data as { requestId?: string }).requestId ?? `job-${queue}-${job.id}`;
    try {
      const r = await runWithWork({ requestId, jobId: job.id }, () => fn(job));
      end({ result: "ok" });
      return r;
    } catch (e) {
      end({ result: "error" });
      if (isPermanent(e)) throw new UnrecoverableError(`${(e as Error).name}: ${(e as Error).message}`);
      throw e;
    }
  };
}

export async function startWorker(ctx: RoleContext, options: WorkerOptions = {}): Promise<RunningWorker> {
  const { config, logger, prisma } = ctx;
  const queues = createQueues(config);
  // Concurrent jobs share round trips to PostgreSQL (core/orders/batching.ts).
  const deps = createOrderDeps({ prisma, config, logger, queues, metrics, alipay: options.alipay, batching: createOrderBatching(prisma, { logger }) });
  const refundDeps = createRefundDeps({
    prisma, config, logger, queues, metrics,
    alipay: options.refundAlipay ?? (options.alipay && "refund" in options.alipay ? (options.alipay as unknown as RefundDeps["alipay"]) : alipayFromConfig(config, logger, prisma, metrics)),
  });
  const connection = bullConnection(config.redisUrl) as ConnectionOptions;
  const common = { connection, prefix: config.redisPrefix, lockDuration: config.worker.lockMs, stalledInterval: config.worker.lockMs };

  const notifyWorker = new Worker(
    QUEUE.notifyApply,
    timed(QUEUE.notifyApply, async (job) => {
      const data = NotifyApplyJob.parse(job.data);
      // Read once for both appliers. Refund notifies are applied by core/refunds (our refund settled,
      // external ones recorded); the rest is order evidence.
      const row = await loadInboxRow(deps, data.notificationId);
      const r = await applyRefundNotification(refundDeps, data, () => applyNotification(deps, data, row), row);
      // What the job returns is stored in Redis (and in its 'completed' event): a summary, not the rows.
      return "order" in r && r.order && typeof r.order === "object" && "status" in r.order
        ? { outcome: (r as { outcome?: unknown }).outcome, orderId: r.order.id, status: r.order.status }
        : "refund" in r && r.refund ? { outcome: (r as { outcome?: unknown }).outcome, refundId: r.refund.id, state: r.refund.state } : r;
    }),
    { ...common, concurrency: config.worker.concurrency },
  );
  // An apply that failed for good (attempts exhausted, or unrecoverable) stays in the failed set; its
  // inbox row says so (settleInbox re-drives it a few times, then it is left for staff).
  notifyWorker.on("failed", (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || err.name === "UnrecoverableError" || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    const parsed = NotifyApplyJob.safeParse(job.data);
    if (!parsed.success) return;
    logger.error({ notificationId: parsed.data.notificationId, jobId: job.id, err: err.message }, "notify apply failed for good; visible to staff");
    void recordApplyFailure(deps, { notificationId: parsed.data.notificationId, error: err.message }).catch(() => {});
  });

  const checkWorker = new Worker(
    QUEUE.paymentCheck,
    timed(QUEUE.paymentCheck, async (job) => {
      const data = PaymentCheckJob.parse(job.data);
      const r = await checkPayment(deps, { orderId: data.orderId, source: data.source, actor: data.actor });
      return { outcome: r.outcome, status: r.order.status };
    }),
    {
      ...common,
      concurrency: checkConcurrency(config.worker.concurrency, config.alipay.queryQps),
      // Global across replicas: BullMQ keeps the limiter's counter in Redis.
      limiter: { max: config.alipay.queryQps, duration: 1000 },
    },
  );

  const sweepWorker = new Worker(
    QUEUE.reconcileSweep,
    timed(QUEUE.reconcileSweep, async (job) => {
      const data = ReconcileSweepJob.parse(job.data);
      const end = metrics.sweepDuration.startTimer();
      try {
        const r = await runSweep(
          { prisma, queues, logger },
          { batchSize: config.reconcile.batchSize, intervalSeconds: data.intervalSeconds, onProgress: (n) => job.updateProgress({ enqueued: n }) },
        );
        const rr = await runRefundSweep({ prisma, queues, logger, refundDeps }, { batchSize: config.reconcile.batchSize, intervalSeconds: data.intervalSeconds });
        metrics.sweeps.inc({ result: "ok" });
        await recordSweepResult(ctx.redis, config.redisPrefix, true).catch((e) => logger.warn({ err: (e as Error).message }, "could not record the sweep's success"));
        metrics.sweepOrders.inc(r.enqueued);
        if (r.enqueued) logger.info({ slot: data.slot, ...r }, "reconciliation sweep enqueued payment checks");
        // The same tick keeps the callback inbox settled (one sweep job per slot across replicas).
        const inbox = await settleInbox(deps, {
          settleAfterMs: config.inbox.settleAfterSeconds * 1000,
          rejectedRetentionMs: config.inbox.rejectedRetentionDays * 24 * 3600_000,
          batchSize: config.reconcile.batchSize,
        }).catch((e) => {
          logger.warn({ err: (e as Error).message }, "inbox upkeep failed; the next tick retries");
          return null;
        });
        if (rr.refundChecks) logger.info({ slot: data.slot, ...rr }, "reconciliation sweep enqueued refund checks");
        return { ...r, ...rr, inbox, slot: data.slot, worker: process.pid };
      } catch (e) {
        metrics.sweeps.inc({ result: "error" });
        await recordSweepResult(ctx.redis, config.redisPrefix, false).catch(() => {});
        throw e;
      } finally {
        end();
      }
    }),
    { ...common, concurrency: 1 },
  );

  // Refunds: submit (alipay.trade.refund) and check (fastpay.refund.query) jobs, core/refunds.
  const refundAttempts = JOB_OPTIONS[QUEUE.refund].attempts;
  const refundWorker = new Worker(
    QUEUE.refund,
    timed(QUEUE.refund, async (job) => {
      const data = RefundJob.parse(job.data);
      const r = data.action === "submit"
        // An unknown outcome throws (BullMQ retries with the same out_request_no) except on the last
        // attempt, which leaves the refund UNKNOWN for the sweep's refund query.
        ? await submitRefund(refundDeps, { refundId: data.refundId, retryUnknown: job.attemptsMade + 1 < refundAttempts })
        : await checkRefund(refundDeps, { refundId: data.refundId });
      return { outcome: r.outcome, state: r.refund.state, reason: r.reason };
    }),
    { ...common, concurrency: config.worker.concurrency, limiter: { max: config.alipay.queryQps, duration: 1000 } },
  );

  const workers = [notifyWorker, checkWorker, sweepWorker, refundWorker];
  for (const w of workers) w.on("error", (err) => logger.warn({ queue: w.name, err: err.message }, "queue worker error (reconnecting)"));
  setQueueDepthSource(queueDepthOf(queues.all()));
  setSweepHealthSource(() => readSweepHealth(ctx.redis, config.redisPrefix));

  const ticks: SweepTicks | null = options.ticks === false ? null : startSweepTicks({ queues, intervalSeconds: config.reconcile.intervalSeconds, logger });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const bills = await startBillWorker({
    prisma, config, logger, metrics, alipay: alipayFromConfig(config, logger, prisma, metrics), ticks: options.ticks !== false && config.bills.schedule,
  });
  logger.info({ queues: [...workers.map((w) => w.name), bills.worker.name], prefix: config.redisPrefix }, "worker consuming");

  let closing: Promise<void> | null = null;
  return {
    queues,
    deps,
    refundDeps,
    workers,
    bills,
    close() {
      closing ??= (async () => {
        await ticks?.stop();
        await bills.close();
        // worker.close() waits for in-flight jobs to finish.
        await Promise.allSettled(workers.map((w) => w.close()));
        await queues.close();
      })();
      return closing;
    },
  };
}
