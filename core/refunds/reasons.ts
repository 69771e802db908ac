// Why a refund decision was taken: every reason core/refunds gives (transitions.ts, store.ts), by
// code, with its English sentence (logs, event payloads, API answers). The admin says the same code
// in the page's language (admin/locale/reasons.*.ts). Codes are stored (core/reasons.ts): never
// rename one.
import type { RefundState, StaffRole } from "@prisma/client";
import { reasonsOf, type WhyOf } from "../reasons.ts";

/** Where the evidence came from: the refund call's answer, the refund query, or a refund notify. */
type From = "call" | "query" | "notify";

export const REFUND_REASONS = {
  "refund.not_awaiting": (p: { state: RefundState }) => `the refund is ${p.state}, not awaiting approval`,
  "refund.needs_role": (p: { amountFen: number; role: StaffRole; actorRole: StaffRole }) =>
    `a refund of ${p.amountFen} fen needs a staff member with the ${p.role} role (you are ${p.actorRole})`,
  "refund.four_eyes": () => "four eyes: the requester cannot approve or reject their own refund",
  "refund.reason_required": () => "a rejection needs a reason",
  "refund.rejected": (p: { by: string; text: string }) => `rejected by ${p.by}: ${p.text}`,
  "refund.approved": (p: { by: string }) => `approved by ${p.by}`,
  "refund.sent": () => "sent to Alipay",
  "refund.sent_again": (p: { state: RefundState }) => `sent again with the same out_request_no (was ${p.state})`,
  "refund.nothing_to_send": (p: { state: RefundState }) => `the refund is ${p.state}: nothing to send`,
  "refund.succeeded": (p: { from: From }) => `Alipay ${p.from}: refund succeeded`,
  "refund.already_succeeded": (p: { from: From }) => `already SUCCEEDED (${p.from})`,
  "refund.succeeded_after_failure": (p: { from: From }) => `Alipay ${p.from} reports success for a refund recorded as FAILED: money left, recorded`,
  "refund.unexpected_success": (p: { from: From; state: RefundState }) => `Alipay ${p.from} reports success for a refund that is ${p.state} (never sent)`,
  "refund.accepted": (p: { from: From }) => `Alipay ${p.from}: accepted, not settled yet`,
  "refund.processing": () => "still processing at Alipay",
  "refund.moot": (p: { state: RefundState }) => `moot: ${p.state}`,
  "refund.moot_already": (p: { state: RefundState }) => `moot: already ${p.state}`,
  "refund.absent_only_by_query": () => "only a refund query can say a refund does not exist",
  "refund.absent_too_soon": () => "no refund data yet, but the call was too recent to conclude: ask again",
  "refund.requeued": () => "Alipay has no refund with this out_request_no: it will be sent again with the same number",
  "refund.resend_error_open": (p: { code: string }) => `${p.code} on a resend: the refund query decides`,
  "refund.resend_error": (p: { code: string; message: string; calls: number }) =>
    `Alipay call: ${p.code} ${p.message} on a resend (call ${p.calls} since the refund was known absent): not final, the refund query decides`,
  "refund.failed": (p: { from: From; code: string; message: string }) => `Alipay ${p.from}: ${p.code} ${p.message}`.trim(),
  "refund.outcome_unknown": (p: { from: From; detail: string }) => `outcome unknown (${p.from}): ${p.detail}`,
  /** inFlightFen: our refunds whose outcome is still open (0: none). */
  "refund.external": (p: { reportedFen: number; succeededFen: number; inFlightFen: number }) =>
    `refund made outside coursepay: Alipay reports ${p.reportedFen} fen refunded, refunds here account for ${p.succeededFen} fen`
    + (p.inFlightFen ? ` (+ up to ${p.inFlightFen} fen in flight)` : ""),
  /** A refund only Alipay's daily bill showed, confirmed by a refund query for its number (staff: trust Alipay). */
  "refund.external_confirmed": (p: { outRequestNo: string; amountFen: number }) =>
    `refund made outside coursepay, confirmed by Alipay's refund query for ${p.outRequestNo}: ${p.amountFen} fen succeeded`,
  /** …and it was an unnamed external row of the same amount (from Alipay's refund total), which now carries the number. */
  "refund.external_numbered": (p: { outRequestNo: string; amountFen: number; was: string }) =>
    `refund made outside coursepay, confirmed by Alipay's refund query for ${p.outRequestNo}: ${p.amountFen} fen succeeded; it is the external refund ${p.was} recorded from Alipay's refund total (same amount): numbered ${p.outRequestNo}, not counted again`,
} as const;

export type RefundReasonCode = keyof typeof REFUND_REASONS;
export type RefundWhy = WhyOf<typeof REFUND_REASONS>;

/** `because(code, params)`: a refund reason and its English sentence. */
export const because = reasonsOf(REFUND_REASONS);
