// Figures for the dashboard. Every query is bounded by an index (bench/admin.ts runs the dashboard at
// a million orders): day ranges go through order(created_at) / order(paid_at), statuses through
// order(status, …), anomaly events through order_event(type, created_at).
import type { PrismaClient } from "@prisma/client";
import type { Queue } from "bullmq";
import { EVENT } from "../../core/orders/index.ts";

export interface DayPoint {
  /** YYYY-MM-DD in China Standard Time. */
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

export interface DashboardData {
  generatedAt: string;
  today: { paidOrders: number; revenueFen: number };
  unpaid: number;
  needsReview: number;
  anomalies: { eventId: number; orderId: number; outTradeNo: string; type: string; createdAt: string }[];
  /** null when Redis did not answer. */
  queues: QueueHealth[] | null;
  /** Link to the queue board, for roles that may open it. */
  queuesHref: string | null;
  sweep: { finishedAt: string; failed: boolean; result: unknown } | null;
  /** What reconciliation (and expiry) did in the last 24 hours: event type → count. */
  reconciled: Record<string, number>;
  series: DayPoint[];
}

// The shop's day is China Standard Time: UTC+8 all year (no daylight saving since 1991).
const CST_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 24 * 3600_000;
export const CHART_DAYS = 14;

/** Start of the CST calendar day containing `now`, as a UTC instant. */
export function startOfShopDay(now: Date): Date {
  return new Date(Math.floor((now.getTime() + CST_OFFSET_MS) / DAY_MS) * DAY_MS - CST_OFFSET_MS);
}

function shopDayLabel(instant: Date): string {
  return new Date(instant.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10);
}

const ANOMALY_TYPES = Object.values(EVENT).filter((t) => t.startsWith("anomaly."));
const PAID_LIKE = ["PAID", "PARTIALLY_REFUNDED", "REFUNDED"];
const RECONCILE_OUTCOMES = Object.values(EVENT).filter((t) => t !== EVENT.created);

export async function loadDashboard(
  prisma: PrismaClient,
  deps: { queues: Queue[] | null; sweepQueue: Queue | null; queuesHref: string | null; now?: Date },
): Promise<DashboardData> {
  const now = deps.now ?? new Date();
  const today = startOfShopDay(now);
  const chartStart = new Date(today.getTime() - (CHART_DAYS - 1) * DAY_MS);

  const [todayRow, unpaid, needsReview, anomalies, seriesRows, reconciledRows, queues, sweep] = await Promise.all([
    prisma.$queryRaw<{ n: number; fen: bigint | null }[]>`
      SELECT count(*)::int AS n, sum(total_fen)::bigint AS fen FROM "order"
      WHERE paid_at >= ${today} AND status::text = ANY(${PAID_LIKE})`,
    prisma.order.count({ where: { status: "UNPAID" } }),
    prisma.order.count({ where: { needsReview: true } }),
    prisma.$queryRaw<{ id: number; order_id: number; out_trade_no: string; type: string; created_at: Date }[]>`
      SELECT e.id, e.order_id, o.out_trade_no, e.type, e.created_at
      FROM order_event e JOIN "order" o ON o.id = e.order_id
      WHERE e.type = ANY(${ANOMALY_TYPES}) ORDER BY e.created_at DESC LIMIT 10`,
    prisma.$queryRaw<{ day: string; orders: number; paid: number; fen: bigint | null }[]>`
      SELECT to_char(created_at + interval '8 hours', 'YYYY-MM-DD') AS day,
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
  ]);

  const byDay = new Map(seriesRows.map((r) => [r.day, r]));
  const series: DayPoint[] = Array.from({ length: CHART_DAYS }, (_, i) => {
    const day = shopDayLabel(new Date(chartStart.getTime() + i * DAY_MS));
    const r = byDay.get(day);
    return { day, orders: r?.orders ?? 0, paidOrders: r?.paid ?? 0, revenueFen: Number(r?.fen ?? 0) };
  });

  return {
    generatedAt: now.toISOString(),
    today: { paidOrders: todayRow[0]?.n ?? 0, revenueFen: Number(todayRow[0]?.fen ?? 0) },
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
    return {
      finishedAt: new Date(newest.finishedOn).toISOString(),
      failed: isFailed,
      result: isFailed ? { error: newest.failedReason } : newest.returnvalue ?? null,
    };
  } catch {
    return null;
  }
}
