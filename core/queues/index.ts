// The BullMQ queues every role shares: names, job payloads (zod, checked on both ends), job options,
// and one factory. Queues carry work, never truth: payment idempotency lives in PostgreSQL
// (core/orders), so a duplicated or lost job can delay an order but never pay it twice.
import { Queue, type ConnectionOptions, type JobsOptions, type QueueOptions } from "bullmq";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { currentWork } from "../logging/index.ts";
import { bullConnection } from "../redis/index.ts";

export const QUEUE = {
  /** Apply one inbox row (PaymentNotification) through the state machine. */
  notifyApply: "notify-apply",
  /** Ask Alipay about one order (alipay.trade.query) and apply the answer; rate-limited to ALIPAY_QUERY_QPS. */
  paymentCheck: "payment-check",
  /** One reconciliation sweep per tick slot: find due UNPAID orders, enqueue their checks. */
  reconcileSweep: "reconcile-sweep",
  /** Send one refund to Alipay (alipay.trade.refund) or settle it (fastpay.refund.query): core/refunds. */
  refund: "refund",
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

const requestId = z.string().min(1).max(128).optional();

export const NotifyApplyJob = z.object({
  notificationId: z.number().int().positive(),
  requestId,
});
export type NotifyApplyJob = z.infer<typeof NotifyApplyJob>;

export const CHECK_SOURCES = ["reconcile", "staff", "return", "buyer", "notify"] as const;
export type CheckSource = (typeof CHECK_SOURCES)[number];

export const PaymentCheckJob = z.object({
  orderId: z.number().int().positive(),
  source: z.enum(CHECK_SOURCES),
  actor: z.string().max(200).optional(),
  requestId,
});
export type PaymentCheckJob = z.infer<typeof PaymentCheckJob>;

export const ReconcileSweepJob = z.object({
  /** floor-ish(epoch seconds / interval): the tick slot this sweep belongs to (see sweepSlot). */
  slot: z.number().int().nonnegative(),
  intervalSeconds: z.number().int().positive(),
});
export type ReconcileSweepJob = z.infer<typeof ReconcileSweepJob>;

export const REFUND_ACTIONS = ["submit", "check"] as const;
export const RefundJob = z.object({
  refundId: z.number().int().positive(),
  action: z.enum(REFUND_ACTIONS),
  requestId,
});
export type RefundJob = z.infer<typeof RefundJob>;

/**
 * The tick slot for a moment: round(now / interval). Rounding (not flooring) makes replicas whose
 * cron fires a few milliseconds before or after the boundary agree on the slot.
 */
export function sweepSlot(nowMs: number, intervalSeconds: number): number {
  return Math.round(nowMs / 1000 / intervalSeconds);
}

const DAY_S = 24 * 3600;

/** Job options per queue. Failed jobs are kept (visible to staff, re-drivable); completed ones expire. */
export const JOB_OPTIONS = {
  [QUEUE.notifyApply]: {
    attempts: 8,
    backoff: { type: "exponential", delay: 500 },
    removeOnComplete: { age: 3600, count: 50_000 },
    removeOnFail: false,
  },
  [QUEUE.paymentCheck]: {
    // An "unknown" answer from Alipay is not a job failure (the order's next_check_at says when to
    // ask again); attempts only cover crashes such as the database being unreachable.
    attempts: 5,
    backoff: { type: "exponential", delay: 1000 },
    removeOnComplete: { age: 600, count: 10_000 },
    removeOnFail: { age: 7 * DAY_S },
  },
  [QUEUE.reconcileSweep]: {
    // A failed sweep is not retried: the next tick selects every order that is still due.
    attempts: 1,
    removeOnFail: { age: DAY_S, count: 1000 },
  },
  [QUEUE.refund]: {
    // An unknown outcome (timeout, 20000, ACQ.SYSTEM_ERROR) makes the submit job throw: BullMQ
    // retries it, and the retry sends the SAME out_request_no (Alipay replays the refund instead of
    // making a second one). After the last attempt the refund stays UNKNOWN and the sweep settles it
    // with fastpay.refund.query. Money safety is in PostgreSQL (core/refunds), not in the job.
    attempts: 4,
    backoff: { type: "exponential", delay: 2000 },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * DAY_S },
  },
} satisfies Record<QueueName, JobsOptions>;

export interface Queues {
  prefix: string;
  notifyApply: Queue;
  paymentCheck: Queue;
  reconcileSweep: Queue;
  refund: Queue;
  all(): Queue[];
  /** Enqueue the apply job of an inbox row. Rejects (within timeoutMs) when Redis cannot take it. */
  enqueueNotifyApply(data: NotifyApplyJob): Promise<string>;
  /**
   * The apply jobs of several inbox rows in one round trip (BullMQ addBulk: one pipeline), ids in
   * order. Rejects (within timeoutMs) when Redis did not take every one of them — some may still have
   * been added, as after a timed-out single enqueue: an apply job is idempotent. Each item as
   * notifyApplyJob made it.
   */
  enqueueNotifyApplies(data: NotifyApplyJob[]): Promise<string[]>;
  /**
   * Enqueue a payment check. At most one pending check per order (BullMQ deduplication until that
   * job finishes): a burst of returns or forged notifies for one order costs one query.
   * Buyer-facing sources jump the reconciliation backlog.
   */
  enqueuePaymentCheck(data: PaymentCheckJob): Promise<string | undefined>;
  enqueuePaymentChecks(data: PaymentCheckJob[]): Promise<number>;
  /** One sweep per slot across all replicas: the job id is the slot (see docs in worker/scheduler.ts). */
  enqueueSweep(data: ReconcileSweepJob): Promise<string | undefined>;
  /** One pending job per refund and action (deduplicated until it finishes). */
  enqueueRefund(data: RefundJob): Promise<string | undefined>;
  close(): Promise<void>;
}

