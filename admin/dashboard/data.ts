// Figures for the dashboard. Every query is bounded by an index (bench/admin.ts runs the dashboard at
// a million orders): day ranges go through order(created_at) / order(paid_at), statuses through
// order(status, …), anomaly events through order_event(type, created_at).
import type { PrismaClient } from "@prisma/client";
import type { Queue } from "bullmq";
import { addDays, beijingDay } from "../../core/bills/format.ts";
import { EVENT } from "../../core/orders/index.ts";
import { dayOf, dayStarts } from "../display-time.ts";

export interface DayPoint {
  /** YYYY-MM-DD in the display time zone (DISPLAY_TIME_ZONE). */
  day: string;
  orders: number;
  paidOrders: number;
  revenueFen: number;
}

export interface QueueHealth {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface SweepSummary {
  enqueued?: number;
  batches?: number;
  error?: string;
}

export interface DashboardData {
  /** The zone of every time and day on the page. */
  timeZone: string;
  generatedAt: string;
  /** refunds: succeeded today (refund.succeeded_at); netFen = revenue − refunds, both of today. */
  today: { paidOrders: number; revenueFen: number; refunds: number; refundedFen: number; netFen: number };
  unpaid: number;
  needsReview: number;
  anomalies: { eventId: number; orderId: number; outTradeNo: string; type: string; createdAt: string }[];
  /** null when Redis did not answer. */
  queues: QueueHealth[] | null;
  /** Link to the queue board, for roles that may open it. */
  queuesHref: string | null;
  /** What staff can act on: how many orders it queued for a payment check, in how many batches, or why it failed. */
  sweep: { finishedAt: string; failed: boolean; result: SweepSummary } | null;
  /** What reconciliation (and expiry) did in the last 24 hours: event type → count. */
  reconciled: Record<string, number>;
  series: DayPoint[];
  /** 昨日对账: yesterday's (Beijing time) trade bill batch, both sides' money; batch null when none exists yet. */
  bills: { billDate: string; batch: BillCard | null };
}

export interface BillSide {
  trades: number;
  tradeFen: number;
  refunds: number;
  refundFen: number;
  netFen: number;
}

export interface BillCard {
  id: number;
  state: string;
  differencesOpen: number;
  attempts: number;
  lastError: string;
  finishedAt: string | null;
  alipay: BillSide;
  ours: BillSide;
}

const DAY_MS = 24 * 3600_000;
export const CHART_DAYS = 14;

const ANOMALY_TYPES = Object.values(EVENT).filter((t) => t.startsWith("anomaly."));
const PAID_LIKE = ["PAID", "PARTIALLY_REFUNDED", "REFUNDED"];
const RECONCILE_OUTCOMES = Object.values(EVENT).filter((t) => t !== EVENT.created);

export async function loadDashboard(
  prisma: PrismaClient,
  deps: { queues: Queue[] | null; sweepQueue: Queue | null; queuesHref: string | null; timeZone: string; now?: Date },
): Promise<DashboardData> {
  const now = deps.now ?? new Date();
  // The shop's days in the display zone: today is the last of CHART_DAYS.
  const days = dayStarts(now, CHART_DAYS, deps.timeZone);
  const today = days[CHART_DAYS - 1];
  const chartStart = days[0];
  const edges = days.map((d) => d.getTime() / 1000);

  const billDate = addDays(beijingDay(now), -1);
  const [refundRow, todayRow, unpaid, needsReview, anomalies, seriesRows, reconciledRows, queues, sweep, billBatch] = await Promise.all([
    // refund(succeeded_at) is indexed.
    prisma.$queryRaw<{ n: number; fen: bigint | null }[]>`
      SELECT count(*)::int AS n, sum(amount_fen)::bigint AS fen FROM refund WHERE succeeded_at >= ${today} AND state = 'SUCCEEDED'`,
    prisma.$queryRaw<{ n: number; fen: bigint | null }[]>`
      SELECT count(*)::int AS n, sum(total_fen)::bigint AS fen FROM "order"
      WHERE paid_at >= ${today} AND status::text = ANY(${PAID_LIKE})`,
    prisma.order.count({ where: { status: "UNPAID" } }),
    prisma.order.count({ where: { needsReview: true } }),
    prisma.$queryRaw<{ id: number; order_id: number; out_trade_no: string; type: string; created_at: Date }[]>`
      SELECT e.id, e.order_id, o.out_trade_no, e.type, e.created_at
      FROM order_event e JOIN "order" o ON o.id = e.order_id
      WHERE e.type = ANY(${ANOMALY_TYPES}) ORDER BY e.created_at DESC LIMIT 10`,
    // Bucket i (1-based) holds the orders created from edges[i-1] to edges[i]: the zone's day
    // boundaries come from here (display-time.ts), not from SQL date arithmetic.
    prisma.$queryRaw<{ bucket: number; orders: number; paid: number; fen: bigint | null }[]>`
      SELECT width_bucket(extract(epoch FROM created_at)::float8, ${edges}::float8[]) AS bucket,
             count(*)::int AS orders,
             (count(*) FILTER (WHERE status::text = ANY(${PAID_LIKE})))::int AS paid,
             (sum(total_fen) FILTER (WHERE status::text = ANY(${PAID_LIKE})))::bigint AS fen
      FROM "order" WHERE created_at >= ${chartStart} GROUP BY 1`,
    prisma.$queryRaw<{ type: string; n: number }[]>`
      SELECT type, count(*)::int AS n FROM order_event
      WHERE type = ANY(${RECONCILE_OUTCOMES}) AND created_at >= ${new Date(now.getTime() - DAY_MS)} AND source IN ('reconcile', 'expiry')
      GROUP BY type`,
    queueHealth(deps.queues),
    lastSweep(deps.sweepQueue),
    prisma.billBatch.findUnique({ where: { billType_billDate: { billType: "trade", billDate } } }),
  ]);

  const byBucket = new Map(seriesRows.map((r) => [Number(r.bucket), r]));
  const series: DayPoint[] = days.map((start, i) => {
    const r = byBucket.get(i + 1);
    return { day: dayOf(start, deps.timeZone), orders: r?.orders ?? 0, paidOrders: r?.paid ?? 0, revenueFen: Number(r?.fen ?? 0) };
  });

  return {
    timeZone: deps.timeZone,
    generatedAt: now.toISOString(),
    today: {
      paidOrders: todayRow[0]?.n ?? 0,
      revenueFen: Number(todayRow[0]?.fen ?? 0),
      refunds: refundRow[0]?.n ?? 0,
      refundedFen: Number(refundRow[0]?.fen ?? 0),
      netFen: Number(todayRow[0]?.fen ?? 0) - Number(refundRow[0]?.fen ?? 0),
    },
    unpaid,
    needsReview,
    anomalies: anomalies.map((a) => ({
      eventId: a.id, orderId: a.order_id, outTradeNo: a.out_trade_no, type: a.type, createdAt: a.created_at.toISOString(),
    })),
    queues,
    queuesHref: deps.queuesHref,
    sweep,
    reconciled: Object.fromEntries(reconciledRows.map((r) => [r.type, r.n])),
    series,
    bills: {
      billDate,
      batch: billBatch && {
        id: billBatch.id, state: billBatch.state, differencesOpen: billBatch.differencesOpen, attempts: billBatch.attempts, lastError: billBatch.lastError,
        finishedAt: billBatch.finishedAt?.toISOString() ?? null,
        alipay: { trades: billBatch.billTrades, tradeFen: Number(billBatch.billTradeFen), refunds: billBatch.billRefunds, refundFen: Number(billBatch.billRefundFen), netFen: Number(billBatch.billNetFen) },
        ours: { trades: billBatch.localTrades, tradeFen: Number(billBatch.localTradeFen), refunds: billBatch.localRefunds, refundFen: Number(billBatch.localRefundFen), netFen: Number(billBatch.localNetFen) },
      },
    },
  };
}

const REDIS_TIMEOUT_MS = 1500;
function bounded<T>(p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("redis timeout")), REDIS_TIMEOUT_MS).unref())]);
}

