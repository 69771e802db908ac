// The one module that writes refund rows (and only refund rows: the order, its timeline and inbox
// rows are written by core/orders/store.ts, whose in-transaction functions this module calls with its
// transaction client). Every write is a short PostgreSQL transaction that locks the order row first,
// then the refund row (always in that order: no deadlocks), so:
//
// - insertRefund: the over-refund guard. Under the order's row lock, a second statement (a fresh
//   READ COMMITTED snapshot, so it sees refunds committed by whoever held the lock before) inserts
//   the refund only if   succeeded + in-flight refunds + amount ≤ order.total_fen.   Two staff
//   submitting at the same moment are serialised on the lock; the second finds the first's refund
//   counted and is refused. (A single INSERT … SELECT … FOR UPDATE would not do: its sum would be
//   computed on the snapshot taken before the lock was granted.)
// - writeRefund: a compare-and-set on the refund's state (the decision was made on it), its audit
//   event, and — when the refund becomes SUCCEEDED — the order's own transition decided by
//   core/orders/transitions.ts on the order as locked here, the order evidence a notify carried, the
//   external refunds Alipay's refund_fee reveals, and the inbox row's outcome. One transaction: a
//   refund moves the order exactly once, and order.refunded_fen stays the sum of SUCCEEDED rows.
import { randomBytes } from "node:crypto";
import type { EventSource, NotificationOutcome, Order, PrismaClient, Refund, RefundSource, RefundState } from "@prisma/client";
import type pg from "pg";
import { sqlPoolOf } from "../db/index.ts";
import {
  insertOrderEventInTransaction, lockOrderInTransaction, markNotificationInTransaction, selectList, updateLockedOrder, writeLockedDecision,
} from "../orders/store.ts";
import type { Decision } from "../orders/transitions.ts";
import { COUNTED_STATES, externalRefundFen, MAYBE_AT_ALIPAY, REFUND_EVENT } from "./transitions.ts";
import { because } from "./reasons.ts";
import { reasonPayload } from "../reasons.ts";

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/**
 * Every column of a refund row, named after the model's fields (core/orders/store.ts selectList, from
 * the schema): a row read or returned here IS a Prisma `Refund`, never a restated type.
 */
let refundColumns: string | null = null;
const REFUND = () => (refundColumns ??= selectList("Refund", "refund"));
const toRefund = (r: unknown): Refund => r as Refund;

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

// ---- creating a refund: the guarded insert ------------------------------------------------------

export interface NewRefund {
  orderId: number;
  outRequestNo: string;
  amountFen: number;
  /** Where it starts, given the order's other refunds through coursepay (read under the order's lock: the four-eyes threshold). */
  stateFor: (otherRefundsFen: number) => RefundState;
  source: RefundSource;
  reason: string;
  requestedBy: string;
  now: Date;
  /** QUEUED refunds: when the sweep re-enqueues it should its job be lost. */
  nextCheckAtFor: (state: RefundState) => Date | null;
  event: { type: string; source: EventSource; payload: Record<string, unknown> };
}

export type InsertResult =
  | { ok: true; refund: Refund; order: Order }
  | { ok: false; reason: "order_not_found" | "not_refundable" | "exceeds_refundable"; order: Order | null; refundableFen: number };

/** A refund's audit event on the order's timeline (written by core/orders/store.ts in this transaction). */
async function refundEvent(c: pg.PoolClient, order: Order, e: NewOrderEvent, refund: Refund, now: Date, extra: Record<string, unknown> = {}): Promise<void> {
  await insertOrderEventInTransaction(c, order.id, {
    type: e.type, fromStatus: order.status, toStatus: order.status, source: e.source, actor: e.actor, notificationId: e.notificationId,
    payload: { ...e.payload, refundId: refund.id, outRequestNo: refund.outRequestNo, amountFen: refund.amountFen, ...extra }, dedupeKey: e.dedupeKey,
  }, now);
}

