// Typed view of a VERIFIED notify (docs/alipay-protocol.md §4). Verification (signature.ts verifyCallback) comes
// first; this only turns the strings into checked values. Anything Alipay would not send (unknown
// trade_status, 3-decimal amounts, malformed times) is an error result, never an exception: the
// input is attacker-reachable.
import { z } from "zod";
import { beijingTime, fenFromYuan, optional, text } from "./fields.ts";
import { TRADE_STATUSES } from "./protocol.ts";

const optionalText = (max: number) => optional(text(max));
const optionalFen = optional(fenFromYuan);
const optionalTime = optional(beijingTime);

// Lengths from the notify table (docs/alipay-protocol.md §4); generous elsewhere, bounded everywhere.
const notifySchema = z
  .object({
    notify_id: text(128),
    notify_type: text(64),
    notify_time: beijingTime,
    app_id: text(32),
    auth_app_id: optionalText(32),
    trade_no: text(64),
    out_trade_no: text(64),
    out_biz_no: optionalText(64),
    trade_status: z.enum(TRADE_STATUSES),
    total_amount: fenFromYuan,
    receipt_amount: optionalFen,
    invoice_amount: optionalFen,
    buyer_pay_amount: optionalFen,
    point_amount: optionalFen,
    refund_fee: optionalFen,
    // Every trade notification names its seller; the merchant check needs it (protocol.ts checkMerchant).
    seller_id: text(30),
    seller_email: optionalText(100),
    buyer_id: optionalText(32),
    buyer_logon_id: optionalText(100),
    buyer_open_id: optionalText(128),
    subject: optionalText(256),
    body: optionalText(1024),
    gmt_create: optionalTime,
    gmt_payment: optionalTime,
    gmt_refund: optionalTime,
    gmt_close: optionalTime,
    fund_bill_list: optionalText(8192),
    passback_params: optionalText(1024),
  })
  .transform((n) => ({
    notifyId: n.notify_id,
    notifyType: n.notify_type,
    notifyTime: n.notify_time,
    appId: n.app_id,
    authAppId: n.auth_app_id,
    tradeNo: n.trade_no,
    outTradeNo: n.out_trade_no,
    /** Refund notifications: the refund's out_request_no. */
    outBizNo: n.out_biz_no,
    tradeStatus: n.trade_status,
    totalFen: n.total_amount,
    receiptFen: n.receipt_amount,
    invoiceFen: n.invoice_amount,
    buyerPayFen: n.buyer_pay_amount,
    pointFen: n.point_amount,
    /** Cumulative refunded amount of the trade (refund_fee), not this refund's. */
    refundFen: n.refund_fee,
    sellerId: n.seller_id,
    sellerEmail: n.seller_email,
    buyerId: n.buyer_id,
    buyerLogonId: n.buyer_logon_id,
    buyerOpenId: n.buyer_open_id,
    subject: n.subject,
    body: n.body,
    gmtCreate: n.gmt_create,
    gmtPayment: n.gmt_payment,
    gmtRefund: n.gmt_refund,
    gmtClose: n.gmt_close,
    /** JSON text exactly as signed (camelCase keys inside: [{"amount","fundChannel"}]). */
    fundBillList: n.fund_bill_list,
    /** Still URL-encoded, as received and as signed; decode with decodePassbackParams. */
    passbackParams: n.passback_params,
  }));

export type PaymentNotificationFields = z.output<typeof notifySchema>;

export type NotificationParseResult =
  | { ok: true; fields: PaymentNotificationFields }
  | { ok: false; errors: string[] };

/** Parse verified notify params. Never throws. Unknown extra parameters are ignored. */
export function parsePaymentNotification(params: unknown): NotificationParseResult {
  try {
    const result = notifySchema.safeParse(params);
    if (result.success) return { ok: true, fields: result.data };
    return {
      ok: false,
      errors: result.error.issues.map((i) => `${i.path.join(".") || "(params)"}: ${i.message}`),
    };
  } catch (err) {
    return { ok: false, errors: [`unparseable notification: ${(err as Error)?.message ?? String(err)}`] };
  }
}

/**
 * passback_params as the merchant passed it to pagePayUrl: the client URL-encodes it once (Alipay
 * requires that) and Alipay returns it still encoded. Decoding after verification is safe; null when
 * absent or not valid percent-encoding.
 */
export function decodePassbackParams(raw: string | null): string | null {
  if (raw === null) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}