async function queueHealth(queues: Queue[] | null): Promise<QueueHealth[] | null> {
  if (!queues) return null;
  try {
    return await bounded(Promise.all(queues.map(async (q) => {
      const c = await q.getJobCounts("waiting", "prioritized", "active", "delayed", "failed");
      return { name: q.name, waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
    })));
  } catch {
    return null;
  }
}

/** The newest finished sweep job (completed or failed) and what it returned. */
async function lastSweep(queue: Queue | null): Promise<DashboardData["sweep"]> {
  if (!queue) return null;
  try {
    const [completed, failed] = await bounded(Promise.all([queue.getJobs(["completed"], 0, 0, false), queue.getJobs(["failed"], 0, 0, false)]));
    const newest = [...completed, ...failed].filter(Boolean).sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0))[0];
    if (!newest?.finishedOn) return null;
    const isFailed = failed.includes(newest);
    // Only what staff can act on: the job's slot and the worker's process id are for operators'
    // logs, not for the dashboard.
    const r = (newest.returnvalue ?? {}) as Record<string, unknown>;
    const count = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
    return {
      finishedAt: new Date(newest.finishedOn).toISOString(),
      failed: isFailed,
      result: isFailed ? { error: newest.failedReason } : { enqueued: count(r.enqueued), batches: count(r.batches) },
    };
  } catch {
    return null;
  }
}
