// The refund state machine: the one place that says what a staff decision or an answer from Alipay
// means for a refund. Pure: no I/O, no clock, no randomness — core/refunds/commands.ts loads the
// refund, calls decideRefund(), and core/refunds/store.ts persists the decision under a row lock.
//
//   AWAITING_APPROVAL ──approve──▶ QUEUED ──dispatch (worker calls alipay.trade.refund)──▶ SUBMITTED
//          │                          ▲                                                     │
//          └──reject──▶ REJECTED      └──query: no refund data (and only then)── UNKNOWN ◀───┤ timeout, 20000,
//                                                                                │          │ ACQ.SYSTEM_ERROR,
//                                     SUCCEEDED ◀── call fund_change=Y / query REFUND_SUCCESS│ unverifiable
//                                                    or data without refund_status / notify  │
//                                     FAILED    ◀── business error on the first call since the
//                                                    refund was known absent / query REFUND_FAIL ─┘
//
// A business error is final only on a call that is the FIRST since the refund was last known not to
// exist at Alipay (it was just created, or a refund query found no refund data). On any later call —
// a resend after an unknown outcome, when Alipay may already have made the refund (the first call timed
// out after Alipay applied it) — an error such as ACQ.TRADE_STATUS_ERROR says nothing about THIS
// refund: it is UNKNOWN and the refund query settles it. FAILED frees the amount for a new refund, so a
// wrong FAILED would be a double refund. A persistent error (balance) cannot loop: after the query
// finds no refund data, the next call is a first one again and its error is final.
//
// Money rules (issue 11): a refund never leaves twice — every call for it carries its own fixed
// out_request_no, so a retry is Alipay's idempotent replay; an unknown outcome changes nothing but
// the state name, and only a refund query that finds no refund data sends the refund back to QUEUED.
import type { RefundSource, RefundState, StaffRole } from "@prisma/client";
import { because, type RefundWhy } from "./reasons.ts";

export type { RefundSource, RefundState };

/** The parts of a refund the rules look at. */
export interface RefundFacts {
  state: RefundState;
  amountFen: number;
  source: RefundSource;
  /** staff email or buyer:<id> */
  requestedBy: string;
  /** when alipay.trade.refund was last called for it (null: never) */
  lastCallAt: Date | null;
  /**
   * alipay.trade.refund calls made since the refund was last known NOT to exist at Alipay (created,
   * or a refund query found no refund data), the call being answered included.
   */
  unsettledCalls: number;
  /**
   * The order's OTHER refunds made through coursepay (staff and buyers; awaiting approval, in flight or
   * succeeded), in fen: the four-eyes threshold is judged on this refund plus them (approvalBasisFen).
   */
  otherRefundsFen: number;
}

/** A staff member acting on a refund. */
export interface Actor {
  email: string;
  role: StaffRole;
}

/** What Alipay said about one refund (always from a verified source). */
export type RefundEvidence =
  /** call answered fund_change=Y; query returned refund data with refund_status REFUND_SUCCESS or none; refund notify. */
  | { kind: "succeeded" }
  /** Accepted, money not (yet) moved: call answered fund_change=N, or query said REFUND_PROCESSING. Ask again. */
  | { kind: "processing" }
  /** The refund query returned no refund data: Alipay has no such refund. */
  | { kind: "not_refunded" }
  /** A business error (ACQ.SELLER_BALANCE_NOT_ENOUGH, ACQ.TRADE_STATUS_ERROR…) or REFUND_FAIL. */
  | { kind: "failed"; code: string; message: string }
  /** Timeout, 20000, ACQ.SYSTEM_ERROR, unverifiable answer: nothing is known. */
  | { kind: "unknown"; reason: string };

export type RefundCommand =
  | { kind: "approve"; actor: Actor }
  | { kind: "reject"; actor: Actor; reason: string }
  /** The worker is about to call alipay.trade.refund (first call, or a retry with the same out_request_no). */
  | { kind: "dispatch" }
  | { kind: "evidence"; evidence: RefundEvidence; from: EvidenceSource };

