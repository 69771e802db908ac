// The one module that writes bill_batch, bill_attempt, bill_row and bill_difference.
// Every state change is a guarded statement built from transitions.ts; the load and the match of
// one attempt are one transaction (COPY into bill_row, then set-based joins in PostgreSQL), so a
// worker killed mid-batch leaves nothing half-written: the next attempt starts clean.
import type { BillBatchState, BillDifferenceKind, PrismaClient } from "@prisma/client";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { sqlPoolOf } from "../db/index.ts";
import { addDays, beijingDayRange, type BillRow, type BillSummary } from "./format.ts";
import { batchStatesFor, differenceStatesFor, type BatchEvent } from "./transitions.ts";

/** Order statuses that mean "Alipay took the money" (refunds included: the payment happened). */
export const PAID_STATUSES = ["PAID", "PARTIALLY_REFUNDED", "REFUNDED"] as const;
/** Order statuses that mean "no payment here". */
export const UNPAID_STATUSES = ["UNPAID", "CLOSED", "CANCELLED"] as const;

export interface Claim {
  batchId: number;
  attempt: number;
}

/**
 * Start an attempt of the (type, date) batch: creates the batch if needed, then moves it to running
 * if `event` allows it from its current state, or if it is running under an expired lease (a worker
 * died mid-batch). null: another replica holds it, or it is finished and this is not a re-run.
 */
export async function claimBatch(
  prisma: PrismaClient,
  input: { billType: string; billDate: string; event: Extract<BatchEvent, "claim" | "rerun">; leaseSeconds: number; trigger: string; actor?: string },
): Promise<Claim | null> {
  const pool = sqlPoolOf(prisma);
  await pool.query(`INSERT INTO bill_batch (bill_type, bill_date) VALUES ($1, $2) ON CONFLICT (bill_type, bill_date) DO NOTHING`, [input.billType, input.billDate]);
  const claimed = await pool.query<{ id: number; attempts: number }>(
    `UPDATE bill_batch SET state = 'running', attempts = attempts + 1, lease_until = now() + make_interval(secs => $4), updated_at = now()
     WHERE bill_type = $1 AND bill_date = $2
       AND (state = ANY($3::"BillBatchState"[]) OR (state = 'running' AND lease_until < now()))
     RETURNING id, attempts`,
    [input.billType, input.billDate, batchStatesFor(input.event), input.leaseSeconds],
  );
  const row = claimed.rows[0];
  if (!row) return null;
  await pool.query(
    `INSERT INTO bill_attempt (batch_id, attempt, trigger, actor) VALUES ($1, $2, $3, $4)
     ON CONFLICT (batch_id, attempt) DO NOTHING`,
    [row.id, row.attempts, input.trigger, input.actor ?? ""],
  );
  return { batchId: row.id, attempt: row.attempts };
}

/** End an attempt without matching (waiting, no_bill, corrupt, failed). Guarded on the attempt. */
export async function finishWithoutMatch(
  prisma: PrismaClient,
  claim: Claim,
  input: { state: BillBatchState; outcome: string; error?: string; detail?: Record<string, unknown>; summary?: BillSummary },
): Promise<boolean> {
  const pool = sqlPoolOf(prisma);
  const s = input.summary;
  const r = await pool.query(
    `UPDATE bill_batch SET state = $3::"BillBatchState", lease_until = NULL, last_error = $4, updated_at = now(),
       finished_at = CASE WHEN $3::text IN ('no_bill', 'corrupt') THEN now() ELSE finished_at END,
       bill_trades = COALESCE($5, bill_trades), bill_trade_fen = COALESCE($6, bill_trade_fen), bill_refunds = COALESCE($7, bill_refunds),
       bill_refund_fen = COALESCE($8, bill_refund_fen), bill_fee_fen = COALESCE($9, bill_fee_fen)
     WHERE id = $1 AND attempts = $2 AND state = 'running'`,
    [claim.batchId, claim.attempt, input.state, input.error ?? "", s?.trades ?? null, s?.tradeFen ?? null, s?.refunds ?? null, s?.refundFen ?? null, s?.feeFen ?? null],
  );
  await finishAttempt(pool, claim, input.outcome, { ...input.detail, ...(input.error ? { error: input.error } : {}) });
  return (r.rowCount ?? 0) > 0;
}

async function finishAttempt(db: pg.Pool | pg.PoolClient, claim: Claim, outcome: string, detail: Record<string, unknown>): Promise<void> {
  // clock_timestamp(), not now(): inside the load-and-match transaction now() is when it began.
  await db.query(`UPDATE bill_attempt SET outcome = $3, detail = $4::jsonb, finished_at = clock_timestamp() WHERE batch_id = $1 AND attempt = $2`, [
    claim.batchId, claim.attempt, outcome, JSON.stringify(detail),
  ]);
}

