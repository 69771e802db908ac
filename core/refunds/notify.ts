// Refund notifies for OUR refunds. Alipay notifies a refund as TRADE_SUCCESS (partial) or
// TRADE_CLOSED (full) with refund_fee (the trade's cumulative refunded amount) and out_biz_no = the
// refund's out_request_no. When out_biz_no names one of our Refund rows, the notify is evidence
// about THAT refund: it settles it (whichever of call answer, query or notify comes first moves the
// order; the others find it SUCCEEDED and change nothing). Anything else — a payment notify, a
// refund we did not make (e.g. from Alipay's merchant console), a notify failing the merchant checks,
// an order never recorded as paid — goes to the order state machine as before (core/orders).
import { parseFormBody } from "../alipay/form.ts";
import { parsePaymentNotification } from "../alipay/notification.ts";
import { checkMerchant } from "../alipay/protocol.ts";
import { loadNotificationWithOrder } from "../orders/store.ts";
import { settleRefund, type RefundDeps, type SettleResult } from "./commands.ts";
import { loadRefundByRequestNo } from "./store.ts";

/**
 * Apply an inbox row if it is a refund notify for one of our refunds. Returns null when it is not
 * (the caller applies it as order evidence: core/orders applyNotification).
 */
export async function applyRefundNotification(deps: RefundDeps, input: { notificationId: number }): Promise<SettleResult | null> {
  const loaded = await loadNotificationWithOrder(deps.prisma, input.notificationId);
  if (!loaded || !loaded.order) return null;
  const { notification: row, order } = loaded;
  if (!row.verified || (row.outcome !== "pending" && row.outcome !== "failed")) return null;
  const parsed = parsePaymentNotification(parseFormBody(row.rawBody));
  if (!parsed.ok) return null;
  const f = parsed.fields;
  if (!f.outBizNo || f.refundFen === null || f.outTradeNo !== order.outTradeNo) return null;
  // The same merchant checks as for payments: a mismatch is the order state machine's anomaly.
  if (checkMerchant(f, { appId: deps.alipay.appId, sellerId: deps.alipay.sellerId }).length || f.totalFen !== order.totalFen) return null;
  if (order.tradeNo && f.tradeNo !== order.tradeNo) return null;
  const refund = await loadRefundByRequestNo(deps.prisma, f.outBizNo);
  if (!refund || refund.orderId !== order.id) return null;
  return settleRefund(deps, refund, { kind: "succeeded" }, "notify", {}, row.id);
}