export async function insertRefund(prisma: PrismaClient, n: NewRefund, check?: (order: Order) => string | null): Promise<InsertResult | { ok: false; reason: "refused"; message: string; order: Order; refundableFen: number }> {
  return inTransaction(prisma, async (c) => {
    const order = await lockOrderInTransaction(c, n.orderId);
    if (!order) return { ok: false as const, reason: "order_not_found" as const, order: null, refundableFen: 0 };
    const refundableFen = await refundable(c, order);
    if (order.status !== "PAID" && order.status !== "PARTIALLY_REFUNDED") return { ok: false as const, reason: "not_refundable" as const, order, refundableFen: 0 };
    const refusal = check?.(order);
    if (refusal) return { ok: false as const, reason: "refused" as const, message: refusal, order, refundableFen };
    const state = n.stateFor(await otherRefunds(c, order.id, null));
    // The guard itself, in SQL: evaluated on a snapshot taken after the order's lock was granted.
    const { rows } = await c.query(
      `INSERT INTO refund (order_id, out_request_no, amount_fen, state, source, reason, requested_by, next_check_at, created_at, updated_at)
       SELECT o.id, $2::text, $3::int, $4::"RefundState", $5::"RefundSource", $6::text, $7::text, $8::timestamptz, $9::timestamptz, $9::timestamptz
       FROM "order" o
       WHERE o.id = $1 AND o.status IN ('PAID', 'PARTIALLY_REFUNDED')
         AND (SELECT coalesce(sum(amount_fen), 0) FROM refund WHERE order_id = $1 AND state = ANY($10::"RefundState"[]))::int + $3::int <= o.total_fen
       RETURNING ${REFUND()}`,
      [n.orderId, n.outRequestNo, n.amountFen, state, n.source, n.reason, n.requestedBy, iso(n.nextCheckAtFor(state)), iso(n.now), COUNTED_STATES],
    );
    if (!rows[0]) return { ok: false as const, reason: "exceeds_refundable" as const, order, refundableFen };
    const refund = toRefund(rows[0]);
    await refundEvent(c, order, { ...n.event, actor: n.requestedBy, notificationId: null }, refund, n.now, { state: refund.state });
    return { ok: true as const, refund, order };
  });
}

/**
 * What is left to refund on an order: total − succeeded (= refunded_fen) − in-flight. Every counted
 * row is one refund, ours or external, so nothing is counted twice.
 */
async function refundable(c: pg.PoolClient | pg.Pool, order: Pick<Order, "id" | "totalFen">): Promise<number> {
  const { rows } = await c.query(
    `SELECT coalesce(sum(amount_fen), 0)::int AS counted FROM refund WHERE order_id = $1 AND state = ANY($2::"RefundState"[])`,
    [order.id, COUNTED_STATES],
  );
  return Math.max(0, order.totalFen - rows[0]!.counted);
}

/** The order's refunds made through coursepay (staff, buyers) that count against it, but `except` (the four-eyes threshold). */
async function otherRefunds(c: pg.PoolClient | pg.Pool, orderId: number, except: number | null): Promise<number> {
  const { rows } = await c.query(
    `SELECT coalesce(sum(amount_fen), 0)::int AS fen FROM refund
     WHERE order_id = $1 AND source IN ('staff', 'buyer') AND state = ANY($2::"RefundState"[]) AND id <> coalesce($3::int, -1)`,
    [orderId, COUNTED_STATES, except],
  );
  return rows[0]!.fen;
}

/** The order's other refunds through coursepay, for deciding who may approve `refund` (transitions.ts approverRole). */
export async function otherRefundsFen(prisma: PrismaClient, refund: Pick<Refund, "id" | "orderId">): Promise<number> {
  return otherRefunds(sqlPoolOf(prisma), refund.orderId, refund.id);
}

/** Refundable amount of an order now (for forms and messages; the insert re-checks under the lock). */
export async function refundableFen(prisma: PrismaClient, order: Pick<Order, "id" | "totalFen">): Promise<number> {
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
  /** attempts = attempts + 1 and unsettled_calls = unsettled_calls + 1 (a call is about to be made) */
  countAttempt?: boolean;
  /** checks = checks + 1 */
  countCheck?: boolean;
  /** unsettled_calls = 0: a refund query found no refund data (the next call is a first one again) */
  knownAbsent?: boolean;
}

const COLUMNS: Record<Exclude<keyof RefundChanges, "countAttempt" | "countCheck" | "knownAbsent">, { column: string; kind?: "time" | "json" | "state" }> = {
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
  dedupeKey?: string;
}

