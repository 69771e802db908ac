// The one module that writes bill_batch, bill_attempt, bill_row, bill_difference and order_fee.
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
  await db.query(`UPDATE bill_attempt SET outcome = $3, detail = $4::jsonb, finished_at = now() WHERE batch_id = $1 AND attempt = $2`, [
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
  refundsMatched: boolean;
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
    const localRefunds = result.refundsMatched
      ? (await client.query<{ refunds: string; refund_fen: string }>(
          `SELECT count(*) AS refunds, COALESCE(sum(amount_fen), 0) AS refund_fen FROM refund WHERE state = 'SUCCEEDED' AND succeeded_at >= $1 AND succeeded_at < $2`,
          [start, end],
        )).rows[0]!
      : { refunds: "0", refund_fen: "0" };
    const l = local.rows[0]!;
    const localNet = BigInt(l.trade_fen) - BigInt(localRefunds.refund_fen) - BigInt(s.feeFen);
    // Fees are Alipay's alone: the local side shows the fees recorded per order from this bill.
    const done = await client.query(
      `UPDATE bill_batch SET state = $3::"BillBatchState", lease_until = NULL, last_error = '', finished_at = now(), updated_at = now(),
         bill_trades = $4, bill_trade_fen = $5, bill_refunds = $6, bill_refund_fen = $7, bill_fee_fen = $8, bill_net_fen = $9,
         local_trades = $10, local_trade_fen = $11, local_refunds = $12, local_refund_fen = $13, local_fee_fen = $8, local_net_fen = $14,
         differences_open = $15
       WHERE id = $1 AND attempts = $2 AND state = 'running'`,
      [claim.batchId, claim.attempt, result.state, s.trades, s.tradeFen, s.refunds, s.refundFen, s.feeFen, s.tradeFen - s.refundFen - s.feeFen,
        Number(l.trades), l.trade_fen, Number(localRefunds.refunds), localRefunds.refund_fen, localNet.toString(), result.differencesOpen],
    );
    if (done.rowCount === 0) throw new Error(`bill batch ${claim.batchId} attempt ${claim.attempt} was taken over before it finished`);
    await finishAttempt(client, claim, result.state, { summary: s, found: result.found, autoClosed: result.autoClosed, differencesOpen: result.differencesOpen, refundsMatched: result.refundsMatched,
      timingsMs: { loadMs: Math.round(t1 - t0), matchMs: Math.round(t2 - t1), totalsMs: Math.round(performance.now() - t2) } });
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
  SELECT $1, d.kind::"BillDifferenceKind", d.ref, d.out_trade_no, d.out_request_no, d.order_id, d.bill_amount_fen, d.local_amount_fen, d.local_status, $2
  FROM (%SELECT%) d
  ON CONFLICT (batch_id, kind, ref) DO UPDATE SET
    last_seen_attempt = EXCLUDED.last_seen_attempt, order_id = EXCLUDED.order_id, bill_amount_fen = EXCLUDED.bill_amount_fen,
    local_amount_fen = EXCLUDED.local_amount_fen, local_status = EXCLUDED.local_status, updated_at = now(),
    state = CASE WHEN bill_difference.state = ANY($3::"BillDifferenceState"[]) THEN 'open'::"BillDifferenceState" ELSE bill_difference.state END,
    note = CASE WHEN bill_difference.state = 'auto_closed' THEN 'seen again by attempt ' || EXCLUDED.last_seen_attempt ELSE bill_difference.note END`;

/** Set-based matching of the batch's loaded rows against orders and refunds. */
async function match(client: pg.PoolClient, claim: Claim, billDate: string, settings: MatchSettings): Promise<MatchResult> {
  const b = claim.batchId;
  const found: Record<string, number> = {};
  const seenAgain = differenceStatesFor("seen");
  const upsert = async (kind: BillDifferenceKind, select: string, params: unknown[] = []) => {
    const sql = UPSERT_DIFFERENCE.replace("%SELECT%", select);
    const r = await client.query(sql, [b, claim.attempt, seenAgain, ...params]);
    found[kind] = (found[kind] ?? 0) + (r.rowCount ?? 0);
  };

  // Payments: each trade row with the order its 商户订单号 names (or, failing that, its 支付宝交易号).
  await client.query(`
    CREATE TEMP TABLE bill_trade_match ON COMMIT DROP AS
    SELECT r.out_trade_no, r.trade_no, r.amount_fen, COALESCE(o.id, o2.id) AS order_id,
           COALESCE(o.status, o2.status)::text AS status, COALESCE(o.total_fen, o2.total_fen) AS total_fen
    FROM bill_row r
    LEFT JOIN "order" o ON o.out_trade_no = r.out_trade_no
    LEFT JOIN "order" o2 ON o.id IS NULL AND r.trade_no <> '' AND o2.trade_no = r.trade_no
    WHERE r.batch_id = $1 AND r.kind = 'trade'`, [b]);

  await upsert("unknown_order", `
    SELECT DISTINCT ON (out_trade_no) 'unknown_order' AS kind, out_trade_no AS ref, out_trade_no, NULL::varchar AS out_request_no,
      NULL::int AS order_id, amount_fen AS bill_amount_fen, NULL::int AS local_amount_fen, NULL::varchar AS local_status
    FROM bill_trade_match WHERE order_id IS NULL`);
  await upsert("paid_not_here", `
    SELECT DISTINCT ON (out_trade_no) 'paid_not_here' AS kind, out_trade_no AS ref, out_trade_no, NULL::varchar AS out_request_no,
      order_id, amount_fen AS bill_amount_fen, total_fen AS local_amount_fen, status AS local_status
    FROM bill_trade_match WHERE status = ANY($4::text[])`, [UNPAID_STATUSES]);
  await upsert("amount_differs", `
    SELECT DISTINCT ON (out_trade_no) 'amount_differs' AS kind, out_trade_no AS ref, out_trade_no, NULL::varchar AS out_request_no,
      order_id, amount_fen AS bill_amount_fen, total_fen AS local_amount_fen, status AS local_status
    FROM bill_trade_match WHERE status = ANY($4::text[]) AND total_fen <> amount_fen`, [PAID_STATUSES]);

  // Refunds: by out_request_no against the refund table (owned by core/refunds), when it exists.
  const hasRefunds = (await client.query<{ ok: boolean }>(`SELECT to_regclass('refund') IS NOT NULL AS ok`)).rows[0]!.ok;
  if (hasRefunds) {
    await client.query(`
      CREATE TEMP TABLE bill_refund_match ON COMMIT DROP AS
      SELECT COALESCE(r.out_request_no, r.out_trade_no) AS request_no, r.out_trade_no, r.amount_fen, f.order_id AS refund_order_id,
             f.state::text AS refund_state, f.amount_fen AS local_fen, o.id AS order_id, o.status::text AS order_status
      FROM bill_row r
      LEFT JOIN refund f ON f.out_request_no = COALESCE(r.out_request_no, r.out_trade_no)
      LEFT JOIN "order" o ON o.out_trade_no = r.out_trade_no
      WHERE r.batch_id = $1 AND r.kind = 'refund'`, [b]);
    await upsert("refund_not_here", `
      SELECT DISTINCT ON (request_no) 'refund_not_here' AS kind, request_no AS ref, out_trade_no, request_no AS out_request_no,
        COALESCE(refund_order_id, order_id) AS order_id, amount_fen AS bill_amount_fen, local_fen AS local_amount_fen,
        COALESCE(refund_state, 'none') AS local_status
      FROM bill_refund_match WHERE refund_state IS DISTINCT FROM 'SUCCEEDED'`);
    await upsert("amount_differs", `
      SELECT DISTINCT ON (request_no) 'amount_differs' AS kind, 'refund:' || request_no AS ref, out_trade_no, request_no AS out_request_no,
        COALESCE(refund_order_id, order_id) AS order_id, amount_fen AS bill_amount_fen, local_fen AS local_amount_fen, refund_state AS local_status
      FROM bill_refund_match WHERE refund_state = 'SUCCEEDED' AND local_fen <> amount_fen`);
  }

  // Our side, after the cross-midnight allowance: payments (and refunds) of day X = D − pending
  // that no bill of X−1 … X+1 shows. Only when X's own bill has been loaded.
  const x = addDays(billDate, -settings.pendingDays);
  const xLoaded = x === billDate || (await client.query(
    `SELECT 1 FROM bill_batch WHERE bill_type = 'trade' AND bill_date = $1 AND state IN ('matched', 'differences')`, [x],
  )).rowCount! > 0;
  if (xLoaded) {
    const { start, end } = beijingDayRange(x);
    const days = [addDays(x, -1), x, addDays(x, 1)].filter((d) => d <= billDate);
    await upsert("paid_not_in_bill", `
      SELECT 'paid_not_in_bill' AS kind, o.out_trade_no AS ref, o.out_trade_no, NULL::varchar AS out_request_no, o.id AS order_id,
        NULL::int AS bill_amount_fen, o.total_fen AS local_amount_fen, o.status::text AS local_status
      FROM "order" o
      WHERE o.paid_at >= $4 AND o.paid_at < $5 AND o.status = ANY($6::"OrderStatus"[])
        AND NOT EXISTS (
          SELECT 1 FROM bill_row r JOIN bill_batch bb ON bb.id = r.batch_id
          WHERE r.out_trade_no = o.out_trade_no AND r.kind = 'trade' AND bb.bill_type = 'trade' AND bb.bill_date = ANY($7::varchar[]))`,
      [start, end, PAID_STATUSES, days]);
    if (hasRefunds) {
      await upsert("refund_not_at_alipay", `
        SELECT 'refund_not_at_alipay' AS kind, f.out_request_no AS ref, o.out_trade_no, f.out_request_no, f.order_id,
          NULL::int AS bill_amount_fen, f.amount_fen AS local_amount_fen, f.state::text AS local_status
        FROM refund f JOIN "order" o ON o.id = f.order_id
        WHERE f.state = 'SUCCEEDED' AND f.succeeded_at >= $4 AND f.succeeded_at < $5
          AND NOT EXISTS (
            SELECT 1 FROM bill_row r JOIN bill_batch bb ON bb.id = r.batch_id
            WHERE r.out_request_no = f.out_request_no AND r.kind = 'refund' AND bb.bill_type = 'trade' AND bb.bill_date = ANY($6::varchar[]))`,
        [start, end, days]);
    }
  }

  // Alipay's fee per order for this bill day (payment fees minus fees returned with refunds).
  await client.query(`
    INSERT INTO order_fee (order_id, batch_id, fee_fen)
    SELECT o.id, $1, sum(CASE WHEN r.kind = 'trade' THEN r.fee_fen ELSE -r.fee_fen END)
    FROM bill_row r JOIN "order" o ON o.out_trade_no = r.out_trade_no
    WHERE r.batch_id = $1 GROUP BY o.id
    ON CONFLICT (order_id, batch_id) DO UPDATE SET fee_fen = EXCLUDED.fee_fen`, [b]);

  // Differences of this batch that this attempt no longer sees close by themselves, saying so.
  const notSeenFrom = differenceStatesFor("not_seen");
  const closed = await client.query(
    `UPDATE bill_difference SET state = 'auto_closed', resolved_by = 'system', resolved_at = now(), updated_at = now(),
       note = 'not seen by attempt ' || $2::int || ' of this batch: closed automatically'
     WHERE batch_id = $1 AND state = ANY($3::"BillDifferenceState"[]) AND last_seen_attempt < $2`,
    [b, claim.attempt, notSeenFrom],
  );
  // Open differences of earlier batches whose cause is gone now (the order got paid, the payment
  // showed up in a later bill, the refund succeeded) close too.
  const earlier = await client.query(
    `UPDATE bill_difference d SET state = 'auto_closed', resolved_by = 'system', resolved_at = now(), updated_at = now(),
       note = 'closed automatically by the run of ' || $2::text || ': ' || CASE d.kind
         WHEN 'paid_not_here' THEN 'the order is paid here now'
         WHEN 'paid_not_in_bill' THEN 'the payment is in a bill now'
         ELSE 'the refund is recorded now' END
     WHERE d.batch_id <> $1 AND d.state = ANY($3::"BillDifferenceState"[]) AND (
       (d.kind = 'paid_not_here' AND EXISTS (SELECT 1 FROM "order" o WHERE o.id = d.order_id AND o.status = ANY($4::"OrderStatus"[])))
       OR (d.kind = 'paid_not_in_bill' AND EXISTS (SELECT 1 FROM bill_row r WHERE r.out_trade_no = d.out_trade_no AND r.kind = 'trade'))
     )`,
    [b, billDate, notSeenFrom, PAID_STATUSES],
  );
  if (hasRefunds) {
    const r = await client.query(
      `UPDATE bill_difference d SET state = 'auto_closed', resolved_by = 'system', resolved_at = now(), updated_at = now(),
         note = 'closed automatically by the run of ' || $2::text || ': the refund succeeded here now'
       WHERE d.batch_id <> $1 AND d.state = ANY($3::"BillDifferenceState"[]) AND d.kind = 'refund_not_here'
         AND EXISTS (SELECT 1 FROM refund f WHERE f.out_request_no = d.out_request_no AND f.state = 'SUCCEEDED' AND f.amount_fen = d.bill_amount_fen)`,
      [b, billDate, notSeenFrom],
    );
    earlier.rowCount = (earlier.rowCount ?? 0) + (r.rowCount ?? 0);
  }
  const open = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM bill_difference WHERE batch_id = $1 AND state = 'open'`, [b]);
  const differencesOpen = open.rows[0]!.n;
  return {
    state: differencesOpen > 0 ? "differences" : "matched",
    differencesOpen,
    found,
    autoClosed: (closed.rowCount ?? 0) + (earlier.rowCount ?? 0),
    refundsMatched: hasRefunds,
  };
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