export type EvidenceSource = "call" | "query" | "notify";

export interface RefundRules {
  /** Refunds above this many fen wait for a second staff member with the admin role (REFUND_APPROVAL_ABOVE_YUAN). */
  approvalAboveFen: number;
  /** "No refund data" is believed only this long after the last call (Alipay may not show a new refund at once). */
  settleDelayMs: number;
}

export interface RefundContext extends RefundRules {
  now: Date;
}

/** Refund audit events, written to OrderEvent.type (staff see them in the order's timeline). */
export const REFUND_EVENT = {
  requested: "refund.requested",
  approved: "refund.approved",
  rejected: "refund.rejected",
  submitted: "refund.submitted",
  unknown: "refund.unknown",
  requeued: "refund.requeued",
  failed: "refund.failed",
  succeeded: "refund.succeeded",
  /** Alipay reports a refund succeeded that we had recorded as failed: recorded, staff must look. */
  succeededAfterFailure: "anomaly.refund_succeeded_after_failure",
  /** Alipay reports success for a refund we never sent: nothing changes, staff must look. */
  unexpectedSuccess: "anomaly.refund_unexpected_success",
  /** A refund made outside coursepay (Alipay's console…), seen in Alipay's refund_fee: recorded as a row of its own. */
  external: "refund.external",
} as const;
export type RefundEventType = (typeof REFUND_EVENT)[keyof typeof REFUND_EVENT];

/** Why, as a code with parameters and as its English sentence, built together (core/refunds/reasons.ts). */
export interface RefundBecause {
  reason: string;
  why: RefundWhy;
}

export type RefundDecision =
  | ({ kind: "transition"; from: RefundState; to: RefundState; event: RefundEventType; anomaly: boolean } & RefundBecause)
  /** Nothing to change (a repeated answer, an answer that is moot in this state). */
  | ({ kind: "noop" } & RefundBecause)
  /** Evidence no rule can apply: recorded for staff, the refund is left as it is. */
  | ({ kind: "anomaly"; event: RefundEventType } & RefundBecause)
  /** The command is not allowed (wrong state, wrong person): the caller reports the reason. */
  | ({ kind: "refused" } & RefundBecause);

/** States whose amount is reserved against the order's total (the guard in store.ts counts these). */
export const COUNTED_STATES: readonly RefundState[] = ["AWAITING_APPROVAL", "QUEUED", "SUBMITTED", "UNKNOWN", "SUCCEEDED"];
/** States the worker still has to settle (the sweep looks at them by next_check_at). */
export const OPEN_STATES: readonly RefundState[] = ["QUEUED", "SUBMITTED", "UNKNOWN"];
export const FINAL_STATES: readonly RefundState[] = ["SUCCEEDED", "FAILED", "REJECTED"];
const SENT: readonly RefundState[] = ["QUEUED", "SUBMITTED", "UNKNOWN"];

/**
 * The one owner of the four-eyes threshold (REFUND_APPROVAL_ABOVE_YUAN). It is judged on the refund
 * plus the order's other refunds made through coursepay, so a large refund cannot be split into
 * several refunds each under the threshold.
 */
export function aboveApprovalThreshold(amountFen: number, otherRefundsFen: number, rules: Pick<RefundRules, "approvalAboveFen">): boolean {
  return amountFen + otherRefundsFen > rules.approvalAboveFen;
}

/** Where a new refund starts: buyers' requests and staff refunds above the threshold wait for approval. */
export function initialState(source: RefundSource, amountFen: number, otherRefundsFen: number, rules: Pick<RefundRules, "approvalAboveFen">): RefundState {
  if (source !== "staff") return "AWAITING_APPROVAL";
  return aboveApprovalThreshold(amountFen, otherRefundsFen, rules) ? "AWAITING_APPROVAL" : "QUEUED";
}

