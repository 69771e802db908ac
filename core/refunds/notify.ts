// Refund notifies. Alipay notifies a refund as TRADE_SUCCESS (partial) or TRADE_CLOSED (full) with
// refund_fee (the trade's cumulative refunded amount) and, usually, out_biz_no = the refund's
// out_request_no. Every such notify is applied here, in one transaction with its inbox row:
//
// - out_biz_no names one of our refunds: it is evidence that THAT refund succeeded (whichever of call
//   answer, query or notify comes first moves the order; the others find it SUCCEEDED).
// - in any case its refund_fee is evidence for the order state machine (Alipay's running total,
//   core/orders decideTrade), and what our refunds cannot account for — a refund made in Alipay's
//   merchant console, or one whose notify lacks out_biz_no while ours are in flight — becomes an
//   external refund row (store.ts), so refunded_fen stays the sum of SUCCEEDED rows.
//
// A notify failing the merchant checks, or for an order not paid here yet, is applied by the order
// state machine first (its anomaly, or the payment it records); the external rows follow.
import { parseFormBody } from "../alipay/form.ts";
import { parsePaymentNotification } from "../alipay/notification.ts";
import { checkMerchant } from "../alipay/protocol.ts";
import { evidenceFromNotify } from "../orders/evidence.ts";
import { loadNotificationWithOrder, type InboxRow } from "../orders/store.ts";
import { applyRefundEvidence, settleRefund, type RefundDeps, type SettleResult } from "./commands.ts";
import { loadRefundByRequestNo, type RefundWriteResult } from "./store.ts";

const REFUNDABLE_HERE = ["PAID", "PARTIALLY_REFUNDED", "REFUNDED"];

/**
 * Apply an inbox row. A refund notify for an order paid here is applied by core/refunds; anything
 * else by `applyOrder` (core/orders applyNotification) — followed, for a refund notify, by recording
 * the external refunds it revealed.
 */
export async function applyRefundNotification<T>(
  deps: RefundDeps,
  input: { notificationId: number },
  applyOrder: () => Promise<T>,
  /** The row as the caller just read it (the worker reads it once for both appliers). */
  preloaded?: InboxRow | null,
): Promise<SettleResult | RefundWriteResult | T> {
  const loaded = preloaded !== undefined ? preloaded : await loadNotificationWithOrder(deps.prisma, input.notificationId);
  if (!loaded || !loaded.order) return applyOrder();
  const { notification: row, order } = loaded;
  if (!row.verified || (row.outcome !== "pending" && row.outcome !== "failed")) return applyOrder();
  const parsed = parsePaymentNotification(parseFormBody(row.rawBody));
  if (!parsed.ok) return applyOrder();
  const f = parsed.fields;
  if (f.refundFen === null || f.refundFen <= 0 || f.outTradeNo !== order.outTradeNo) return applyOrder();
  // The same merchant checks as for payments: a mismatch is the order state machine's anomaly.
  const foreign = checkMerchant(f, { appId: deps.alipay.appId, sellerId: deps.alipay.sellerId }).length > 0 || f.totalFen !== order.totalFen
    || (order.tradeNo !== null && f.tradeNo !== order.tradeNo);
  if (foreign || !REFUNDABLE_HERE.includes(order.status)) {
    const applied = await applyOrder();
    if (!foreign) await applyRefundEvidence(deps, { orderId: order.id, source: "notify", outBizNo: f.outBizNo });
    return applied;
  }
  const notify = { notificationId: row.id, evidence: evidenceFromNotify(f), outBizNo: f.outBizNo };
  const refund = f.outBizNo ? await loadRefundByRequestNo(deps.prisma, f.outBizNo) : null;
  if (refund && refund.orderId === order.id && refund.source !== "external") {
    return settleRefund(deps, refund, { kind: "succeeded" }, "notify", {}, notify);
  }
  return (await applyRefundEvidence(deps, { orderId: order.id, notify, source: "notify" })) ?? applyOrder();
}
