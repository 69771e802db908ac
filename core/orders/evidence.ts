// Turning Alipay's answers into state-machine Evidence (transitions.ts). Pure. Callers have already
// verified the source: a notify's signature (rule V1) or a gateway response's signature (client.ts).
import type { GatewayResult, TradeCloseOk, TradeQueryOk } from "../alipay/client.ts";
import type { PaymentNotificationFields } from "../alipay/notification.ts";
import type { Evidence } from "./transitions.ts";

/** A verified, parsed notify. It carries app_id and seller_id, so the merchant checks run on them. */
export function evidenceFromNotify(n: PaymentNotificationFields): Evidence {
  return {
    kind: "trade",
    tradeStatus: n.tradeStatus,
    totalFen: n.totalFen,
    tradeNo: n.tradeNo,
    appId: n.appId,
    sellerId: n.sellerId,
    buyerAlipayId: n.buyerId ?? n.buyerOpenId,
    paidAt: n.gmtPayment,
    refundFen: n.refundFen,
  };
}

/**
 * alipay.trade.query. The response is for our own signed request, so app and seller are implied
 * (and not carried); the amount is still checked. Any business error other than TRADE_NOT_EXIST
 * (ACQ.INVALID_PARAMETER, permission errors…) tells us nothing about the trade: unknown.
 */
export function evidenceFromQuery(r: GatewayResult<TradeQueryOk>): Evidence {
  if (r.kind === "unknown") return { kind: "unknown", reason: r.reason };
  if (r.kind === "business_error") {
    if (r.subCode === "ACQ.TRADE_NOT_EXIST") return { kind: "trade_not_exist" };
    return { kind: "unknown", reason: `query ${r.code} ${r.subCode}: ${r.subMsg}`.trim() };
  }
  return {
    kind: "trade",
    tradeStatus: r.tradeStatus,
    totalFen: r.totalFen,
    tradeNo: r.tradeNo,
    buyerAlipayId: r.buyerId,
    paidAt: r.sendPayDate,
  };
}

/** What an alipay.trade.close answer means for closing locally (docs/alipay-protocol.md §5.2). */
export type CloseVerdict =
  /** Nothing can be paid at Alipay any more: close here. */
  | { kind: "closed" }
  /** Alipay refused (the trade is not open: paid, finished…): ask with a query and apply that. */
  | { kind: "query_first"; reason: string }
  | { kind: "unknown"; reason: string };

export function closeVerdict(r: GatewayResult<TradeCloseOk>): CloseVerdict {
  if (r.kind === "ok") return { kind: "closed" };
  if (r.kind === "unknown") return { kind: "unknown", reason: r.reason };
  // TRADE_NOT_EXIST: the buyer never reached the cashier, and time_expire in the pay URL stops a
  // late payment; should money arrive anyway, the state machine's paid-after-close rule catches it.
  if (r.subCode === "ACQ.TRADE_NOT_EXIST" || r.subCode === "ACQ.TRADE_HAS_CLOSE") return { kind: "closed" };
  // ACQ.TRADE_STATUS_ERROR / REASON_TRADE_STATUS_INVALID / TRADE_HAS_SUCCESS (paid), or anything
  // else: the trade is not open, so the query's answer decides (an error there leaves it unknown).
  return { kind: "query_first", reason: `close refused: ${r.code} ${r.subCode} ${r.subMsg}`.trim() };
}