/** The least role that may approve or reject a refund of this amount (with the order's other refunds). */
export function approverRole(amountFen: number, otherRefundsFen: number, rules: Pick<RefundRules, "approvalAboveFen">): StaffRole {
  return aboveApprovalThreshold(amountFen, otherRefundsFen, rules) ? "admin" : "operator";
}

const RANK: Record<StaffRole, number> = { viewer: 0, operator: 1, admin: 2 };

/** Why this actor may not approve or reject this refund, or null when they may (four eyes). */
export function approvalRefusal(refund: RefundFacts, actor: Actor, rules: Pick<RefundRules, "approvalAboveFen">): RefundBecause | null {
  const least = approverRole(refund.amountFen, refund.otherRefundsFen, rules);
  if (!(actor.role in RANK) || RANK[actor.role] < RANK[least]) {
    return because("refund.needs_role", { amountFen: refund.amountFen, role: least, actorRole: actor.role });
  }
  if (actor.email.trim().toLowerCase() === refund.requestedBy.trim().toLowerCase()) return because("refund.four_eyes");
  return null;
}

/** The buyer's refund window (REFUND_WINDOW_DAYS) is open until paidAt + days. */
export function refundWindowOpen(paidAt: Date | null, now: Date, windowDays: number): boolean {
  return paidAt !== null && now.getTime() <= paidAt.getTime() + windowDays * 86_400_000;
}

export function decideRefund(refund: RefundFacts, command: RefundCommand, ctx: RefundContext): RefundDecision {
  const s = refund.state;
  switch (command.kind) {
    case "approve":
    case "reject": {
      if (s !== "AWAITING_APPROVAL") return refused(because("refund.not_awaiting", { state: s }));
      const why = approvalRefusal(refund, command.actor, ctx);
      if (why) return refused(why);
      if (command.kind === "reject") {
        if (!command.reason.trim()) return refused(because("refund.reason_required"));
        return transition(s, "REJECTED", REFUND_EVENT.rejected, because("refund.rejected", { by: command.actor.email, text: command.reason.trim() }));
      }
      return transition(s, "QUEUED", REFUND_EVENT.approved, because("refund.approved", { by: command.actor.email }));
    }
    case "dispatch":
      // SUBMITTED / UNKNOWN: a retry of the same request (same out_request_no) — Alipay replays it.
      if (SENT.includes(s)) return transition(s, "SUBMITTED", REFUND_EVENT.submitted, s === "QUEUED" ? because("refund.sent") : because("refund.sent_again", { state: s }));
      return refused(because("refund.nothing_to_send", { state: s }));
    case "evidence":
      return decideEvidence(refund, command.evidence, command.from, ctx);
  }
}

function decideEvidence(refund: RefundFacts, ev: RefundEvidence, from: EvidenceSource, ctx: RefundContext): RefundDecision {
  const s = refund.state;
  switch (ev.kind) {
    case "succeeded":
      if (SENT.includes(s)) return transition(s, "SUCCEEDED", REFUND_EVENT.succeeded, because("refund.succeeded", { from }));
      if (s === "SUCCEEDED") return noop(because("refund.already_succeeded", { from }));
      if (s === "FAILED") {
        return transition(s, "SUCCEEDED", REFUND_EVENT.succeededAfterFailure, because("refund.succeeded_after_failure", { from }), true);
      }
      return { kind: "anomaly", event: REFUND_EVENT.unexpectedSuccess, ...because("refund.unexpected_success", { from, state: s }) };
    case "processing":
      if (s === "QUEUED" || s === "UNKNOWN") return transition(s, "SUBMITTED", REFUND_EVENT.submitted, because("refund.accepted", { from }));
      return noop(s === "SUBMITTED" ? because("refund.processing") : because("refund.moot_already", { state: s }));
    case "not_refunded":
      if (s !== "SUBMITTED" && s !== "UNKNOWN") return noop(because("refund.moot", { state: s }));
      if (from !== "query") return noop(because("refund.absent_only_by_query"));
      if (refund.lastCallAt && ctx.now.getTime() - refund.lastCallAt.getTime() < ctx.settleDelayMs) {
        return noop(because("refund.absent_too_soon"));
      }
      return transition(s, "QUEUED", REFUND_EVENT.requeued, because("refund.requeued"));
    case "failed":
      if (!SENT.includes(s)) return noop(because("refund.moot_already", { state: s }));
      if (from === "call" && refund.unsettledCalls > 1) {
        // A resend: Alipay may have made the refund on an earlier call (see the head of this file).
        if (s === "UNKNOWN") return noop(because("refund.resend_error_open", { code: ev.code }));
        return transition(s, "UNKNOWN", REFUND_EVENT.unknown, because("refund.resend_error", { code: ev.code, message: ev.message, calls: refund.unsettledCalls }));
      }
      return transition(s, "FAILED", REFUND_EVENT.failed, because("refund.failed", { from, code: ev.code, message: ev.message }));
    case "unknown":
      if (s === "QUEUED" || s === "SUBMITTED") return transition(s, "UNKNOWN", REFUND_EVENT.unknown, because("refund.outcome_unknown", { from, detail: ev.reason }));
      return noop(because("refund.outcome_unknown", { from, detail: ev.reason }));
  }
}