/**
 * Recording the refunds made outside coursepay that Alipay's cumulative refund_fee reveals
 * (transitions.ts externalRefundFen), as SUCCEEDED rows of source `external`, each moving the order
 * through the state machine like any other succeeded refund.
 */
export interface ExternalRefunds {
  /** The order state machine's decision for one succeeded row (refund_succeeded evidence). */
  decide: (order: Order, refund: Refund) => Decision;
  source: EventSource;
  /** out_biz_no of the notify that revealed it, when it names none of our refunds: used as the row's number (bills match on it). */
  outBizNo?: string | null;
}

export interface RefundWrite {
  /** The order whose refunds these are (required when there is no `refund`). */
  orderId?: number;
  refund?: {
    id: number;
    /** The state the decision was made on: the write applies only if the refund is still in it. */
    expectState: RefundState;
    changes: RefundChanges;
    /** Audit event on the order's timeline (refund.approved, refund.succeeded, …). */
    event?: NewOrderEvent;
  };
  /**
   * Called under the locks when the refund becomes SUCCEEDED: the order state machine's decision on
   * the order as locked (core/orders/transitions.ts decide with refund_succeeded evidence).
   */
  orderDecision?: (order: Order, refund: Refund) => Decision;
  /** Evidence about the trade itself (a refund notify's refund_fee): the state machine's decision on the order as it then is. */
  orderEvidence?: (order: Order) => Decision;
  orderEvent?: { source: EventSource; actor: string; payload: Record<string, unknown> };
  /** Set the order's needs_review (an anomaly staff must look at). */
  flagOrder?: boolean;
  /** Record external refunds (see ExternalRefunds) once the rest is written. */
  external?: ExternalRefunds;
  /** The inbox row that carried the evidence: its outcome is written in the same transaction (applied when anything changed). */
  notification?: { id: number; outcome: NotificationOutcome };
  now: Date;
}

export interface RefundWriteResult {
  /** The refund as written (undefined when the write had no refund part). */
  refund?: Refund;
  order: Order;
  /** The order's decisions, when asked for. */
  orderDecision: Decision | null;
  evidenceDecision: Decision | null;
  /** External refund rows recorded in this transaction. */
  external: Refund[];
  notificationMarked: boolean;
}

const changedOrder = (d: Decision | null) => d?.kind === "transition" || d?.kind === "anomaly";

/** Apply a refund decision. Returns null when the refund was no longer in `expectState` (re-read, decide again). */
export async function writeRefund(prisma: PrismaClient, w: RefundWrite): Promise<RefundWriteResult | null> {
  return inTransaction(prisma, async (c) => {
    let orderId = w.orderId;
    if (w.refund) {
      const { rows: ids } = await c.query(`SELECT order_id FROM refund WHERE id = $1`, [w.refund.id]);
      if (!ids[0]) return null;
      orderId = ids[0].order_id;
    }
    if (orderId === undefined) throw new Error("writeRefund: no refund and no order");
    let order = await lockOrderInTransaction(c, orderId);
    if (!order) return null;
    const meta = (extra: Record<string, unknown>, dedupeKey?: string) => {
      const oe = w.orderEvent ?? { source: "system" as EventSource, actor: "", payload: {} };
      return { source: oe.source, actor: oe.actor, notificationId: w.notification?.id ?? null, payload: { ...oe.payload, ...extra }, dedupeKey };
    };

    let refund: Refund | undefined;
    let decision: Decision | null = null;
    if (w.refund) {
      refund = (await updateRefund(c, w.refund.id, w.refund.expectState, w.refund.changes, w.now)) ?? undefined;
      if (!refund) return null;
      if (w.refund.event) await refundEvent(c, order, w.refund.event, refund, w.now);
      if (w.orderDecision) {
        decision = w.orderDecision(order, refund);
        order = await writeLockedDecision(c, order, decision, meta({ refundId: refund.id, outRequestNo: refund.outRequestNo }, `${decision.kind === "anomaly" ? decision.event : ""}|refund:${refund.id}`), w.now);
      }
    }
    let evidenceDecision: Decision | null = null;
    if (w.orderEvidence) {
      evidenceDecision = w.orderEvidence(order);
      order = await writeLockedDecision(c, order, evidenceDecision, meta({}, evidenceDecision.kind === "anomaly" ? `${evidenceDecision.event}|notify:${w.notification?.id ?? ""}` : undefined), w.now);
    }
    if (w.flagOrder && !order.needsReview) order = await updateLockedOrder(c, order, { needsReview: true }, w.now);
    const external = w.external ? await recordExternalRefunds(c, order, w.external, w.now, meta) : { order, rows: [] };
    order = external.order;

    let notificationMarked = false;
    if (w.notification) {
      const anything = external.rows.length > 0 || changedOrder(evidenceDecision) || changedOrder(decision);
      const outcome = w.notification.outcome === "duplicate" && anything ? "applied" : w.notification.outcome;
      notificationMarked = await markNotificationInTransaction(c, w.notification.id, outcome, order.id, w.now);
    }
    return { refund, order, orderDecision: decision, evidenceDecision, external: external.rows, notificationMarked };
  });
}

