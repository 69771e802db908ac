// Turning Alipay's answers about a refund into RefundEvidence (transitions.ts). Pure. The answers
// come from core/alipay/client.ts, which has already verified their signatures.
import type { GatewayResult, RefundOk, RefundQueryOk } from "../alipay/client.ts";
import type { RefundEvidence } from "./transitions.ts";

/**
 * alipay.trade.refund's answer. fund_change=Y: the money moved in this call. fund_change=N: Alipay
 * accepted the request without moving money now — a replay of a refund already made (same
 * out_request_no), or an asynchronous refund still processing — so the refund query settles it.
 */
export function evidenceFromRefundAnswer(r: GatewayResult<RefundOk>): RefundEvidence {
  if (r.kind === "unknown") return { kind: "unknown", reason: r.reason };
  if (r.kind === "ok") return r.fundChange ? { kind: "succeeded" } : { kind: "processing" };
  // Same out_request_no with another amount: a refund with this number exists at Alipay. Nothing
  // we can conclude from the call; the query tells what it is.
  if (r.subCode === "ACQ.DISCORDANT_REPEAT_REQUEST") return { kind: "unknown", reason: `${r.subCode}: ${r.subMsg}` };
  return { kind: "failed", code: r.subCode || r.code, message: r.subMsg || r.msg };
}

/**
 * alipay.trade.fastpay.refund.query's answer, by Alipay's rule (client.ts RefundQueryOk): refund data
 * with refund_status empty or REFUND_SUCCESS ⇒ succeeded; REFUND_PROCESSING ⇒ processing;
 * REFUND_FAIL ⇒ failed; no refund data ⇒ not refunded. A business error says nothing about the
 * refund (never "not refunded": that would send it again).
 */
export function evidenceFromRefundQuery(r: GatewayResult<RefundQueryOk>, expectedFen: number): RefundEvidence {
  if (r.kind === "unknown") return { kind: "unknown", reason: r.reason };
  if (r.kind === "business_error") return { kind: "unknown", reason: `refund query ${r.code} ${r.subCode}: ${r.subMsg}`.trim() };
  if (r.refundStatus === null) return { kind: "not_refunded" };
  if (r.refundFen !== null && r.refundFen !== expectedFen) {
    return { kind: "unknown", reason: `refund query shows ${r.refundFen} fen for this out_request_no, not ${expectedFen}` };
  }
  if (r.refundStatus === "REFUND_PROCESSING") return { kind: "processing" };
  if (r.refundStatus === "REFUND_FAIL") return { kind: "failed", code: "REFUND_FAIL", message: "refund_status REFUND_FAIL" };
  return { kind: "succeeded" };
}
