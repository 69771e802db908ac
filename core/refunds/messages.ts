// What staff and buyers read about a refund, in Chinese and English: why Alipay refused it (business
// errors, the sub-codes alipay.trade.refund commonly returns — see docs/operations.md
// "Refunds") and why coursepay refused to create or approve it. One owner for these texts; the admin
// and the buyer pages pick the language.
import type { RefundWhy } from "./reasons.ts";

export interface Bilingual {
  zh: string;
  en: string;
}

/** Alipay refund business errors (sub_code) → what happened, for staff. */
export const REFUND_FAILURES: Record<string, Bilingual> = {
  "ACQ.TRADE_STATUS_ERROR": { zh: "交易状态不允许退款（交易未支付或已结束）", en: "The trade's status does not allow a refund (not paid, or already finished)" },
  "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": { zh: "退款金额超过可退金额", en: "The refund amount exceeds what can still be refunded" },
  "ACQ.SELLER_BALANCE_NOT_ENOUGH": { zh: "商户支付宝账户余额不足，请充值后重新发起退款", en: "The merchant's Alipay balance is not enough: top it up, then create a new refund" },
  "ACQ.REASON_TRADE_REFUND_FEE_ERR": { zh: "退款金额无效", en: "Invalid refund amount" },
  "ACQ.REFUND_FEE_ERROR": { zh: "退款金额有误", en: "Wrong refund amount" },
  "ACQ.TRADE_NOT_EXIST": { zh: "支付宝上不存在该交易", en: "Alipay does not know this trade" },
  "ACQ.TRADE_HAS_CLOSE": { zh: "交易已关闭（可能已全额退款）", en: "The trade is closed (perhaps already fully refunded)" },
  "ACQ.TRADE_HAS_FINISHED": { zh: "交易已完结，超过可退款期限", en: "The trade is finished: past Alipay's refund period" },
  "ACQ.TRADE_NOT_ALLOW_REFUND": { zh: "该交易不允许退款", en: "This trade does not allow refunds" },
  "ACQ.INVALID_PARAMETER": { zh: "参数无效", en: "Invalid parameter" },
  REFUND_FAIL: { zh: "支付宝退款失败（异步退款结果）", en: "Alipay reports the refund failed (asynchronous result)" },
};

export function failureText(code: string | null, alipayMessage: string | null): Bilingual {
  const known = code ? REFUND_FAILURES[code] : undefined;
  const tail = [code, alipayMessage].filter(Boolean).join(" ");
  return {
    zh: known ? `${known.zh}（${tail}）` : `支付宝拒绝退款：${tail || "未知原因"}`,
    en: known ? `${known.en} (${tail})` : `Alipay refused the refund: ${tail || "no reason given"}`,
  };
}

/** Why coursepay refused a refund command. */
export const REFUSALS = {
  orderNotFound: { zh: "订单不存在", en: "Order not found" },
  notRefundable: { zh: "只有已支付或部分退款的订单可以退款", en: "Only paid or partially refunded orders can be refunded" },
  nothingLeft: { zh: "该订单已无可退金额（已退款或有退款处理中）", en: "Nothing left to refund on this order (refunded, or refunds in progress)" },
  exceeds: { zh: "退款金额超过可退金额", en: "The amount exceeds what can still be refunded" },
  badAmount: { zh: "退款金额无效（元，最多两位小数，大于 0）", en: "Invalid amount (yuan, at most two decimals, more than 0)" },
  reasonRequired: { zh: "请填写退款原因", en: "A reason is required" },
  windowClosed: { zh: "已超过可申请退款的期限", en: "The refund window for this order has closed" },
  pendingRequest: { zh: "该订单已有待处理的退款申请", en: "This order already has a refund request waiting for staff" },
  refundNotFound: { zh: "退款不存在", en: "Refund not found" },
  forbidden: { zh: "无权执行此操作", en: "You are not allowed to do this" },
} as const satisfies Record<string, Bilingual>;
export type RefusalCode = keyof typeof REFUSALS;

export const REFUND_STATE_LABELS: Record<string, Bilingual> = {
  AWAITING_APPROVAL: { zh: "待审批", en: "Awaiting approval" },
  QUEUED: { zh: "排队中", en: "Queued" },
  SUBMITTED: { zh: "已提交", en: "Submitted" },
  UNKNOWN: { zh: "结果未知", en: "Outcome unknown" },
  SUCCEEDED: { zh: "退款成功", en: "Refunded" },
  FAILED: { zh: "退款失败", en: "Failed" },
  REJECTED: { zh: "已拒绝", en: "Rejected" },
};

/** A refused refund command: the message in both languages, and a code for APIs. */
export class RefundRefusedError extends Error {
  readonly zh: string;
  /** notAllowed: the state machine's reason as a code (core/refunds/reasons.ts), for the admin to say in its language. */
  constructor(readonly code: RefusalCode | "notAllowed", text: Bilingual, readonly status = 409, readonly why?: RefundWhy) {
    super(text.en);
    this.zh = text.zh;
    this.name = "RefundRefusedError";
  }
}

export const refusal = (code: RefusalCode, status = 409, detail?: string): RefundRefusedError => {
  const t = REFUSALS[code];
  return new RefundRefusedError(code, detail ? { zh: `${t.zh}（${detail}）`, en: `${t.en} (${detail})` } : t, status);
};