async function updateRefund(c: pg.PoolClient, id: number, expectState: RefundState, changes: RefundChanges, now: Date): Promise<Refund | null> {
  const values: unknown[] = [id, expectState];
  const param = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const sets: string[] = [];
  for (const [key, value] of Object.entries(changes) as [keyof RefundChanges, unknown][]) {
    if (value === undefined) continue;
    if (key === "countAttempt") { if (value) sets.push("attempts = attempts + 1", "unsettled_calls = unsettled_calls + 1"); continue; }
    if (key === "countCheck") { if (value) sets.push("checks = checks + 1"); continue; }
    if (key === "knownAbsent") { if (value) sets.push("unsettled_calls = 0"); continue; }
    const col = COLUMNS[key];
    if (col.kind === "time") sets.push(`${col.column} = ${param(iso(value as Date | null))}::timestamptz`);
    else if (col.kind === "json") sets.push(`${col.column} = ${param(value === null ? null : JSON.stringify(value))}::jsonb`);
    else if (col.kind === "state") sets.push(`${col.column} = ${param(value)}::"RefundState"`);
    else sets.push(`${col.column} = ${param(value)}`);
  }
  sets.push(`updated_at = ${param(iso(now))}::timestamptz`);
  const { rows } = await c.query(`UPDATE refund SET ${sets.join(", ")} WHERE id = $1 AND state = $2::"RefundState" RETURNING ${REFUND()}`, values);
  return rows[0] ? toRefund(rows[0]) : null;
}

/** An external refund row (made outside coursepay), SUCCEEDED as Alipay reported it; `settledBy` says how we learnt it. */
async function insertExternalRefund(
  c: pg.PoolClient,
  x: { orderId: number; outRequestNo: string; amountFen: number; reason: string; settledBy: string; now: Date },
): Promise<Refund> {
  const { rows } = await c.query(
    `INSERT INTO refund (order_id, out_request_no, amount_fen, state, source, reason, requested_by, succeeded_at, settled_by, created_at, updated_at)
     VALUES ($1, $2, $3, 'SUCCEEDED', 'external', $4, 'alipay', $5::timestamptz, $6, $5::timestamptz, $5::timestamptz)
     RETURNING ${REFUND()}`,
    [x.orderId, x.outRequestNo, x.amountFen, x.reason.slice(0, 256), iso(x.now), x.settledBy],
  );
  return toRefund(rows[0]!);
}

/**
 * Under the order's lock: what Alipay reports refunded (order.alipay_refund_fee_fen) that no row of
 * ours accounts for becomes one external SUCCEEDED row, and the order moves for it. Idempotent: it
 * is computed from the rows as they are, so asking again records nothing more.
 */