/** States in which one of our refunds may have been made at Alipay without our knowing yet (sent, outcome open). */
export const MAYBE_AT_ALIPAY: readonly RefundState[] = ["SUBMITTED", "UNKNOWN"];

/**
 * How much of Alipay's cumulative refund_fee no refund row of ours accounts for: money refunded
 * outside coursepay (Alipay's merchant console), to be recorded as an external refund row.
 *
 * reportedFen − succeededFen is refunded at Alipay but not on our books. Part of it may be our refunds
 * whose outcome we do not know yet (MAYBE_AT_ALIPAY, each made at Alipay whole or not at all); the rest
 * cannot be ours. So the external amount is at least the excess minus the largest sum of in-flight
 * amounts that fits in it — and exactly that is recorded: never more than certainly external, so a
 * refund of ours settling later never counts twice. Should one of ours turn out not made (FAILED,
 * requeued), this is asked again and the rest is recorded then. A stale (lower) refund_fee only lowers
 * the result.
 */
export function externalRefundFen(reportedFen: number, succeededFen: number, inFlightFen: readonly number[]): number {
  const excess = reportedFen - succeededFen;
  if (excess <= 0) return 0;
  return excess - largestSumAtMost(inFlightFen, excess);
}

/** The largest sum of a subset of `amounts` that is ≤ cap (a handful of refunds per order at most). */
function largestSumAtMost(amounts: readonly number[], cap: number): number {
  const fitting = amounts.filter((a) => a > 0 && a <= cap);
  // Too many to enumerate (never in practice): assume they explain everything they can (records less).
  if (fitting.length > 20) return Math.min(cap, fitting.reduce((x, y) => x + y, 0));
  let sums = new Set([0]);
  for (const a of fitting) {
    const next = new Set(sums);
    for (const x of sums) if (x + a <= cap) next.add(x + a);
    sums = next;
  }
  return Math.max(...sums);
}

/** When to ask Alipay about an open refund next: doubling gaps from settleDelay, capped at 10 minutes. */
export function nextRefundCheckAt(now: Date, checks: number, settleDelayMs: number, maxGapMs = 10 * 60_000): Date {
  const gap = Math.min(Math.max(settleDelayMs, 1000) * 2 ** Math.min(Math.max(checks, 0), 20), maxGapMs);
  return new Date(now.getTime() + gap);
}

function transition(from: RefundState, to: RefundState, event: RefundEventType, why: RefundBecause, anomaly = false): RefundDecision {
  return { kind: "transition", from, to, event, ...why, anomaly };
}
const noop = (why: RefundBecause): RefundDecision => ({ kind: "noop", ...why });
const refused = (why: RefundBecause): RefundDecision => ({ kind: "refused", ...why });
