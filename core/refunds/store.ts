// The one module that writes refund rows. Every write is a short PostgreSQL transaction that locks
// the order row first, then the refund row (always in that order: no deadlocks), so:
//
// - insertRefund: the over-refund guard. Under the order's row lock, a second statement (a fresh
//   READ COMMITTED snapshot, so it sees refunds committed by whoever held the lock before) inserts
//   the refund only if   max(order.refunded_fen, succeeded refunds) + in-flight refunds + amount
//   ≤ order.total_fen.   Two staff submitting at the same moment are serialised on the lock; the
//   second finds the first's refund counted and is refused. (A single INSERT … SELECT … FOR UPDATE
//   would not do: its sum would be computed on the snapshot taken before the lock was granted.)
// - writeRefund: a compare-and-set on the refund's state (the decision was made on it), its audit
//   OrderEvent, and — when the refund becomes SUCCEEDED — the order's own transition decided by
//   core/orders/transitions.ts on the order as locked here, plus the inbox row's outcome when a
//   notify carried the evidence. One transaction: a refund moves the order exactly once.
//
// Order timestamps are bound as ISO strings with `Z` and left untyped: PostgreSQL reads them right
// both into timestamp(3) (the zone is ignored: the UTC wall time is stored, as Prisma does) and into
// timestamptz columns. The refund table's own columns are timestamptz.
import type { EventSource, NotificationOutcome, OrderStatus, PrismaClient, Refund, RefundSource, RefundState } from "@prisma/client";
import type pg from "pg";
import { sqlPoolOf } from "../db/index.ts";
import type { Decision } from "../orders/transitions.ts";
import { COUNTED_STATES } from "./transitions.ts";

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

const REFUND_COLUMNS = `id, order_id, out_request_no, amount_fen, state, source, reason, requested_by, approved_by, approved_at, rejected_by,
  rejected_at, rejection_reason, failure_code, failure_message, attempts, checks, last_call_at, next_check_at, last_call_answer,
  last_query_answer, submitted_at, succeeded_at, failed_at, settled_by, created_at, updated_at`;