async function recordExternalRefunds(
  c: pg.PoolClient,
  order: Order,
  x: ExternalRefunds,
  now: Date,
  meta: (extra: Record<string, unknown>, dedupeKey?: string) => { source: EventSource; actor: string; notificationId: number | null; payload: Record<string, unknown>; dedupeKey?: string },
): Promise<{ order: Order; rows: Refund[] }> {
  if (order.alipayRefundFeeFen <= 0) return { order, rows: [] };
  const { rows: mine } = await c.query<{ state: RefundState; amount_fen: number }>(`SELECT state, amount_fen FROM refund WHERE order_id = $1`, [order.id]);
  const succeeded = mine.filter((r) => r.state === "SUCCEEDED").reduce((sum, r) => sum + r.amount_fen, 0);
  const inFlight = mine.filter((r) => MAYBE_AT_ALIPAY.includes(r.state)).map((r) => r.amount_fen);
  const amountFen = externalRefundFen(order.alipayRefundFeeFen, succeeded, inFlight);
  if (amountFen <= 0) return { order, rows: [] };
  let outRequestNo = `${UNNAMED_EXTERNAL_PREFIX}${randomBytes(16).toString("hex")}`;
  if (x.outBizNo) {
    const { rows: taken } = await c.query(`SELECT 1 FROM refund WHERE out_request_no = $1`, [x.outBizNo]);
    if (!taken[0]) outRequestNo = x.outBizNo.slice(0, 64);
  }
  const why = because("refund.external", { reportedFen: order.alipayRefundFeeFen, succeededFen: succeeded, inFlightFen: inFlight.reduce((a, b) => a + b, 0) });
  const refund = await insertExternalRefund(c, { orderId: order.id, outRequestNo, amountFen, reason: why.reason, settledBy: x.source, now });
  await refundEvent(c, order, { type: REFUND_EVENT.external, source: x.source, actor: "", notificationId: meta({}).notificationId, payload: reasonPayload(why) }, refund, now, { state: refund.state });
  const d = x.decide(order, refund);
  const moved = await writeLockedDecision(c, order, d, meta({ refundId: refund.id, outRequestNo }, d.kind === "anomaly" ? `${d.event}|refund:${refund.id}` : undefined), now);
  return { order: moved, rows: [refund] };
}

/**
 * The number of an external row recorded from Alipay's refund_fee alone, when nothing named the
 * refund: `ex_` + 32 hex. Such a row may later be identified as a refund the bill names.
 */
export const UNNAMED_EXTERNAL_PREFIX = "ex_";

/** settled_by of an external row confirmed refund by refund (recordConfirmedExternalRefund), unlike rows of a refund total. */
const CONFIRMED_BY_QUERY = "query";

export type ConfirmedExternalResult =
  /** a new external SUCCEEDED row with Alipay's number; the order moved through the state machine */
  | { kind: "recorded"; refund: Refund; order: Order; decision: Decision }
  /** an unnamed external row of the same amount (from refund_fee) now carries Alipay's number: nothing counted twice */
  | { kind: "identified"; refund: Refund; order: Order }
  /** a refund row already carries this number (ours, or recorded before) */
  | { kind: "exists"; refund: Refund; order: Order }
  /** the order's state machine refuses the refund (order not paid here, more than the total…): nothing written */
  | { kind: "refused"; order: Order; reason: string }
  /** external rows recorded from Alipay's refund total may already hold this money: nothing recorded, staff decide */
  | { kind: "ambiguous"; order: Order; fromTotal: Refund[] };

/**
 * A refund made outside coursepay that Alipay confirmed by its own number (the daily bill's
 * 退款批次号/请求号, and a refund query for that number): recorded at most once, under the order's lock.
 * The number is not one of ours (those rows carry it) nor one a refund notify named (out_biz_no rows
 * carry it too); a number another order's refund carries is refused. The money may, though, already be
 * counted by an external row recorded from Alipay's running refund total (recordExternalRefunds: one
 * row per jump of refund_fee, which can cover several refunds — also when the notify named one of
 * them, as the row then carries that one's number for the whole jump). So: when the order's only such
 * row is unnamed and of exactly this amount, it is this refund and takes the number; when any other
 * such row exists, nothing is recorded (staff decide). Otherwise one SUCCEEDED external row is
 * inserted only when the order state machine accepts refund_succeeded on the order as locked, in the
 * same transaction: refunded_fen stays the sum of SUCCEEDED rows. Rows this function writes or names
 * are settled by the refund query (settled_by 'query'), so they are never taken for rows of a total.
 */