export interface QueueFactoryOptions {
  /** Bound on each enqueue; the notify handler must answer Alipay in time even when Redis hangs. */
  enqueueTimeoutMs?: number;
}

export class EnqueueError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = "EnqueueError";
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new EnqueueError(`${what}: Redis did not accept the job within ${ms} ms`)), ms);
    p.then(
      (v) => { clearTimeout(t); resolve(v); },
      (e) => { clearTimeout(t); reject(e instanceof EnqueueError ? e : new EnqueueError(`${what}: ${(e as Error)?.message ?? e}`, e)); },
    );
  });
}

const CHECK_PRIORITY: Record<CheckSource, number> = { staff: 1, buyer: 1, return: 1, notify: 2, reconcile: 10 };

/**
 * The job carries the request id of the work that enqueued it (the notify's HTTP request, the staff
 * action, the sweep job), so the worker's log lines of the job share it (worker/start.ts re-enters it).
 */
function withRequestId<T extends { requestId?: string }>(data: T): T {
  const requestId = data.requestId ?? currentWork()?.requestId;
  return requestId ? { ...data, requestId } : data;
}

/** A notify-apply job's data, checked, with the request id of the work enqueueing it (call it there). */
export function notifyApplyJob(data: NotifyApplyJob): NotifyApplyJob {
  return NotifyApplyJob.parse(withRequestId(data));
}

function checkJob(data: PaymentCheckJob): { name: string; data: PaymentCheckJob; opts: JobsOptions } {
  const parsed = PaymentCheckJob.parse(withRequestId(data));
  return {
    name: `check-${parsed.source}`,
    data: parsed,
    opts: {
      ...JOB_OPTIONS[QUEUE.paymentCheck],
      priority: CHECK_PRIORITY[parsed.source],
      deduplication: { id: `check-${parsed.orderId}` },
    },
  };
}

/**
 * Producer side of every queue (workers open their own consumers with the same names and prefix).
 * The connection does not queue commands while Redis is unreachable (enableOfflineQueue: false),
 * so a producer learns at once that Redis is down instead of hanging.
 */
export function createQueues(config: Pick<Config, "redisUrl" | "redisPrefix">, options: QueueFactoryOptions = {}): Queues {
  const timeoutMs = options.enqueueTimeoutMs ?? 3000;
  const base: QueueOptions = {
    connection: { ...bullConnection(config.redisUrl), enableOfflineQueue: false } as ConnectionOptions,
    prefix: config.redisPrefix,
  };
  const make = (name: QueueName) => {
    const q = new Queue(name, base);
    // Connection errors surface on each enqueue (5xx to Alipay, job failure in workers); an
    // 'error' listener keeps them from crashing the process as unhandled events.
    q.on("error", () => {});
    return q;
  };
  const notifyApply = make(QUEUE.notifyApply);
  const paymentCheck = make(QUEUE.paymentCheck);
  const reconcileSweep = make(QUEUE.reconcileSweep);
  const refund = make(QUEUE.refund);
  return {
    prefix: config.redisPrefix,
    notifyApply,
    paymentCheck,
    reconcileSweep,
    refund,
    all: () => [notifyApply, paymentCheck, reconcileSweep, refund],
    async enqueueNotifyApply(data) {
      const job = await withTimeout(notifyApply.add("apply", notifyApplyJob(data), JOB_OPTIONS[QUEUE.notifyApply]), timeoutMs, "notify-apply");
      return job.id!;
    },
    async enqueueNotifyApplies(data) {
      if (data.length === 0) return [];
      const jobs = data.map((d) => ({ name: "apply", data: NotifyApplyJob.parse(d), opts: JOB_OPTIONS[QUEUE.notifyApply] }));
      const added = await withTimeout(notifyApply.addBulk(jobs), timeoutMs, "notify-apply (bulk)");
      return added.map((j) => j.id!);
    },
    async enqueuePaymentCheck(data) {
      const j = checkJob(data);
      const job = await withTimeout(paymentCheck.add(j.name, j.data, j.opts), timeoutMs, "payment-check");
      return job.id;
    },
    async enqueuePaymentChecks(data) {
      if (data.length === 0) return 0;
      await withTimeout(paymentCheck.addBulk(data.map(checkJob)), Math.max(timeoutMs, 10_000), "payment-check (bulk)");
      return data.length;
    },
    async enqueueSweep(data) {
      const parsed = ReconcileSweepJob.parse(data);
      const job = await withTimeout(
        reconcileSweep.add("sweep", parsed, {
          ...JOB_OPTIONS[QUEUE.reconcileSweep],
          jobId: `sweep-${parsed.slot}`,
          // Keep the completed job (and so its id) well past its slot: an id that is gone can be
          // added again, which would let a late replica run a second sweep for the same slot.
          removeOnComplete: { age: Math.max(parsed.intervalSeconds * 10, 60) },
        }),
        timeoutMs,
        "reconcile-sweep",
      );
      return job.id;
    },
    async enqueueRefund(data) {
      const parsed = RefundJob.parse(withRequestId(data));
      const job = await withTimeout(
        refund.add(`refund-${parsed.action}`, parsed, { ...JOB_OPTIONS[QUEUE.refund], deduplication: { id: `refund-${parsed.refundId}-${parsed.action}` } }),
        timeoutMs,
        "refund",
      );
      return job.id;
    },
    async close() {
      await Promise.allSettled([notifyApply.close(), paymentCheck.close(), reconcileSweep.close(), refund.close()]);
    },
  };
}