/** COPY text format: backslash, tab, newline and carriage return escaped; \N is NULL. */
function copyField(v: string | number | null): string {
  if (v === null) return "\\N";
  if (typeof v === "number") return String(v);
  return v.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}

export interface MatchSettings {
  pendingDays: number;
}

export interface MatchResult {
  state: "matched" | "differences";
  differencesOpen: number;
  found: Record<string, number>;
  autoClosed: number;
  /** milliseconds per matching step (bill_attempt.detail.timingsMs) */
  timingsMs: Record<string, number>;
}

/**
 * Load the bill's rows (streamed by `load`, which calls `push` per row and returns the parse result)
 * and match them, in one transaction. When the parse says the footer disagrees, or `load` throws,
 * the transaction rolls back and nothing is matched.
 */
export async function loadAndMatch(
  prisma: PrismaClient,
  claim: Claim,
  billDate: string,
  settings: MatchSettings,
  load: (push: (row: BillRow) => void | Promise<void>) => Promise<{ summary: BillSummary; problems: string[] }>,
): Promise<{ kind: "matched"; result: MatchResult; summary: BillSummary } | { kind: "footer"; summary: BillSummary; problems: string[] }> {
  const client = await sqlPoolOf(prisma).connect();
  let open = false;
  try {
    await client.query("BEGIN");
    open = true;
    // The attempt must still be ours (lease not taken over) for anything it writes to count.
    const held = await client.query(`SELECT 1 FROM bill_batch WHERE id = $1 AND attempts = $2 AND state = 'running' FOR UPDATE`, [claim.batchId, claim.attempt]);
    if (held.rowCount === 0) throw new Error(`bill batch ${claim.batchId} attempt ${claim.attempt} is no longer running (taken over)`);
    await client.query(`DELETE FROM bill_row WHERE batch_id = $1`, [claim.batchId]);
    const copy = client.query(copyFrom(
      `COPY bill_row (batch_id, line, kind, trade_no, out_trade_no, out_request_no, amount_fen, fee_fen, completed_at) FROM STDIN`,
    ));
    const copyDone = new Promise<void>((resolve, reject) => {
      copy.on("finish", resolve);
      copy.on("error", reject);
    });
    let line = 0;
    let buf = "";
    const flush = async () => {
      if (!buf) return;
      const ok = copy.write(buf);
      buf = "";
      if (!ok) await new Promise((r) => copy.once("drain", r));
    };
    let parsed: { summary: BillSummary; problems: string[] };
    const t0 = performance.now();
    try {
      parsed = await load((row) => {
        line++;
        buf += `${claim.batchId}\t${line}\t${row.kind}\t${copyField(row.tradeNo)}\t${copyField(row.outTradeNo)}\t${copyField(row.outRequestNo)}\t${row.amountFen}\t${row.feeFen}\t${row.completedAt}\n`;
        if (buf.length >= 256 * 1024) return flush();
      });
      await flush();
      copy.end();
      await copyDone;
    } catch (e) {
      // Abort the COPY (PostgreSQL answers with an error, awaited here) and let the ROLLBACK below run.
      copy.destroy();
      await copyDone.catch(() => {});
      throw e;
    }
    if (!parsed.summary.footerAgrees) {
      await client.query("ROLLBACK");
      open = false;
      return { kind: "footer", summary: parsed.summary, problems: parsed.problems };
    }
    const t1 = performance.now();
    const result = await match(client, claim, billDate, settings);
    const t2 = performance.now();
    const s = parsed.summary;
    const { start, end } = beijingDayRange(billDate);
    const local = await client.query<{ trades: string; trade_fen: string }>(
      `SELECT count(*) AS trades, COALESCE(sum(total_fen), 0) AS trade_fen FROM "order"
       WHERE paid_at >= $1 AND paid_at < $2 AND status = ANY($3::"OrderStatus"[])`,
      [start, end, PAID_STATUSES],
    );
    const localRefunds = (await client.query<{ refunds: string; refund_fen: string }>(
      `SELECT count(*) AS refunds, COALESCE(sum(amount_fen), 0) AS refund_fen FROM refund WHERE state = 'SUCCEEDED' AND succeeded_at >= $1 AND succeeded_at < $2`,
      [start, end],
    )).rows[0]!;
    const l = local.rows[0]!;
    const localNet = BigInt(l.trade_fen) - BigInt(localRefunds.refund_fen) - BigInt(s.feeFen);
    // Fees are Alipay's alone: the local side shows the fees recorded per order from this bill.
    const done = await client.query(
      `UPDATE bill_batch SET state = $3::"BillBatchState", lease_until = NULL, last_error = '', finished_at = clock_timestamp(), updated_at = clock_timestamp(),
         bill_trades = $4, bill_trade_fen = $5, bill_refunds = $6, bill_refund_fen = $7, bill_fee_fen = $8, bill_net_fen = $9,
         local_trades = $10, local_trade_fen = $11, local_refunds = $12, local_refund_fen = $13, local_fee_fen = $8, local_net_fen = $14,
         differences_open = $15
       WHERE id = $1 AND attempts = $2 AND state = 'running'`,
      [claim.batchId, claim.attempt, result.state, s.trades, s.tradeFen, s.refunds, s.refundFen, s.feeFen, s.tradeFen - s.refundFen - s.feeFen,
        Number(l.trades), l.trade_fen, Number(localRefunds.refunds), localRefunds.refund_fen, localNet.toString(), result.differencesOpen],
    );
    if (done.rowCount === 0) throw new Error(`bill batch ${claim.batchId} attempt ${claim.attempt} was taken over before it finished`);
    await finishAttempt(client, claim, result.state, { summary: s, found: result.found, autoClosed: result.autoClosed, differencesOpen: result.differencesOpen,
      timingsMs: { loadMs: Math.round(t1 - t0), ...result.timingsMs, matchMs: Math.round(t2 - t1), totalsMs: Math.round(performance.now() - t2) } });
    await client.query("COMMIT");
    open = false;
    return { kind: "matched", result, summary: s };
  } catch (e) {
    if (open) await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

const UPSERT_DIFFERENCE = `
  INSERT INTO bill_difference (batch_id, kind, ref, out_trade_no, out_request_no, order_id, bill_amount_fen, local_amount_fen, local_status, last_seen_attempt)
  SELECT DISTINCT ON (d.kind, d.ref) $1, d.kind::"BillDifferenceKind", d.ref, d.out_trade_no, d.out_request_no, d.order_id, d.bill_amount_fen,
    d.local_amount_fen, d.local_status, $2
  FROM (%SELECT%) d
  WHERE d.kind IS NOT NULL
  ORDER BY d.kind, d.ref
  ON CONFLICT (batch_id, kind, ref) DO UPDATE SET
    last_seen_attempt = EXCLUDED.last_seen_attempt, order_id = EXCLUDED.order_id, bill_amount_fen = EXCLUDED.bill_amount_fen,
    local_amount_fen = EXCLUDED.local_amount_fen, local_status = EXCLUDED.local_status, updated_at = now(),
    state = CASE WHEN bill_difference.state = ANY($3::"BillDifferenceState"[]) THEN 'open'::"BillDifferenceState" ELSE bill_difference.state END,
    note = CASE WHEN bill_difference.state = 'auto_closed' THEN 'seen again by attempt ' || EXCLUDED.last_seen_attempt ELSE bill_difference.note END
  RETURNING kind::text`;

/**
 * Set-based matching of the batch's loaded rows against orders and refunds: one pass over the
 * bill's payment rows and one over its refund rows (each a hash join that yields only the rows that
 * differ), then one anti-join per side for what we have and the bills do not. The planner needs
 * bill_row's statistics to pick hash joins over a million fresh rows: ANALYZE first (it sees this
 * transaction's own rows).
 */
async function match(client: pg.PoolClient, claim: Claim, billDate: string, settings: MatchSettings): Promise<MatchResult> {
  const b = claim.batchId;
  const found: Record<string, number> = {};
  const timingsMs: Record<string, number> = {};
  const seenAgain = differenceStatesFor("seen");
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await run();
    } finally {
      timingsMs[name] = Math.round(performance.now() - t);
    }
  };
  const upsert = (name: string, select: string, params: unknown[] = []) =>
    step(name, async () => {
      const r = await client.query<{ kind: string }>(UPSERT_DIFFERENCE.replace("%SELECT%", select), [b, claim.attempt, seenAgain, ...params]);
      for (const row of r.rows) found[row.kind] = (found[row.kind] ?? 0) + 1;
    });

  await step("analyze", () => client.query(`ANALYZE bill_row`));

  // Payments: each payment row with the order its 商户订单号 names (or, failing that, its 支付宝交易号):
  // unknown order, paid at Alipay but not here, or another amount.
  await upsert("payments", `
    SELECT CASE WHEN o.id IS NULL THEN 'unknown_order'
                WHEN o.status = ANY($4::"OrderStatus"[]) THEN 'paid_not_here'
                WHEN o.status = ANY($5::"OrderStatus"[]) AND o.total_fen <> r.amount_fen THEN 'amount_differs' END AS kind,
      r.out_trade_no AS ref, r.out_trade_no, NULL::varchar AS out_request_no, o.id AS order_id, r.amount_fen AS bill_amount_fen,
      o.total_fen AS local_amount_fen, o.status::text AS local_status
    FROM bill_row r
    LEFT JOIN "order" o1 ON o1.out_trade_no = r.out_trade_no
    LEFT JOIN LATERAL (SELECT id, status, total_fen FROM "order" WHERE o1.id IS NULL AND r.trade_no <> '' AND trade_no = r.trade_no LIMIT 1) o2 ON true
    CROSS JOIN LATERAL (SELECT COALESCE(o1.id, o2.id) AS id, COALESCE(o1.status, o2.status) AS status, COALESCE(o1.total_fen, o2.total_fen) AS total_fen) o
    WHERE r.batch_id = $1 AND r.kind = 'trade'`, [UNPAID_STATUSES, PAID_STATUSES]);

  // Refunds: by out_request_no against our Refund rows (core/refunds). Not SUCCEEDED here (or no row
  // at all: a refund made outside coursepay) → refund_not_here; SUCCEEDED for another amount →
  // amount_differs on the refund.
  await upsert("refunds", `
    SELECT CASE WHEN f.state IS DISTINCT FROM 'SUCCEEDED' THEN 'refund_not_here'
                WHEN f.amount_fen <> r.amount_fen THEN 'amount_differs' END AS kind,
      CASE WHEN f.state IS DISTINCT FROM 'SUCCEEDED' THEN q.no ELSE 'refund:' || q.no END AS ref,
      r.out_trade_no, q.no AS out_request_no, COALESCE(f.order_id, (SELECT id FROM "order" WHERE out_trade_no = r.out_trade_no)) AS order_id,
      r.amount_fen AS bill_amount_fen, f.amount_fen AS local_amount_fen, COALESCE(f.state::text, 'none') AS local_status
    FROM bill_row r
    CROSS JOIN LATERAL (SELECT COALESCE(r.out_request_no, r.out_trade_no) AS no) q
    LEFT JOIN refund f ON f.out_request_no = q.no
    WHERE r.batch_id = $1 AND r.kind = 'refund' AND (f.state IS DISTINCT FROM 'SUCCEEDED' OR f.amount_fen <> r.amount_fen)`);

  // Our side, after the cross-midnight allowance: payments (and refunds) of day X = D − pending
  // that no bill of X−1 … X+1 shows. Only when X's own bill has been loaded.
  const x = addDays(billDate, -settings.pendingDays);
  const days = [addDays(x, -1), x, addDays(x, 1)].filter((d) => d <= billDate);
  const loaded = await client.query<{ id: number; bill_date: string }>(
    `SELECT id, bill_date FROM bill_batch WHERE bill_type = 'trade' AND bill_date = ANY($1::varchar[]) AND (id = $2 OR state IN ('matched', 'differences'))`,
    [days, b],
  );
  if (loaded.rows.some((r) => r.bill_date === x)) {
    const { start, end } = beijingDayRange(x);
    const batches = loaded.rows.map((r) => r.id);
    await upsert("paidNotInBill", `
      SELECT 'paid_not_in_bill' AS kind, o.out_trade_no AS ref, o.out_trade_no, NULL::varchar AS out_request_no, o.id AS order_id,
        NULL::int AS bill_amount_fen, o.total_fen AS local_amount_fen, o.status::text AS local_status
      FROM "order" o
      WHERE o.paid_at >= $4 AND o.paid_at < $5 AND o.status = ANY($6::"OrderStatus"[])
        AND NOT EXISTS (SELECT 1 FROM bill_row r WHERE r.batch_id = ANY($7::int[]) AND r.kind = 'trade' AND r.out_trade_no = o.out_trade_no)`,
      [start, end, PAID_STATUSES, batches]);
    await upsert("refundNotAtAlipay", `
      SELECT 'refund_not_at_alipay' AS kind, f.out_request_no AS ref, o.out_trade_no, f.out_request_no, f.order_id,
        NULL::int AS bill_amount_fen, f.amount_fen AS local_amount_fen, f.state::text AS local_status
      FROM refund f JOIN "order" o ON o.id = f.order_id
      WHERE f.state = 'SUCCEEDED' AND f.succeeded_at >= $4 AND f.succeeded_at < $5
        AND NOT EXISTS (SELECT 1 FROM bill_row r WHERE r.batch_id = ANY($6::int[]) AND r.kind = 'refund' AND r.out_request_no = f.out_request_no)`,
      [start, end, batches]);
  }

  // Differences of this batch that this attempt no longer sees close by themselves, saying so.
  const notSeenFrom = differenceStatesFor("not_seen");
  const closed = await step("autoClose", () => client.query(
    `UPDATE bill_difference SET state = 'auto_closed', resolved_by = 'system', resolved_at = now(), updated_at = now(),
       note = 'not seen by attempt ' || $2::int || ' of this batch: closed automatically'
     WHERE batch_id = $1 AND state = ANY($3::"BillDifferenceState"[]) AND last_seen_attempt < $2`,
    [b, claim.attempt, notSeenFrom],
  ));
  // Open differences of earlier batches whose cause is gone now (the order got paid, the payment
  // showed up in a later bill, the refund succeeded here) close too.
  const earlier = await step("autoCloseEarlier", () => client.query(
    `UPDATE bill_difference d SET state = 'auto_closed', resolved_by = 'system', resolved_at = now(), updated_at = now(),
       note = 'closed automatically by the run of ' || $2::text || ': ' || CASE d.kind
         WHEN 'paid_not_here' THEN 'the order is paid here now'
         WHEN 'paid_not_in_bill' THEN 'the payment is in a bill now'
         ELSE 'the refund succeeded here now' END
     WHERE d.batch_id <> $1 AND d.state = ANY($3::"BillDifferenceState"[]) AND (
       (d.kind = 'paid_not_here' AND EXISTS (SELECT 1 FROM "order" o WHERE o.id = d.order_id AND o.status = ANY($4::"OrderStatus"[])))
       OR (d.kind = 'paid_not_in_bill' AND EXISTS (SELECT 1 FROM bill_row r WHERE r.out_trade_no = d.out_trade_no AND r.kind = 'trade'))
       OR (d.kind = 'refund_not_here'
           AND EXISTS (SELECT 1 FROM refund f WHERE f.out_request_no = d.out_request_no AND f.state = 'SUCCEEDED' AND f.amount_fen = d.bill_amount_fen))
     )`,
    [b, billDate, notSeenFrom, PAID_STATUSES],
  ));
  const open = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM bill_difference WHERE batch_id = $1 AND state = 'open'`, [b]);
  const differencesOpen = open.rows[0]!.n;
  return {
    state: differencesOpen > 0 ? "differences" : "matched",
    differencesOpen,
    found,
    autoClosed: (closed.rowCount ?? 0) + (earlier.rowCount ?? 0),
    timingsMs,
  };
}

/** Alipay's fee per order (bill_row: fees on payments minus fees returned with refunds), by bill day. */
export async function orderFees(prisma: PrismaClient, outTradeNo: string): Promise<{ billDate: string; feeFen: number }[]> {
  const { rows } = await sqlPoolOf(prisma).query<{ bill_date: string; fee_fen: number }>(
    `SELECT bb.bill_date, sum(CASE WHEN r.kind = 'trade' THEN r.fee_fen ELSE -r.fee_fen END)::int AS fee_fen
     FROM bill_row r JOIN bill_batch bb ON bb.id = r.batch_id
     WHERE r.out_trade_no = $1 AND bb.state IN ('matched', 'differences')
     GROUP BY bb.bill_date ORDER BY bb.bill_date`,
    [outTradeNo],
  );
  return rows.map((r) => ({ billDate: r.bill_date, feeFen: r.fee_fen }));
}

/** Staff closes a difference (mark resolved with a note, or after trusting Alipay). Guarded: open only. */
export async function resolveDifference(
  prisma: PrismaClient,
  input: { differenceId: number; actor: string; note: string },
): Promise<boolean> {
  const pool = sqlPoolOf(prisma);
  const r = await pool.query(
    `UPDATE bill_difference SET state = 'resolved', resolved_by = $2, resolved_at = now(), note = $3, updated_at = now()
     WHERE id = $1 AND state = ANY($4::"BillDifferenceState"[])`,
    [input.differenceId, input.actor, input.note, differenceStatesFor("resolve")],
  );
  if ((r.rowCount ?? 0) > 0) {
    await pool.query(
      `UPDATE bill_batch b SET differences_open = (SELECT count(*) FROM bill_difference d WHERE d.batch_id = b.id AND d.state = 'open'), updated_at = now()
       WHERE b.id = (SELECT batch_id FROM bill_difference WHERE id = $1)`,
      [input.differenceId],
    );
  }
  return (r.rowCount ?? 0) > 0;
}
