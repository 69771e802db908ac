// The ONLY writer of the order pipeline's tables: `order`, `order_detail`, `order_event` and
// `payment_notification`. Every other module reads through Prisma as it likes, but a row of these
// tables changes only through a function here, each one guarded (compare-and-set on the state the
// caller saw; inbox outcomes only along core/orders/inbox.ts's table).
//
// The hot paths — notify intake, the apply statement, loading an inbox row, the reconciliation
// claim — are plain SQL on the pg pool beneath Prisma (core/db sqlPoolOf: same connections, no
// second pool). Why not Prisma there: measured on this machine, a Prisma findUnique costs ~0.4 ms of
// CPU against ~0.08 ms for the same pg query, a create ~1.1 ms against ~0.35 ms, and an interactive
// transaction adds ~1.8 ms on top; at a thousand notifies a second that is the whole budget. Cold
// paths (creating an order) use Prisma.
//
// Row types are Prisma's generated model types, never restated: the column lists are derived from
// the schema's data model (core/db loadFullDmmf: each field and its @map column) and every SELECT
// or RETURNING names the columns after the model's fields (`out_trade_no AS "outTradeNo"`), so a
// row IS an `Order` / `PaymentNotification` / `OrderEvent`. Timestamps are `timestamptz`, which the
// pg driver reads and writes as instants with no help.
import { createHash } from "node:crypto";
import type { EventSource, NotificationOutcome, Order, OrderDetail, OrderEvent, OrderStatus, PaymentNotification, Prisma, PrismaClient } from "@prisma/client";
import type pg from "pg";
import { loadFullDmmf, sqlPoolOf } from "../db/index.ts";
import { movesInto, NOTIFICATION_OUTCOMES } from "./inbox.ts";
import type { Decision } from "./transitions.ts";

// ---- plumbing ---------------------------------------------------------------------------------

