// The callback inbox (PaymentNotification): what its outcomes mean, which moves between them are
// allowed, and how a callback's raw text is kept. Pure, like transitions.ts: the rows are written
// only by core/orders/store.ts, whose guarded statements take their `WHERE outcome IN (…)` from
// `movesInto` below, so a row can only ever move along this table.
//
//   pending ──► applied | duplicate | ignored | anomaly | rejected   (the worker applied it)
//      │  ▲
//      ▼  │ re-drive (staff, or the automatic settle of stale rows)
//   failed  ──► applied | duplicate | ignored | anomaly | rejected
//
// Every other outcome is final: the row's evidence has been dealt with and nothing writes it again.
import type { NotificationOutcome } from "@prisma/client";
import type { Decision } from "./transitions.ts";

export const NOTIFICATION_OUTCOMES = [
  "pending", "applied", "duplicate", "ignored", "rejected", "anomaly", "failed",
] as const satisfies readonly NotificationOutcome[];

/** Outcomes a row reaches by being processed: final. */
const PROCESSED: readonly NotificationOutcome[] = ["applied", "duplicate", "ignored", "rejected", "anomaly"];

/** The allowed moves: from → the outcomes it may be written to. */
export const INBOX_MOVES: Readonly<Record<NotificationOutcome, readonly NotificationOutcome[]>> = {
  // pending → pending: a re-drive of a row whose job was lost (the api died between insert and enqueue).
  pending: ["pending", "failed", ...PROCESSED],
  failed: ["pending", ...PROCESSED],
  applied: [],
  duplicate: [],
  ignored: [],
  rejected: [],
  anomaly: [],
};

export function canMove(from: NotificationOutcome, to: NotificationOutcome): boolean {
  return INBOX_MOVES[from].includes(to);
}

/** The outcomes a row may be in for a write to `to`: the guard of every inbox write. */
export function movesInto(to: NotificationOutcome): NotificationOutcome[] {
  return NOTIFICATION_OUTCOMES.filter((from) => canMove(from, to));
}

/** Pending or failed: the row's evidence has not been dealt with and may be processed (again). */
export function isReprocessable(outcome: NotificationOutcome): boolean {
  return INBOX_MOVES[outcome].length > 0;
}

/** The inbox outcome of a state-machine decision (close_at_alipay_first writes none: the close that follows does). */
export function outcomeOfDecision(d: Decision): NotificationOutcome | null {
  switch (d.kind) {
    case "transition": return "applied";
    case "anomaly": return "anomaly";
    case "noop": return d.duplicate ? "duplicate" : "ignored";
    case "unknown": return "ignored";
    case "close_at_alipay_first": return null;
  }
}

/** Outcome of a callback at intake. A verified notify for one of our orders waits for the worker. */
export function intakeOutcome(kind: "notify" | "return", verified: boolean, hasOrder: boolean, fieldsOk: boolean): NotificationOutcome {
  if (!verified) return "rejected";
  // A return carries no trade status: it is recorded and only prompts a payment check.
  if (kind === "return") return "ignored";
  return fieldsOk && hasOrder ? "pending" : "rejected";
}

// ---- raw text ----------------------------------------------------------------------------------

/** PostgreSQL text cannot hold NUL: it is stored spelled out, everything else as received. */
export function storableText(text: string): string {
  return text.replaceAll("\u0000", "\\u0000");
}

/**
 * How much of an unverified callback is kept. Anyone can post one, so what it may write is bounded;
 * the reason column says why it was refused, and the start of the body (its field names, the
 * out_trade_no it claims) is what staff need. A verified callback is evidence and is kept whole.
 */
export const UNVERIFIED_BODY_KEEP_CHARS = 2048;

/** The raw body (notify) or query string (return) as stored: the same rule for both kinds. */
export function storedBody(raw: Buffer | string, verified: boolean): string {
  const text = storableText(typeof raw === "string" ? raw : raw.toString("utf8"));
  if (verified || text.length <= UNVERIFIED_BODY_KEEP_CHARS) return text;
  return `${text.slice(0, UNVERIFIED_BODY_KEEP_CHARS)}…[unverified: ${text.length - UNVERIFIED_BODY_KEEP_CHARS} more characters not kept]`;
}

/** Untrusted text for a bounded column: kept only if it fits (a forged body must not break the insert). */
export function fitColumn(value: string | undefined, max: number): string | null {
  return typeof value === "string" && value.length > 0 && value.length <= max && !value.includes("\u0000") ? value : null;
}