function toRefund(r: Record<string, any>): Refund {
  return {
    id: r.id, orderId: r.order_id, outRequestNo: r.out_request_no, amountFen: r.amount_fen, state: r.state, source: r.source,
    reason: r.reason, requestedBy: r.requested_by, approvedBy: r.approved_by, approvedAt: r.approved_at, rejectedBy: r.rejected_by,
    rejectedAt: r.rejected_at, rejectionReason: r.rejection_reason, failureCode: r.failure_code, failureMessage: r.failure_message,
    attempts: r.attempts, checks: r.checks, lastCallAt: r.last_call_at, nextCheckAt: r.next_check_at, lastCallAnswer: r.last_call_answer,
    lastQueryAnswer: r.last_query_answer, submittedAt: r.submitted_at, succeededAt: r.succeeded_at, failedAt: r.failed_at,
    settledBy: r.settled_by, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

/** The order as the refund rules need it, read under its row lock. */
export interface LockedOrder {
  id: number;
  outTradeNo: string;
  status: OrderStatus;
  totalFen: number;
  refundedFen: number;
  expiresAt: Date;
  tradeNo: string | null;
  paidAt: Date | null;
  needsReview: boolean;
}

async function inTransaction<T>(prisma: PrismaClient, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await sqlPoolOf(prisma).connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

async function lockOrder(c: pg.PoolClient, orderId: number): Promise<LockedOrder | null> {
  // paid_at / expires_at are only compared, never written back: read as epoch ms whatever the column type.
  const { rows } = await c.query(
    `SELECT id, out_trade_no, status, total_fen, refunded_fen, trade_no, needs_review,
       (extract(epoch FROM ${utcOf("expires_at")}) * 1000)::float8 AS expires_ms,
       (extract(epoch FROM ${utcOf("paid_at")}) * 1000)::float8 AS paid_ms
     FROM "order" WHERE id = $1 FOR NO KEY UPDATE`,
    [orderId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id, outTradeNo: r.out_trade_no, status: r.status, totalFen: r.total_fen, refundedFen: r.refunded_fen, tradeNo: r.trade_no,
    needsReview: r.needs_review, expiresAt: new Date(r.expires_ms), paidAt: r.paid_ms === null ? null : new Date(r.paid_ms),
  };
}

/**
 * A timestamp column as timestamptz whether it is `timestamp` holding UTC (today's order table) or
 * already `timestamptz` (the inbox developer's migration): the expression works for both.
 */
function utcOf(column: string): string {
  return `(CASE WHEN pg_typeof(${column}) = 'timestamp without time zone'::regtype THEN (${column}::text || '+00')::timestamptz ELSE ${column}::text::timestamptz END)`;
}

// ---- creating a refund: the guarded insert ------------------------------------------------------

export interface NewRefund {
  orderId: number;
  outRequestNo: string;
  amountFen: number;
  state: RefundState;
  source: RefundSource;
  reason: string;
  requestedBy: string;
  now: Date;
  /** QUEUED refunds: when the sweep re-enqueues it should its job be lost. */
  nextCheckAt: Date | null;
  event: { type: string; source: EventSource; payload: Record<string, unknown> };
}

export type InsertResult =
  | { ok: true; refund: Refund; order: LockedOrder }
  | { ok: false; reason: "order_not_found" | "not_refundable" | "exceeds_refundable"; order: LockedOrder | null; refundableFen: number };

export async function insertRefund(prisma: PrismaClient, n: NewRefund, check?: (order: LockedOrder) => string | null): Promise<InsertResult | { ok: false; reason: "refused"; message: string; order: LockedOrder; refundableFen: number }> {
  return inTransaction(prisma, async (c) => {
    const order = await lockOrder(c, n.orderId);
    if (!order) return { ok: false as const, reason: "order_not_found" as const, order: null, refundableFen: 0 };
    const refundableFen = await refundable(c, order);
    if (order.status !== "PAID" && order.status !== "PARTIALLY_REFUNDED") return { ok: false as const, reason: "not_refundable" as const, order, refundableFen: 0 };
    const refusal = check?.(order);
    if (refusal) return { ok: false as const, reason: "refused" as const, message: refusal, order, refundableFen };
    // The guard itself, in SQL: evaluated on a snapshot taken after the order's lock was granted.
    const { rows } = await c.query(
      `INSERT INTO refund (order_id, out_request_no, amount_fen, state, source, reason, requested_by, next_check_at, created_at, updated_at)
       SELECT o.id, $2::text, $3::int, $4::"RefundState", $5::"RefundSource", $6::text, $7::text, $8::timestamptz, $9::timestamptz, $9::timestamptz
       FROM "order" o
       WHERE o.id = $1 AND o.status IN ('PAID', 'PARTIALLY_REFUNDED')
         AND GREATEST(o.refunded_fen, (SELECT coalesce(sum(amount_fen), 0) FROM refund WHERE order_id = $1 AND state = 'SUCCEEDED')::int)
           + (SELECT coalesce(sum(amount_fen), 0) FROM refund WHERE order_id = $1 AND state = ANY($10::"RefundState"[]) AND state <> 'SUCCEEDED')::int
           + $3::int <= o.total_fen
       RETURNING ${REFUND_COLUMNS}`,
      [n.orderId, n.outRequestNo, n.amountFen, n.state, n.source, n.reason, n.requestedBy, iso(n.nextCheckAt), iso(n.now), COUNTED_STATES],
    );
    if (!rows[0]) return { ok: false as const, reason: "exceeds_refundable" as const, order, refundableFen };
    const refund = toRefund(rows[0]);
    await insertEvent(c, order, { ...n.event, actor: n.requestedBy, notificationId: null, payload: { ...n.event.payload, refundId: refund.id, outRequestNo: refund.outRequestNo, amountFen: refund.amountFen, state: refund.state } }, n.now);
    return { ok: true as const, refund, order };
  });
}

/** What is left to refund on an order: total − max(refunded_fen, succeeded) − in-flight. */
async function refundable(c: pg.PoolClient | pg.Pool, order: Pick<LockedOrder, "id" | "totalFen" | "refundedFen">): Promise<number> {
  const { rows } = await c.query(
    `SELECT coalesce(sum(amount_fen) FILTER (WHERE state = 'SUCCEEDED'), 0)::int AS succeeded,
       coalesce(sum(amount_fen) FILTER (WHERE state <> 'SUCCEEDED' AND state = ANY($2::"RefundState"[])), 0)::int AS in_flight
     FROM refund WHERE order_id = $1`,
    [order.id, COUNTED_STATES],
  );
  const r = rows[0]!;
  return Math.max(0, order.totalFen - Math.max(order.refundedFen, r.succeeded) - r.in_flight);
}

/** Refundable amount of an order now (for forms and messages; the insert re-checks under the lock). */
export async function refundableFen(prisma: PrismaClient, order: Pick<LockedOrder, "id" | "totalFen" | "refundedFen">): Promise<number> {
  return refundable(sqlPoolOf(prisma), order);
}

// ---- changing a refund ----------------------------------------------------------------------------

/** Refund columns a write may set (a whitelist). */
export interface RefundChanges {
  state?: RefundState;
  approvedBy?: string;
  approvedAt?: Date;
  rejectedBy?: string;
  rejectedAt?: Date;
  rejectionReason?: string;
  failureCode?: string | null;
  failureMessage?: string | null;
  lastCallAt?: Date;
  nextCheckAt?: Date | null;
  lastCallAnswer?: unknown;
  lastQueryAnswer?: unknown;
  submittedAt?: Date;
  succeededAt?: Date;
  failedAt?: Date;
  settledBy?: string;
  /** attempts = attempts + 1 */
  countAttempt?: boolean;
  /** checks = checks + 1 */
  countCheck?: boolean;
}

const COLUMNS: Record<Exclude<keyof RefundChanges, "countAttempt" | "countCheck">, { column: string; kind?: "time" | "json" | "state" }> = {
  state: { column: "state", kind: "state" },
  approvedBy: { column: "approved_by" },
  approvedAt: { column: "approved_at", kind: "time" },
  rejectedBy: { column: "rejected_by" },
  rejectedAt: { column: "rejected_at", kind: "time" },
  rejectionReason: { column: "rejection_reason" },
  failureCode: { column: "failure_code" },
  failureMessage: { column: "failure_message" },
  lastCallAt: { column: "last_call_at", kind: "time" },
  nextCheckAt: { column: "next_check_at", kind: "time" },
  lastCallAnswer: { column: "last_call_answer", kind: "json" },
  lastQueryAnswer: { column: "last_query_answer", kind: "json" },
  submittedAt: { column: "submitted_at", kind: "time" },
  succeededAt: { column: "succeeded_at", kind: "time" },
  failedAt: { column: "failed_at", kind: "time" },
  settledBy: { column: "settled_by" },
};

export interface NewOrderEvent {
  type: string;
  source: EventSource;
  actor: string;
  notificationId: number | null;
  payload: Record<string, unknown>;
  /** order status change written with this event (null: an audit event, status unchanged) */
  toStatus?: OrderStatus;
  dedupeKey?: string;
}

export interface RefundWrite {
  refundId: number;
  /** The state the decision was made on: the write applies only if the refund is still in it. */
  expectState: RefundState;
  changes: RefundChanges;
  /** Audit event on the order's timeline (refund.approved, refund.succeeded, …). */
  event?: Omit<NewOrderEvent, "toStatus">;
  /**
   * Called under the locks when the refund becomes SUCCEEDED: the order state machine's decision on
   * the order as locked (core/orders/transitions.ts decide with refund_succeeded evidence).
   */
  orderDecision?: (order: LockedOrder) => Decision;
  orderEvent?: { source: EventSource; actor: string; payload: Record<string, unknown> };
  /** Set the order's needs_review (an anomaly staff must look at). */
  flagOrder?: boolean;
  /** The inbox row that carried the evidence: its outcome is written in the same transaction. */
  notification?: { id: number; outcome: NotificationOutcome };
  now: Date;
}

export interface RefundWriteResult {
  refund: Refund;
  order: LockedOrder;
  /** The order's decision, when one was asked for. */
  orderDecision: Decision | null;
  notificationMarked: boolean;
}

/** Apply a refund decision. Returns null when the refund was no longer in `expectState` (re-read, decide again). */
export async function writeRefund(prisma: PrismaClient, w: RefundWrite): Promise<RefundWriteResult | null> {
  return inTransaction(prisma, async (c) => {
    const { rows: ids } = await c.query(`SELECT order_id FROM refund WHERE id = $1`, [w.refundId]);
    if (!ids[0]) return null;
    const order = await lockOrder(c, ids[0].order_id);
    if (!order) return null;
    const values: unknown[] = [w.refundId, w.expectState];
    const param = (v: unknown) => {
      values.push(v);
      return `$${values.length}`;
    };
    const sets: string[] = [];
    for (const [key, value] of Object.entries(w.changes) as [keyof RefundChanges, unknown][]) {
      if (value === undefined) continue;
      if (key === "countAttempt") { if (value) sets.push("attempts = attempts + 1"); continue; }
      if (key === "countCheck") { if (value) sets.push("checks = checks + 1"); continue; }
      const col = COLUMNS[key];
      if (col.kind === "time") sets.push(`${col.column} = ${param(iso(value as Date | null))}::timestamptz`);
      else if (col.kind === "json") sets.push(`${col.column} = ${param(value === null ? null : JSON.stringify(value))}::jsonb`);
      else if (col.kind === "state") sets.push(`${col.column} = ${param(value)}::"RefundState"`);
      else sets.push(`${col.column} = ${param(value)}`);
    }
    sets.push(`updated_at = ${param(iso(w.now))}::timestamptz`);
    const { rows } = await c.query(
      `UPDATE refund SET ${sets.join(", ")} WHERE id = $1 AND state = $2::"RefundState" RETURNING ${REFUND_COLUMNS}`,
      values,
    );
    if (!rows[0]) return null;
    const refund = toRefund(rows[0]);
    if (w.event) await insertEvent(c, order, { ...w.event, payload: { ...w.event.payload, refundId: refund.id, outRequestNo: refund.outRequestNo, amountFen: refund.amountFen } }, w.now);

    let decision: Decision | null = null;
    let current = order;
    if (w.orderDecision) {
      decision = w.orderDecision(order);
      const oe = w.orderEvent ?? { source: "system" as EventSource, actor: "", payload: {} };
      const payload = { ...oe.payload, reason: decision.reason, refundId: refund.id, outRequestNo: refund.outRequestNo };
      if (decision.kind === "transition") {
        current = await updateOrder(c, order, { status: decision.to, refundedFen: decision.patch.refundedFen, needsReview: decision.patch.needsReview }, w.now);
        await insertEvent(c, order, { type: decision.event, source: oe.source, actor: oe.actor, notificationId: w.notification?.id ?? null, payload: { ...payload, anomaly: decision.anomaly }, toStatus: decision.to }, w.now);
      } else if (decision.kind === "anomaly") {
        if (!order.needsReview) current = await updateOrder(c, order, { needsReview: true }, w.now);
        await insertEvent(c, order, { type: decision.event, source: oe.source, actor: oe.actor, notificationId: w.notification?.id ?? null, payload, dedupeKey: `${decision.event}|refund:${refund.id}` }, w.now);
      }
    }
    if (w.flagOrder && !current.needsReview) current = await updateOrder(c, current, { needsReview: true }, w.now);
    let notificationMarked = false;
    if (w.notification) {
      const r = await c.query(
        `UPDATE payment_notification SET outcome = $2::"NotificationOutcome", processed_at = $3, attempts = attempts + 1, last_error = NULL, order_id = $4
         WHERE id = $1 AND outcome IN ('pending', 'failed')`,
        [w.notification.id, w.notification.outcome, iso(w.now), order.id],
      );
      notificationMarked = (r.rowCount ?? 0) > 0;
    }
    return { refund, order: current, orderDecision: decision, notificationMarked };
  });
}

/** Mark an inbox row's outcome on its own (a refund notify that changed nothing). */
export async function markNotification(prisma: PrismaClient, id: number, outcome: NotificationOutcome, now: Date, reason?: string): Promise<boolean> {
  const r = await sqlPoolOf(prisma).query(
    `UPDATE payment_notification SET outcome = $2::"NotificationOutcome", processed_at = $3, attempts = attempts + 1, last_error = NULL,
       reason = CASE WHEN $4::text IS NULL THEN reason ELSE $4::text END
     WHERE id = $1 AND outcome IN ('pending', 'failed')`,
    [id, outcome, iso(now), reason ?? null],
  );
  return (r.rowCount ?? 0) > 0;
}

async function updateOrder(c: pg.PoolClient, order: LockedOrder, set: { status?: OrderStatus; refundedFen?: number; needsReview?: boolean }, now: Date): Promise<LockedOrder> {
  const values: unknown[] = [order.id];
  const param = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const sets: string[] = [];
  if (set.status !== undefined) sets.push(`status = ${param(set.status)}::"OrderStatus"`);
  if (set.refundedFen !== undefined) sets.push(`refunded_fen = ${param(set.refundedFen)}`);
  if (set.needsReview !== undefined) sets.push(`needs_review = ${param(set.needsReview)}`);
  sets.push(`updated_at = ${param(iso(now))}`);
  // Settled orders are not checked by the payment sweep any more.
  if (set.status !== undefined) sets.push("next_check_at = NULL");
  await c.query(`UPDATE "order" SET ${sets.join(", ")} WHERE id = $1`, values);
  return { ...order, status: set.status ?? order.status, refundedFen: set.refundedFen ?? order.refundedFen, needsReview: set.needsReview ?? order.needsReview };
}

async function insertEvent(c: pg.PoolClient, order: LockedOrder, e: NewOrderEvent, now: Date): Promise<void> {
  await c.query(
    `INSERT INTO order_event (order_id, type, from_status, to_status, source, actor, notification_id, payload, created_at, dedupe_key)
     VALUES ($1, $2, $3::"OrderStatus", $4::"OrderStatus", $5::"EventSource", $6, $7, $8::jsonb, $9, $10)
     ON CONFLICT (order_id, dedupe_key) DO NOTHING`,
    [order.id, e.type, order.status, e.toStatus ?? order.status, e.source, e.actor, e.notificationId, JSON.stringify(e.payload), iso(now), e.dedupeKey ?? null],
  );
}

// ---- the sweep -------------------------------------------------------------------------------------

/**
 * Claim up to `limit` open refunds (QUEUED, SUBMITTED, UNKNOWN) whose next_check_at is due, leasing
 * them until `leaseUntil` (the job they are given writes the real next time). SKIP LOCKED: a refund
 * being written right now is left for the next tick.
 */
export async function claimDueRefunds(prisma: PrismaClient, input: { now: Date; limit: number; leaseUntil: Date }): Promise<{ id: number; state: RefundState }[]> {
  const { rows } = await sqlPoolOf(prisma).query(
    `WITH due AS (
       SELECT id FROM refund
       WHERE state IN ('QUEUED', 'SUBMITTED', 'UNKNOWN') AND next_check_at <= $1::timestamptz
       ORDER BY next_check_at, id
       LIMIT $2
       FOR UPDATE SKIP LOCKED
     )
     UPDATE refund r SET next_check_at = $3::timestamptz FROM due WHERE r.id = due.id
     RETURNING r.id, r.state`,
    [iso(input.now), input.limit, iso(input.leaseUntil)],
  );
  return rows.map((r) => ({ id: r.id, state: r.state }));
}

export async function loadRefund(prisma: PrismaClient, id: number): Promise<Refund | null> {
  const { rows } = await sqlPoolOf(prisma).query(`SELECT ${REFUND_COLUMNS} FROM refund WHERE id = $1`, [id]);
  return rows[0] ? toRefund(rows[0]) : null;
}

export async function loadRefundByRequestNo(prisma: PrismaClient, outRequestNo: string): Promise<Refund | null> {
  const { rows } = await sqlPoolOf(prisma).query(`SELECT ${REFUND_COLUMNS} FROM refund WHERE out_request_no = $1`, [outRequestNo]);
  return rows[0] ? toRefund(rows[0]) : null;
}
