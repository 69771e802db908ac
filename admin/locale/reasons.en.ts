// Decision reasons in English, for staff: one sentence per code of core/orders/reasons.ts and
// core/refunds/reasons.ts, with statuses by their labels and amounts in yuan (admin/locale/reasons.ts).
// Core's own English sentences (logs, payloads) stay as they are; these are the page's wording.
import type { ReasonTexts } from "./reasons.ts";

const FROM = { call: "the refund call's answer", query: "the refund query", notify: "a refund notification" } as const;
const absent = (v: string | null | undefined) => v ?? "(absent)";

const en: ReasonTexts = {
  "order.outcome_unknown": (p) => `outcome unknown: ${p.detail}`,
  "order.already": (p, s) => `order already ${s.status(p.status)}`,
  "order.already_trade": (p, s) => `order already ${s.status(p.status)} (Alipay: ${s.trade(p.tradeStatus)})`,
  "order.trade_status_already": (p, s) => `Alipay: ${s.trade(p.tradeStatus)}; order already ${s.status(p.status)}`,
  "order.cancelled_closed_at_alipay": () => "cancelled by the buyer; closed at Alipay first",
  "order.closed_at_alipay": () => "closed at Alipay first",
  "order.no_trade_already": (p, s) => `no such trade at Alipay; order already ${s.status(p.status)}`,
  "order.no_trade_yet": () => "no trade at Alipay yet (the buyer has not reached the cashier)",
  "order.no_trade_expired": () => "expired, and Alipay never created the trade (grace period over)",
  "order.refund_succeeded": (p, s) => `refund ${p.outRequestNo} of ${s.yuan(p.refundFen)} succeeded`,
  "order.refund_beyond_books": (p, s) =>
    `refund ${p.outRequestNo} of ${s.yuan(p.refundFen)} succeeded for an order ${s.status(p.status)} here with ${s.yuan(p.refundedFen)} of ${s.yuan(p.totalFen)} refunded: staff must check`,
  "order.merchant_mismatch": (p) =>
    [p.appIdOurs !== undefined ? `app_id ${absent(p.appIdGot)} is not ours (ours: ${p.appIdOurs})` : null,
      p.sellerIdOurs !== undefined ? `seller_id ${absent(p.sellerIdGot)} is not ours (ours: ${p.sellerIdOurs})` : null].filter(Boolean).join("; "),
  "order.amount_mismatch": (p, s) => `paid ${s.yuan(p.paidFen)}, but the order is ${s.yuan(p.totalFen)}`,
  "order.trade_no_mismatch": (p) => `Alipay trade no. ${p.tradeNo} differs from the recorded ${p.recorded}`,
  "order.paid": (p, s) => `Alipay: ${s.trade(p.tradeStatus)}`,
  "order.paid_after_close": (p, s) => `Alipay: ${s.trade(p.tradeStatus)} for an order already ${s.status(p.status)}: money arrived after a local close`,
  "order.refund_without_payment": (p, s) =>
    `Alipay: ${s.trade(p.tradeStatus)}, refunded ${s.yuan(p.refundFen)}, for an order never recorded as paid${p.was ? ` (${s.status(p.was)})` : ""}: payment and refund recorded`,
  "order.refund_reported": (p, s) =>
    `Alipay: ${s.trade(p.tradeStatus)}, refund_fee ${s.yuan(p.refundFen)}: Alipay reports ${s.yuan(p.reportedFen)} of ${s.yuan(p.totalFen)} refunded in all`,
  "order.refund_known": (p, s) => `order already ${s.status(p.status)}; refund_fee ${s.yuan(p.refundFen)} already known (Alipay: ${s.trade(p.tradeStatus)})`,
  "order.trade_closed": (_p, s) => `Alipay: ${s.trade("TRADE_CLOSED")}`,
  "order.closed_while_paid": (p, s) => `closed at Alipay while ${s.status(p.status)} here (a full refund?)`,
  "order.waiting_for_buyer": () => "waiting for the buyer to pay",
  "order.expired_close_first": () => "expired while unpaid: close at Alipay before closing here",
  "order.still_open": () => "Alipay still shows the trade open",
  "order.notification_done": (p, s) => `notification already processed (${s.outcome(p.outcome)})`,
  "order.redrive_unverified": () => "an unverified notification is never applied; nothing to re-drive",
  "order.redrive_processed": (p, s) => `notification already processed (${s.outcome(p.outcome)})`,
  "order.redrive_meanwhile": () => "notification processed meanwhile; nothing to re-drive",
  "order.redrive_queued": (p) => `job ${p.jobId}`,

  "refund.not_awaiting": (p, s) => `the refund is ${s.state(p.state)}, not awaiting approval`,
  "refund.needs_role": (p, s) => `a refund of ${s.yuan(p.amountFen)} needs a staff member with the ${s.role(p.role)} role (you are ${s.role(p.actorRole)})`,
  "refund.four_eyes": () => "four eyes: the requester cannot approve or reject their own refund",
  "refund.reason_required": () => "a rejection needs a reason",
  "refund.rejected": (p) => `rejected by ${p.by}: ${p.text}`,
  "refund.approved": (p) => `approved by ${p.by}`,
  "refund.sent": () => "sent to Alipay",
  "refund.sent_again": (p, s) => `sent again with the same refund number (was ${s.state(p.state)})`,
  "refund.nothing_to_send": (p, s) => `the refund is ${s.state(p.state)}: nothing to send`,
  "refund.succeeded": (p) => `${FROM[p.from]}: refund succeeded`,
  "refund.already_succeeded": (p) => `already refunded (${FROM[p.from]})`,
  "refund.succeeded_after_failure": (p) => `${FROM[p.from]} reports success for a refund recorded as failed: money left, recorded`,
  "refund.unexpected_success": (p, s) => `${FROM[p.from]} reports success for a refund that is ${s.state(p.state)} (never sent)`,
  "refund.accepted": (p) => `${FROM[p.from]}: accepted by Alipay, not settled yet`,
  "refund.processing": () => "still processing at Alipay",
  "refund.moot": (p, s) => `nothing to do: the refund is ${s.state(p.state)}`,
  "refund.moot_already": (p, s) => `nothing to do: the refund is already ${s.state(p.state)}`,
  "refund.absent_only_by_query": () => "only a refund query can say a refund does not exist",
  "refund.absent_too_soon": () => "no refund data yet, but the call was too recent to conclude: ask again",
  "refund.requeued": () => "Alipay has no refund with this number: it will be sent again with the same number",
  "refund.resend_error_open": (p) => `${p.code} on a resend: the refund query decides`,
  "refund.resend_error": (p) => `${p.code} ${p.message} on a resend (call ${p.calls} since the refund was known absent): not final, the refund query decides`,
  "refund.failed": (p) => `${FROM[p.from]}: refund failed (${[p.code, p.message].filter(Boolean).join(" ")})`,
  "refund.outcome_unknown": (p) => `outcome unknown (${FROM[p.from]}): ${p.detail}`,
  "refund.external": (p, s) =>
    `refund made outside coursepay: Alipay reports ${s.yuan(p.reportedFen)} refunded, refunds here account for ${s.yuan(p.succeededFen)}${p.inFlightFen ? ` (+ up to ${s.yuan(p.inFlightFen)} in flight)` : ""}`,
  "refund.external_confirmed": (p, s) => `refund ${p.outRequestNo} made outside coursepay: Alipay's refund query confirms ${s.yuan(p.amountFen)} refunded`,
  "refund.external_numbered": (p, s) =>
    `refund ${p.outRequestNo} made outside coursepay: Alipay's refund query confirms ${s.yuan(p.amountFen)} refunded; it is the external refund ${p.was} recorded earlier from Alipay's refund total (same amount), now numbered ${p.outRequestNo} and not counted again`,
};

export default en;