export async function recordConfirmedExternalRefund(
  prisma: PrismaClient,
  x: {
    orderId: number; outRequestNo: string; amountFen: number; source: EventSource; actor: string; now: Date;
    /** The order state machine's decision for this refund succeeding (refund_succeeded evidence). */
    decide: (order: Order, refund: Pick<Refund, "amountFen" | "outRequestNo">) => Decision;
  },
): Promise<ConfirmedExternalResult | null> {
  return inTransaction(prisma, async (c) => {
    const order = await lockOrderInTransaction(c, x.orderId);
    if (!order) return null;
    const { rows: same } = await c.query(`SELECT ${REFUND()} FROM refund WHERE out_request_no = $1`, [x.outRequestNo]);
    if (same[0]) {
      const refund = toRefund(same[0]);
      if (refund.orderId !== order.id) return { kind: "refused" as const, order, reason: `refund ${x.outRequestNo} is recorded for another order (${refund.orderId})` };
      return { kind: "exists" as const, refund, order };
    }
    const { rows: totalRows } = await c.query(
      `SELECT ${REFUND()} FROM refund
       WHERE order_id = $1 AND source = 'external' AND state = 'SUCCEEDED' AND settled_by IS DISTINCT FROM $2 ORDER BY id`,
      [order.id, CONFIRMED_BY_QUERY],
    );
    const fromTotal = totalRows.map(toRefund);
    const event = (refund: Refund, why: ReturnType<typeof because>) =>
      refundEvent(c, order, { type: REFUND_EVENT.external, source: x.source, actor: x.actor, notificationId: null, payload: reasonPayload(why) }, refund, x.now, { state: refund.state });
    const confirmed = because("refund.external_confirmed", { outRequestNo: x.outRequestNo, amountFen: x.amountFen });
    const twin = fromTotal.length === 1 && fromTotal[0]!.outRequestNo.startsWith(UNNAMED_EXTERNAL_PREFIX) && fromTotal[0]!.amountFen === x.amountFen
      ? fromTotal[0]!
      : null;
    if (twin) {
      const { rows } = await c.query(`UPDATE refund SET out_request_no = $2, settled_by = $4, updated_at = $3::timestamptz WHERE id = $1 RETURNING ${REFUND()}`,
        [twin.id, x.outRequestNo, iso(x.now), CONFIRMED_BY_QUERY]);
      const refund = toRefund(rows[0]!);
      await event(refund, because("refund.external_numbered", { outRequestNo: x.outRequestNo, amountFen: x.amountFen, was: twin.outRequestNo }));
      return { kind: "identified" as const, refund, order };
    }
    if (fromTotal.length) return { kind: "ambiguous" as const, order, fromTotal };
    // Decide on a candidate row first: a row the state machine would not count is never written.
    const check = x.decide(order, { amountFen: x.amountFen, outRequestNo: x.outRequestNo });
    if (check.kind !== "transition") return { kind: "refused" as const, order, reason: check.reason };
    const refund = await insertExternalRefund(c, {
      orderId: order.id, outRequestNo: x.outRequestNo, amountFen: x.amountFen, reason: confirmed.reason, settledBy: CONFIRMED_BY_QUERY, now: x.now,
    });
    await event(refund, confirmed);
    const decision = x.decide(order, refund);
    const moved = await writeLockedDecision(c, order, decision,
      { source: x.source, actor: x.actor, notificationId: null, payload: { refundId: refund.id, outRequestNo: refund.outRequestNo, evidence: "query" } }, x.now);
    return { kind: "recorded" as const, refund, order: moved, decision };
  });
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

/** Orders where Alipay's reported refund_fee exceeds the refund rows' sum (partial index order_refunds_unaccounted_idx). */
export async function ordersWithUnaccountedRefunds(prisma: PrismaClient, limit: number): Promise<number[]> {
  const { rows } = await sqlPoolOf(prisma).query(`SELECT id FROM "order" WHERE alipay_refund_fee_fen > refunded_fen ORDER BY id LIMIT $1`, [limit]);
  return rows.map((r) => r.id as number);
}

export async function loadRefund(prisma: PrismaClient, id: number): Promise<Refund | null> {
  const { rows } = await sqlPoolOf(prisma).query(`SELECT ${REFUND()} FROM refund WHERE id = $1`, [id]);
  return rows[0] ? toRefund(rows[0]) : null;
}

export async function loadRefundByRequestNo(prisma: PrismaClient, outRequestNo: string): Promise<Refund | null> {
  const { rows } = await sqlPoolOf(prisma).query(`SELECT ${REFUND()} FROM refund WHERE out_request_no = $1`, [outRequestNo]);
  return rows[0] ? toRefund(rows[0]) : null;
}