// Named (server-side prepared) statements: PostgreSQL parses and plans each distinct text once per
// connection instead of on every notify. The statements here come in a few dozen shapes at most.
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `cp_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    statementNames.set(text, name);
  }
  return name;
}

async function query<R extends pg.QueryResultRow>(prisma: PrismaClient, text: string, values: unknown[] = []): Promise<R[]> {
  return (await sqlPoolOf(prisma).query<R>({ name: statementName(text), text, values })).rows;
}

type Model = "Order" | "PaymentNotification" | "OrderEvent" | "Refund";
interface Column {
  field: string;
  column: string;
  /** The parameter cast a value for this column needs (enums, timestamps). */
  cast: string;
  /** The column's PostgreSQL type, for array parameters (`$1::<type>[]`). */
  type: string;
}
const PG_TYPES: Record<string, string> = { Int: "int", String: "text", Boolean: "boolean", DateTime: "timestamptz", Json: "jsonb", BigInt: "bigint" };
const columnCache = new Map<Model, Column[]>();

/** The model's scalar columns, from the schema (field name, its @map column name, its cast). */
function columnsOf(model: Model): Column[] {
  let cols = columnCache.get(model);
  if (!cols) {
    const m = loadFullDmmf().datamodel.models.find((x) => x.name === model);
    if (!m) throw new Error(`model ${model} is not in the generated data model (run prisma generate)`);
    cols = m.fields
      .filter((f) => f.kind === "scalar" || f.kind === "enum")
      .map((f) => ({
        field: f.name, column: f.dbName ?? f.name, cast: f.kind === "enum" ? `::"${f.type}"` : f.type === "DateTime" ? "::timestamptz" : "",
        type: f.kind === "enum" ? `"${f.type}"` : (PG_TYPES[f.type] ?? "text"),
      }));
    columnCache.set(model, cols);
  }
  return cols;
}

/** `t.out_trade_no AS "<prefix>outTradeNo", …` for every column of the model (core/refunds/store.ts reads refund rows so too). */
export function selectList(model: Model, alias: string, prefix = ""): string {
  return columnsOf(model).map((c) => `${alias}."${c.column}" AS "${prefix}${c.field}"`).join(", ");
}

/** Splits a row into its un-prefixed fields and those under `prefix` (prefix removed). */
function split<A, B>(row: Record<string, unknown>, prefix: string): [A, B] {
  const own: Record<string, unknown> = {};
  const sub: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith(prefix)) sub[k.slice(prefix.length)] = v;
    else own[k] = v;
  }
  return [own as A, sub as B];
}

const OUTCOME_ARRAY = `::"NotificationOutcome"[]`;

// ---- orders --------------------------------------------------------------------------------------

export async function loadOrder(prisma: PrismaClient, ref: { id: number } | { outTradeNo: string }): Promise<Order | null> {
  const where = "id" in ref ? `o.id = $1` : `o.out_trade_no = $1`;
  const [r] = await query<Order>(prisma, `SELECT ${selectList("Order", "o")} FROM "order" o WHERE ${where}`, ["id" in ref ? ref.id : ref.outTradeNo]);
  return r ?? null;
}

/**
 * Several orders by id in one round trip (core/orders/batching.ts: the reads of concurrent payment
 * checks), each as loadOrder reads it. Ids not found are absent from the map.
 */
export async function loadOrdersById(prisma: PrismaClient, ids: number[]): Promise<Map<number, Order>> {
  const rows = await query<Order>(prisma, `SELECT ${selectList("Order", "o")} FROM "order" o WHERE o.id = ANY($1::int[])`, [ids]);
  return new Map(rows.map((o) => [o.id, o]));
}

export type OrderWithDetails = Order & { details: OrderDetail[] };

/** A new UNPAID order with its lines and its `created` event, in one transaction. */
export async function insertOrder(
  prisma: PrismaClient,
  input: {
    order: Pick<Order, "outTradeNo" | "buyerId" | "subject" | "totalFen" | "expiresAt" | "nextCheckAt">;
    details: { courseId: number; priceFen: number; realPriceFen: number }[];
    event: { type: string; actor: string; source: EventSource; payload: Prisma.InputJsonObject };
  },
): Promise<OrderWithDetails> {
  return prisma.$transaction(async (tx) => {
    const created = await tx.order.create({ data: { ...input.order, details: { create: input.details } }, include: { details: true } });
    await tx.orderEvent.create({
      data: { orderId: created.id, type: input.event.type, toStatus: created.status, source: input.event.source, actor: input.event.actor, payload: input.event.payload },
    });
    return created;
  });
}

/** An order settled meanwhile needs no more checks (guarded: only while it is still `status`). */
export async function clearNextCheck(prisma: PrismaClient, orderId: number, status: OrderStatus, now: Date): Promise<void> {
  await query(prisma, `UPDATE "order" SET next_check_at = NULL, updated_at = $3::timestamptz WHERE id = $1 AND status = $2::"OrderStatus" AND next_check_at IS NOT NULL`, [orderId, status, now]);
}

export interface DueOrder {
  id: number;
  nextCheckAt: Date;
}

export interface Keyset {
  nextCheckAt: Date;
  id: number;
}

/**
 * Claim up to `limit` due UNPAID orders after `after` (keyset), leasing them until `leaseUntil`
 * (core/orders/reconcile.ts says why). SKIP LOCKED: rows being changed right now (a notify
 * applying) are left for the next sweep.
 */
export async function claimDueOrders(
  prisma: PrismaClient,
  input: { now: Date; limit: number; after: Keyset | null; leaseUntil: Date },
): Promise<DueOrder[]> {
  const rows = await query<DueOrder>(
    prisma,
    `WITH due AS (
       SELECT id, next_check_at FROM "order"
       WHERE status = 'UNPAID'::"OrderStatus" AND next_check_at <= $1::timestamptz
         AND (next_check_at, id) > ($2::timestamptz, $3::int)
       ORDER BY next_check_at, id
       LIMIT $4
       FOR UPDATE SKIP LOCKED
     )
     UPDATE "order" o SET next_check_at = $5::timestamptz
     FROM due WHERE o.id = due.id
     RETURNING o.id, due.next_check_at AS "nextCheckAt"`,
    [input.now, input.after?.nextCheckAt ?? new Date(0), input.after?.id ?? 0, input.limit, input.leaseUntil],
  );
  return rows.sort((a, b) => a.nextCheckAt.getTime() - b.nextCheckAt.getTime() || a.id - b.id);
}

// ---- inbox ---------------------------------------------------------------------------------------

/** An inbox row as intake records it: the model's columns but the ones the row earns later. */
export type NewNotification = Omit<PaymentNotification, "id" | "attempts" | "lastError" | "kind"> & { kind: "notify" | "return" };

/** Record a callback as received (intake). One statement. */
export async function insertNotification(prisma: PrismaClient, n: NewNotification): Promise<number> {
  const [r] = await query<{ id: number }>(
    prisma,
    `INSERT INTO payment_notification (kind, raw_body, verified, reason, outcome, notify_id, out_trade_no, order_id, trade_no, trade_status,
       total_fen, refund_fen, received_at, processed_at)
     VALUES ($1, $2, $3, $4, $5::"NotificationOutcome", $6, $7, $8, $9, $10, $11, $12, $13::timestamptz, $14::timestamptz)
     RETURNING id`,
    [n.kind, n.rawBody, n.verified, n.reason, n.outcome, n.notifyId, n.outTradeNo, n.orderId, n.tradeNo, n.tradeStatus, n.totalFen, n.refundFen,
      n.receivedAt, n.processedAt],
  );
  return r!.id;
}

/** How intake classifies a notify, for each answer the inbox insert's order lookup may give. */
export interface NotifyClassification {
  /** out_trade_no names none of our orders (or the notify names none). */
  noOrder: { outcome: NotificationOutcome; reason: string; processedAt: Date | null };
  /** It names one of ours. */
  withOrder: {
    outcome: NotificationOutcome;
    processedAt: Date | null;
    /** The reason when the notify's amount (`totalFen`; null: not compared) equals the order's. */
    reason: string;
    totalFen: number | null;
    /** The reason when it does not: a PostgreSQL format() string whose one %s is the order's amount. */
    amountMismatchFormat: string;
  };
}

/**
 * Record a notify (intake) and link it to the order it names, in ONE statement: the order lookup,
 * the classification intake made for each possible answer of that lookup, and the insert. Returns
 * the row's id, the order it was linked to, and the outcome and reason chosen. (recordNotifies with
 * one item: the statement has one owner.)
 */
export async function recordNotify(prisma: PrismaClient, n: NotifyToRecord, c: NotifyClassification): Promise<RecordedNotify> {
  return (await recordNotifies(prisma, [{ n, c }]))[0]!;
}

/** A notify as intake hands it to recordNotify(s), and what the insert chose for it. */
export type NotifyToRecord = Omit<NewNotification, "kind" | "outcome" | "reason" | "orderId" | "processedAt">;
export interface RecordedNotify {
  id: number;
  orderId: number | null;
  outcome: NotificationOutcome;
  reason: string;
}

type NotifyItem = { n: NotifyToRecord; c: NotifyClassification };
/** What the insert of a notify takes: name, PostgreSQL type, value. */
const NOTIFY_INPUTS: [string, string, (x: NotifyItem) => unknown][] = [
  ["out_trade_no", "text", (x) => x.n.outTradeNo],
  ["raw_body", "text", (x) => x.n.rawBody],
  ["verified", "boolean", (x) => x.n.verified],
  ["no_order_reason", "text", (x) => x.c.noOrder.reason],
  ["compare_fen", "bigint", (x) => x.c.withOrder.totalFen],
  ["with_order_reason", "text", (x) => x.c.withOrder.reason],
  ["mismatch_format", "text", (x) => x.c.withOrder.amountMismatchFormat],
  ["no_order_outcome", `"NotificationOutcome"`, (x) => x.c.noOrder.outcome],
  ["with_order_outcome", `"NotificationOutcome"`, (x) => x.c.withOrder.outcome],
  ["notify_id", "text", (x) => x.n.notifyId],
  ["trade_no", "text", (x) => x.n.tradeNo],
  ["trade_status", "text", (x) => x.n.tradeStatus],
  ["total_fen", "int", (x) => x.n.totalFen],
  ["refund_fen", "int", (x) => x.n.refundFen],
  ["received_at", "timestamptz", (x) => x.n.receivedAt],
  ["no_order_processed_at", "timestamptz", (x) => x.c.noOrder.processedAt],
  ["with_order_processed_at", "timestamptz", (x) => x.c.withOrder.processedAt],
];

/**
 * The inbox insert of notifies, each row's values named by `v` and its order `o` (null: none of
 * ours): the classification intake made for each answer of the lookup, picked here. `id`: the id
 * column's value, when the statement draws the ids itself.
 */
function notifyInsert(v: (name: string) => string, from: string, id?: string): string {
  return `INSERT INTO payment_notification (${id ? "id, " : ""}kind, raw_body, verified, reason, outcome, notify_id, out_trade_no, order_id, trade_no, trade_status,
       total_fen, refund_fen, received_at, processed_at)
     SELECT ${id ? `${id}, ` : ""}'notify', ${v("raw_body")}, ${v("verified")},
       CASE WHEN o.id IS NULL THEN ${v("no_order_reason")} WHEN ${v("compare_fen")} IS NULL OR o.total_fen = ${v("compare_fen")} THEN ${v("with_order_reason")} ELSE format(${v("mismatch_format")}, o.total_fen) END,
       CASE WHEN o.id IS NULL THEN ${v("no_order_outcome")} ELSE ${v("with_order_outcome")} END,
       ${v("notify_id")}, ${v("out_trade_no")}, o.id, ${v("trade_no")}, ${v("trade_status")}, ${v("total_fen")}, ${v("refund_fen")}, ${v("received_at")},
       CASE WHEN o.id IS NULL THEN ${v("no_order_processed_at")} ELSE ${v("with_order_processed_at")} END
     FROM ${from}
     RETURNING id, order_id AS "orderId", outcome, reason`;
}

const param = new Map(NOTIFY_INPUTS.map(([name, type], i) => [name, `$${i + 1}::${type}`]));
/** One notify: its values as parameters. */
const RECORD_ONE = notifyInsert((name) => param.get(name)!, `(SELECT 1) AS one LEFT JOIN "order" o ON o.out_trade_no = $1::text`);
/**
 * Several: each value as an array, unnested. The ids are drawn from the column's sequence first, so
 * each result can be matched to its input (RETURNING cannot name the input's position).
 */
const RECORD_MANY = `WITH input AS MATERIALIZED (
       SELECT i.*, nextval(pg_get_serial_sequence('payment_notification', 'id'))::int AS id
       FROM unnest(${NOTIFY_INPUTS.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")})
         WITH ORDINALITY AS i(${NOTIFY_INPUTS.map(([name]) => name).join(", ")}, ord)
     ),
     ins AS (
       ${notifyInsert((name) => `i.${name}`, `input i LEFT JOIN "order" o ON o.out_trade_no = i.out_trade_no ORDER BY i.ord`, "i.id")}
     )
     SELECT input.ord::int AS ord, ins.* FROM ins JOIN input ON input.id = ins.id`;

/**
 * recordNotify for several notifies in ONE statement (one round trip, one commit: the api's group
 * commit, core/orders/batching.ts): each row is looked up, classified and inserted exactly as
 * recordNotify does it, and the results come back in the order given. A single notify goes as the
 * one-row statement: PostgreSQL plans the unnest form afresh for each one-element array (custom
 * plans: ~0.8 ms more backend CPU per notify, measured), which a quiet api would pay on every notify.
 */
export async function recordNotifies(prisma: PrismaClient, items: NotifyItem[]): Promise<RecordedNotify[]> {
  if (items.length === 1) {
    const [r] = await query<RecordedNotify>(prisma, RECORD_ONE, NOTIFY_INPUTS.map(([, , value]) => value(items[0]!)));
    return [r!];
  }
  const rows = await query<RecordedNotify & { ord: number }>(prisma, RECORD_MANY, NOTIFY_INPUTS.map(([, , value]) => items.map(value)));
  const out = new Array<RecordedNotify>(items.length);
  for (const { ord, ...r } of rows) out[ord - 1] = r;
  if (rows.length !== items.length || out.includes(undefined as never)) throw new Error(`recordNotifies: ${rows.length} rows for ${items.length} notifies`);
  return out;
}

/** What a move of an inbox row sets besides its outcome (undefined: left as it is). */
export interface InboxMove {
  reason?: string;
  lastError?: string | null;
  processedAt?: Date | null;
  /** attempts = attempts + 1 */
  countAttempt?: boolean;
}

/**
 * Move an inbox row to `to`, only from an outcome the inbox table allows (inbox.ts movesInto).
 * Returns false when the row was not in such an outcome (processed meanwhile, or unknown id).
 */
export async function moveNotification(prisma: PrismaClient, id: number, to: NotificationOutcome, set: InboxMove = {}): Promise<boolean> {
  const values: unknown[] = [id, movesInto(to), to];
  const sets = [`outcome = $3::"NotificationOutcome"`];
  const add = (column: string, value: unknown, cast = "") => {
    values.push(value);
    sets.push(`${column} = $${values.length}${cast}`);
  };
  if (set.reason !== undefined) add("reason", set.reason);
  if (set.lastError !== undefined) add("last_error", set.lastError === null ? null : set.lastError.slice(0, 1000));
  if (set.processedAt !== undefined) add("processed_at", set.processedAt, "::timestamptz");
  if (set.countAttempt) sets.push("attempts = attempts + 1");
  const rows = await query(prisma, `UPDATE payment_notification SET ${sets.join(", ")} WHERE id = $1 AND outcome = ANY($2${OUTCOME_ARRAY}) RETURNING id`, values);
  return rows.length > 0;
}

/**
 * Staff re-drive: back to pending (from an outcome the table allows) with its `notification_redriven`
 * event on the order, in one statement. Null when the row was processed meanwhile.
 */
export async function requeueNotification(
  prisma: PrismaClient,
  input: { id: number; source: EventSource; actor: string; now: Date },
): Promise<PaymentNotification | null> {
  const [r] = await query<PaymentNotification>(
    prisma,
    `WITH prev AS (
       SELECT id, outcome, last_error, order_id FROM payment_notification WHERE id = $1 AND outcome = ANY($2${OUTCOME_ARRAY}) FOR UPDATE
     ),
     n AS (
       UPDATE payment_notification p SET outcome = 'pending', last_error = NULL FROM prev WHERE p.id = prev.id
       RETURNING ${selectList("PaymentNotification", "p")}
     ),
     e AS (
       INSERT INTO order_event (order_id, type, from_status, to_status, source, actor, notification_id, payload, created_at)
       SELECT o.id, 'notification_redriven', o.status, o.status, $3::"EventSource", $4, prev.id,
         jsonb_build_object('previousOutcome', prev.outcome, 'lastError', prev.last_error), $5::timestamptz
       FROM prev JOIN "order" o ON o.id = prev.order_id
       RETURNING id
     )
     SELECT n.* FROM n`,
    [input.id, movesInto("pending"), input.source, input.actor, input.now],
  );
  return r ?? null;
}

/**
 * Claim verified notify rows left pending or failed since before `before` (the api died between
 * insert and enqueue, Redis was down, an apply failed for good) and put them back to pending for
 * a re-drive, counting the attempt: rows that reached `maxAttempts` are left for staff.
 */
export async function claimStaleNotifications(
  prisma: PrismaClient,
  input: { before: Date; maxAttempts: number; limit: number },
): Promise<number[]> {
  const rows = await query<{ id: number }>(
    prisma,
    `UPDATE payment_notification SET outcome = 'pending', last_error = NULL, attempts = attempts + 1
     WHERE id IN (
       SELECT id FROM payment_notification
       WHERE outcome = ANY($1${OUTCOME_ARRAY}) AND verified AND kind = 'notify' AND received_at < $2::timestamptz AND attempts < $3
       ORDER BY received_at LIMIT $4
       FOR UPDATE SKIP LOCKED)
     AND outcome = ANY($1${OUTCOME_ARRAY})
     RETURNING id`,
    [movesInto("pending"), input.before, input.maxAttempts, input.limit],
  );
  return rows.map((r) => r.id);
}

/** Retention of refused callbacks: delete up to `limit` unverified rejected rows received before `before`. */
export async function purgeRejectedNotifications(prisma: PrismaClient, input: { before: Date; limit: number }): Promise<number> {
  const rows = await query(
    prisma,
    `DELETE FROM payment_notification WHERE id IN (
       SELECT id FROM payment_notification WHERE outcome = 'rejected' AND NOT verified AND received_at < $1::timestamptz
       ORDER BY received_at LIMIT $2)
     RETURNING id`,
    [input.before, input.limit],
  );
  return rows.length;
}

/** An inbox row with the order it names. */
export type InboxRow = { notification: PaymentNotification; order: Order | null };

/** An inbox row with the order it names (one round trip for the worker's apply job). */
export async function loadNotificationWithOrder(prisma: PrismaClient, id: number): Promise<InboxRow | null> {
  const [r] = await query(
    prisma,
    `SELECT ${selectList("PaymentNotification", "n", "n.")}, ${selectList("Order", "o")}
     FROM payment_notification n LEFT JOIN "order" o ON o.id = n.order_id WHERE n.id = $1`,
    [id],
  );
  return r ? inboxRowOf(r) : null;
}

/** Several inbox rows with their orders in one round trip (core/orders/batching.ts), by id. */
export async function loadNotificationsWithOrders(prisma: PrismaClient, ids: number[]): Promise<Map<number, InboxRow>> {
  const rows = await query(
    prisma,
    `SELECT ${selectList("PaymentNotification", "n", "n.")}, ${selectList("Order", "o")}
     FROM payment_notification n LEFT JOIN "order" o ON o.id = n.order_id WHERE n.id = ANY($1::int[])`,
    [ids],
  );
  return new Map(rows.map((r) => inboxRowOf(r)).map((row) => [row.notification.id, row]));
}

function inboxRowOf(r: Record<string, unknown>): InboxRow {
  const [order, notification] = split<Order, PaymentNotification>(r, "n.");
  return { notification, order: order.id === null ? null : order };
}

// ---- decisions: read a snapshot, write one guarded statement ----------------------------------------

/** The order as a decision saw it, and (when applying an inbox row) that row's outcome then. */
export interface Snapshot {
  order: Order;
  notificationOutcome: NotificationOutcome | null;
}

export async function readSnapshot(prisma: PrismaClient, ref: { id: number } | { outTradeNo: string }, notificationId: number | null): Promise<Snapshot | null> {
  const where = "id" in ref ? `o.id = $1` : `o.out_trade_no = $1`;
  const [r] = await query(
    prisma,
    `SELECT ${selectList("Order", "o")}, n.outcome AS "n.outcome"
     FROM "order" o LEFT JOIN payment_notification n ON n.id = $2 WHERE ${where}`,
    ["id" in ref ? ref.id : ref.outTradeNo, notificationId],
  );
  if (!r) return null;
  const [order, n] = split<Order, { outcome: NotificationOutcome | null }>(r, "n.");
  return { order, notificationOutcome: n.outcome ?? null };
}

/** Order columns a decision may set (a whitelist: column names never come from input). */
const CHANGEABLE = ["status", "tradeNo", "buyerAlipayId", "paidAt", "closedAt", "refundedFen", "alipayRefundFeeFen", "needsReview", "nextCheckAt"] as const satisfies readonly (keyof Order)[];
export type OrderChanges = Partial<Pick<Order, (typeof CHANGEABLE)[number]>> & {
  /** check_attempts = check_attempts + 1 */
  countCheck?: boolean;
};

export type NewEvent = Pick<OrderEvent, "type" | "fromStatus" | "toStatus" | "source" | "actor" | "notificationId"> & {
  payload: Record<string, unknown>;
  /** Record at most once per order (anomalies): ON CONFLICT (order_id, dedupe_key) DO NOTHING. */
  dedupeKey?: string;
};

export interface WritePlan {
  orderId: number;
  /** The snapshot the decision was made on; the write applies only if the order still matches it. */
  seen: Pick<Order, "status" | "refundedFen" | "alipayRefundFeeFen">;
  changes: OrderChanges;
  event?: NewEvent;
  notification?: { id: number; outcome: NotificationOutcome };
  now: Date;
}

export interface WriteResult {
  order: Order;
  /** null when there was no event, or a deduplicated one already existed */
  event: OrderEvent | null;
  /** false when the inbox row had been processed meanwhile (another run of the same job) */
  notificationMarked: boolean;
}

/**
 * Write a decision as ONE statement (atomic, one round trip): the guarded order update — or, with
 * nothing to change, a guarded row lock — its event, and the inbox row's outcome, each conditional
 * on the guard. `WHERE status = <seen> AND refunded_fen = <seen> AND alipay_refund_fee_fen = <seen>` is the compare-and-set: a
 * concurrent writer holds the row until it commits, then PostgreSQL re-checks the guard on the new
 * row version. Returns null when the guard failed: the caller re-reads and decides again.
 */
export async function writeDecision(prisma: PrismaClient, plan: WritePlan): Promise<WriteResult | null> {
  const values: unknown[] = [];
  const sql = decisionSql(plan, paramsInto(values));
  const [r] = await query(prisma, `WITH ${sql.ctes.join(",\n")}\n${sql.select}`, values);
  return r ? writeResultOf(plan, r) : null;
}

/**
 * Several decisions about DIFFERENT orders as one statement (one round trip, one commit): each is
 * still its own compare-and-set with its own event and inbox outcome, exactly as writeDecision
 * writes it, and a failed guard leaves only that decision unwritten (its result is null). The
 * orders are locked in ascending id order, as every batch does, so two batches do not deadlock.
 */
export async function writeDecisions(prisma: PrismaClient, plans: WritePlan[]): Promise<(WriteResult | null)[]> {
  // One row cannot be updated twice by one statement: a decision that changes its order (or writes
  // its event) shares the statement with no other decision about that order; decisions that only
  // lock the order and mark their inbox row may share it with each other.
  const changes = new Map<number, number>();
  for (const p of plans) {
    const marksOnly = !p.event && Object.values(p.changes).every((v) => v === undefined);
    const n = changes.get(p.orderId);
    if (n !== undefined && (n > 0 || !marksOnly)) throw new Error("writeDecisions: a decision that changes an order must be its only one in the statement");
    changes.set(p.orderId, (n ?? 0) + (marksOnly ? 0 : 1));
  }
  if (plans.length === 1) return [await writeDecision(prisma, plans[0]!)];
  const rows = await query(prisma, decisionsStatement(), decisionsInputs().map(([, , value]) => plans.map(value)).concat(outcomeMoves()));
  const results: (WriteResult | null)[] = plans.map(() => null);
  for (const r of rows as Record<string, unknown>[]) {
    const i = r["b.i"] as number;
    delete r["b.i"];
    results[i] = writeResultOf(plans[i]!, r);
  }
  return results;
}

// The batch statement has ONE text whatever the batch holds: every decision is a row of arrays
// (unnest), so PostgreSQL parses and plans it once per connection (a named statement) instead of
// once per batch. Measured (docs/benchmarks.md, issue 14 session 5): the per-batch text, sent
// unnamed, cost more planning time than the statements' whole execution.

type DecisionInput = [name: string, type: string, value: (p: WritePlan, i: number) => unknown];

/** Which of CHANGEABLE a decision sets: bit k is CHANGEABLE[k] (undefined: left as it is). */
function changeMask(p: WritePlan): number {
  for (const key of Object.keys(p.changes)) {
    if (key !== "countCheck" && !(CHANGEABLE as readonly string[]).includes(key)) throw new Error(`order has no field ${key}`);
  }
  return CHANGEABLE.reduce((mask, key, k) => (p.changes[key] !== undefined ? mask | (1 << k) : mask), 0);
}

let decisionInputCache: DecisionInput[] | null = null;
/** The batch statement's inputs, one array each: name, element type, value per decision. */
function decisionsInputs(): DecisionInput[] {
  if (decisionInputCache) return decisionInputCache;
  const col = (field: string) => columnsOf("Order").find((c) => c.field === field)!;
  decisionInputCache = [
    ["i", "int", (_, i) => i],
    ["order_id", "int", (p) => p.orderId],
    ["seen_status", `"OrderStatus"`, (p) => p.seen.status],
    ["seen_refunded_fen", "int", (p) => p.seen.refundedFen],
    ["seen_alipay_refund_fee_fen", "int", (p) => p.seen.alipayRefundFeeFen],
    ["mask", "int", changeMask],
    ...CHANGEABLE.map((key): DecisionInput => [`c_${col(key).column}`, col(key).type, (p) => p.changes[key] ?? null]),
    ["count_check", "boolean", (p) => p.changes.countCheck === true],
    ["now", "timestamptz", (p) => p.now],
    ["ev_type", "text", (p) => p.event?.type ?? null],
    ["ev_from", `"OrderStatus"`, (p) => p.event?.fromStatus ?? null],
    ["ev_to", `"OrderStatus"`, (p) => p.event?.toStatus ?? null],
    ["ev_source", `"EventSource"`, (p) => p.event?.source ?? null],
    ["ev_actor", "text", (p) => p.event?.actor ?? null],
    ["ev_notification_id", "int", (p) => p.event?.notificationId ?? null],
    ["ev_payload", "text", (p) => (p.event ? JSON.stringify(p.event.payload) : null)],
    ["ev_dedupe_key", "text", (p) => p.event?.dedupeKey ?? null],
    ["n_id", "int", (p) => p.notification?.id ?? null],
    ["n_outcome", `"NotificationOutcome"`, (p) => p.notification?.outcome ?? null],
  ];
  return decisionInputCache;
}

/** inbox.ts's table of allowed moves as two parallel arrays (to, from): the guard of the inbox writes. */
function outcomeMoves(): [NotificationOutcome[], NotificationOutcome[]] {
  const pairs = NOTIFICATION_OUTCOMES.flatMap((to) => movesInto(to).map((from) => [to, from] as const));
  return [pairs.map(([to]) => to), pairs.map(([, from]) => from)];
}

let decisionsText: string | null = null;
/**
 * writeDecisions' statement. Per decision, exactly what decisionSql writes for one: the orders whose
 * guard (status, refunded_fen, alipay_refund_fee_fen as seen) holds are locked in ascending id order
 * (`g`: FOR NO KEY UPDATE re-checks the guard on the newest row version, as an UPDATE would); those
 * with changes are updated (`u`: only the columns the decision sets, bit by bit of `mask`); each
 * event is inserted (`e`, or `ed` with ON CONFLICT for a deduplicated one) and each inbox row is
 * moved (`n`, only from an outcome inbox.ts allows) only for a decision whose guard held. A
 * decision whose guard failed has no result row.
 */
function decisionsStatement(): string {
  if (decisionsText) return decisionsText;
  const inputs = decisionsInputs();
  const n = inputs.length;
  const orderCols = columnsOf("Order");
  const fields = (alias: string) => orderCols.map((c) => `${alias}."${c.field}"`).join(", ");
  const sets = CHANGEABLE.map((key, k) => {
    const c = orderCols.find((x) => x.field === key)!;
    return `"${c.column}" = CASE WHEN d.mask & ${1 << k} <> 0 THEN d."c_${c.column}" ELSE o."${c.column}" END`;
  });
  const eventInsert = (dedupe: boolean) => `INSERT INTO order_event (order_id, type, from_status, to_status, source, actor, notification_id, payload, created_at, dedupe_key)
       SELECT g.id, d.ev_type, d.ev_from, d.ev_to, d.ev_source, d.ev_actor, d.ev_notification_id, d.ev_payload::jsonb, d.now, d.ev_dedupe_key
       FROM g JOIN d ON d.i = g.i WHERE d.ev_type IS NOT NULL AND d.ev_dedupe_key IS ${dedupe ? "NOT NULL" : "NULL"}
       ${dedupe ? "ON CONFLICT (order_id, dedupe_key) DO NOTHING" : ""}
       RETURNING ${selectList("OrderEvent", "order_event")}`;
  const eventCols = columnsOf("OrderEvent").map((c) => `ev."${c.field}" AS "e.${c.field}"`).join(", ");
  decisionsText = `WITH d AS MATERIALIZED (
       SELECT * FROM unnest(${inputs.map(([, type], k) => `$${k + 1}::${type}[]`).join(", ")}) AS d(${inputs.map(([name]) => name).join(", ")})
     ),
     moves AS (SELECT * FROM unnest($${n + 1}::"NotificationOutcome"[], $${n + 2}::"NotificationOutcome"[]) AS m(to_outcome, from_outcome)),
     g AS MATERIALIZED (
       SELECT d.i, d.mask <> 0 OR d.count_check AS changes, d.ev_type IS NOT NULL AS has_event, ${selectList("Order", "o")}
       FROM d JOIN "order" o ON o.id = d.order_id AND o.status = d.seen_status AND o.refunded_fen = d.seen_refunded_fen
         AND o.alipay_refund_fee_fen = d.seen_alipay_refund_fee_fen
       ORDER BY o.id
       FOR NO KEY UPDATE OF o
     ),
     u AS (
       UPDATE "order" o SET ${sets.join(", ")},
         check_attempts = CASE WHEN d.count_check THEN o.check_attempts + 1 ELSE o.check_attempts END, updated_at = d.now
       FROM g JOIN d ON d.i = g.i
       WHERE o.id = g.id AND g.changes
       RETURNING g.i, ${selectList("Order", "o")}
     ),
     e AS (${eventInsert(false)}),
     ed AS (${eventInsert(true)}),
     n AS (
       UPDATE payment_notification p SET outcome = d.n_outcome, processed_at = d.now, attempts = p.attempts + 1, last_error = NULL, order_id = d.order_id
       FROM g JOIN d ON d.i = g.i
       WHERE d.n_id IS NOT NULL AND p.id = d.n_id
         AND EXISTS (SELECT 1 FROM moves m WHERE m.to_outcome = d.n_outcome AND m.from_outcome = p.outcome)
       RETURNING d.i
     ),
     r AS (SELECT i, ${fields("u")} FROM u UNION ALL SELECT i, ${fields("g")} FROM g WHERE NOT g.changes)
     SELECT r.i AS "b.i", ${orderCols.map((c) => `r."${c.field}"`).join(", ")}, ${eventCols},
       (SELECT count(*) FROM n WHERE n.i = r.i)::int AS "n.marked"
     FROM r JOIN g ON g.i = r.i
       LEFT JOIN (SELECT * FROM e UNION ALL SELECT * FROM ed) ev ON g.has_event AND ev."orderId" = g.id`;
  return decisionsText;
}

function paramsInto(values: unknown[]) {
  return (v: unknown, cast = "") => {
    values.push(v);
    return `$${values.length}${cast}`;
  };
}

/**
 * One decision's CTEs and the SELECT of its result row (writeDecision): the guarded order update —
 * or, with nothing to change, a guarded row lock — its event, and the inbox row's outcome, each
 * conditional on the guard. Its text varies with the decision's kind (a few shapes, each prepared).
 */
function decisionSql(plan: WritePlan, param: (v: unknown, cast?: string) => string): { ctes: string[]; select: string } {
  const orderId = param(plan.orderId);
  const guard = `id = ${orderId} AND status = ${param(plan.seen.status, `::"OrderStatus"`)} AND refunded_fen = ${param(plan.seen.refundedFen)}` +
    ` AND alipay_refund_fee_fen = ${param(plan.seen.alipayRefundFeeFen)}`;

  const sets: string[] = [];
  for (const [key, value] of Object.entries(plan.changes) as [keyof OrderChanges, unknown][]) {
    if (value === undefined) continue;
    if (key === "countCheck") {
      if (value) sets.push("check_attempts = check_attempts + 1");
      continue;
    }
    const c = columnsOf("Order").find((x) => x.field === key);
    if (!c) throw new Error(`order has no field ${key}`);
    sets.push(`"${c.column}" = ${param(value, c.cast)}`);
  }
  const orderCte = sets.length
    ? `UPDATE "order" SET ${sets.join(", ")}, updated_at = ${param(plan.now, "::timestamptz")} WHERE ${guard} RETURNING ${selectList("Order", `"order"`)}`
    : `SELECT ${selectList("Order", `"order"`)} FROM "order" WHERE ${guard} FOR NO KEY UPDATE`;

  const ctes = [`o AS (${orderCte})`];
  const e = plan.event;
  if (e) {
    ctes.push(`e AS (
      INSERT INTO order_event (order_id, type, from_status, to_status, source, actor, notification_id, payload, created_at, dedupe_key)
      SELECT o.id, ${param(e.type)}, ${param(e.fromStatus, `::"OrderStatus"`)}, ${param(e.toStatus, `::"OrderStatus"`)}, ${param(e.source, `::"EventSource"`)},
        ${param(e.actor)}, ${param(e.notificationId, "::int")}, ${param(JSON.stringify(e.payload), "::jsonb")}, ${param(plan.now, "::timestamptz")}, ${param(e.dedupeKey ?? null)}
      FROM o
      ${e.dedupeKey ? "ON CONFLICT (order_id, dedupe_key) DO NOTHING" : ""}
      RETURNING ${selectList("OrderEvent", "order_event")})`);
  }
  const n = plan.notification;
  if (n) {
    ctes.push(`n AS (
      UPDATE payment_notification SET outcome = ${param(n.outcome, `::"NotificationOutcome"`)}, processed_at = ${param(plan.now, "::timestamptz")},
        attempts = attempts + 1, last_error = NULL, order_id = ${orderId}
      WHERE id = ${param(n.id)} AND outcome = ANY(${param(movesInto(n.outcome), OUTCOME_ARRAY)}) AND EXISTS (SELECT 1 FROM o)
      RETURNING id)`);
  }
  const eventColumns = e ? columnsOf("OrderEvent").map((c) => `(SELECT "${c.field}" FROM e) AS "e.${c.field}"`).join(", ") : `NULL::int AS "e.id"`;
  return { ctes, select: `SELECT o.*, ${eventColumns}, ${n ? `(SELECT count(*) FROM n)::int` : "0"} AS "n.marked" FROM o` };
}

function writeResultOf(plan: WritePlan, r: Record<string, unknown>): WriteResult {
  const [order, rest] = split<Order, Record<string, unknown>>(r, "n.");
  const [orderOnly, event] = split<Order, OrderEvent>(order as unknown as Record<string, unknown>, "e.");
  return { order: orderOnly, event: plan.event && event.id !== null ? event : null, notificationMarked: (rest.marked as number) > 0 };
}

// ---- inside another module's transaction (core/refunds) ----------------------------------------------
//
// A refund changes its own row and the order in ONE transaction (core/refunds/store.ts opens it and
// locks the order first). These functions are the order half of such a transaction: the caller passes
// its transaction client, and the order, its events and inbox rows are still written only here.

/** The order row, locked (FOR NO KEY UPDATE) until the caller's transaction ends. */
export async function lockOrderInTransaction(c: pg.ClientBase, orderId: number): Promise<Order | null> {
  const { rows } = await c.query<Order>(`SELECT ${selectList("Order", "o")} FROM "order" o WHERE o.id = $1 FOR NO KEY UPDATE`, [orderId]);
  return rows[0] ?? null;
}

/** An event on the order's timeline (audit or transition), in the caller's transaction. */
export async function insertOrderEventInTransaction(c: pg.ClientBase, orderId: number, e: NewEvent, now: Date): Promise<void> {
  await c.query(
    `INSERT INTO order_event (order_id, type, from_status, to_status, source, actor, notification_id, payload, created_at, dedupe_key)
     VALUES ($1, $2, $3::"OrderStatus", $4::"OrderStatus", $5::"EventSource", $6, $7, $8::jsonb, $9::timestamptz, $10)
     ON CONFLICT (order_id, dedupe_key) DO NOTHING`,
    [orderId, e.type, e.fromStatus, e.toStatus, e.source, e.actor, e.notificationId, JSON.stringify(e.payload), now, e.dedupeKey ?? null],
  );
}

/**
 * Apply a state-machine decision to an order locked by lockOrderInTransaction, in the caller's
 * transaction: a transition's status and patch (settled orders leave the payment sweep), an anomaly's
 * review flag, and the decision's event. Returns the order as it now is.
 */
export async function writeLockedDecision(
  c: pg.ClientBase,
  order: Order,
  decision: Decision,
  meta: { source: EventSource; actor: string; notificationId: number | null; payload: Record<string, unknown>; dedupeKey?: string },
  now: Date,
): Promise<Order> {
  let changes: OrderChanges = {};
  let event: NewEvent | undefined;
  const base = { source: meta.source, actor: meta.actor, notificationId: meta.notificationId };
  if (decision.kind === "transition") {
    changes = { ...decision.patch, status: decision.to, ...(decision.to !== order.status ? { nextCheckAt: null } : {}) };
    event = { ...base, type: decision.event, fromStatus: decision.from, toStatus: decision.to, payload: { ...meta.payload, reason: decision.reason, anomaly: decision.anomaly } };
  } else if (decision.kind === "anomaly") {
    if (!order.needsReview) changes.needsReview = true;
    event = { ...base, type: decision.event, fromStatus: order.status, toStatus: order.status, payload: { ...meta.payload, reason: decision.reason }, dedupeKey: meta.dedupeKey };
  }
  const updated = await updateLockedOrder(c, order, changes, now);
  if (event) await insertOrderEventInTransaction(c, order.id, event, now);
  return updated;
}

/** Set columns of an order locked by lockOrderInTransaction (a whitelist, as writeDecision's). */
export async function updateLockedOrder(c: pg.ClientBase, order: Order, changes: OrderChanges, now: Date): Promise<Order> {
  const values: unknown[] = [order.id];
  const sets: string[] = [];
  for (const [key, value] of Object.entries(changes) as [keyof OrderChanges, unknown][]) {
    if (value === undefined || key === "countCheck") continue;
    const col = columnsOf("Order").find((x) => x.field === key);
    if (!col) throw new Error(`order has no field ${key}`);
    values.push(value);
    sets.push(`"${col.column}" = $${values.length}${col.cast}`);
  }
  if (!sets.length) return order;
  values.push(now);
  const { rows } = await c.query<Order>(
    `UPDATE "order" SET ${sets.join(", ")}, updated_at = $${values.length}::timestamptz WHERE id = $1 RETURNING ${selectList("Order", `"order"`)}`,
    values,
  );
  return rows[0]!;
}

/** Record an inbox row's outcome in the caller's transaction (only from an outcome the inbox table allows). */
export async function markNotificationInTransaction(c: pg.ClientBase, id: number, outcome: NotificationOutcome, orderId: number, now: Date): Promise<boolean> {
  const r = await c.query(
    `UPDATE payment_notification SET outcome = $2::"NotificationOutcome", processed_at = $3::timestamptz, attempts = attempts + 1, last_error = NULL, order_id = $4
     WHERE id = $1 AND outcome = ANY($5${OUTCOME_ARRAY})`,
    [id, outcome, now, orderId, movesInto(outcome)],
  );
  return (r.rowCount ?? 0) > 0;
}
