import { randomInt } from "node:crypto";
import { fenToYuan, yuanToFen } from "../core/money/index.ts";
import { signParams } from "../core/alipay/signature.ts";
import { beijingDateCompact, formatBeijing, formatBeijingMillis } from "./time.ts";
import type { NotifyEvent, RefundRecord, Trade, TradeStatus } from "./types.ts";

// What Alipay posts to notify_url (docs/alipay-protocol.md §4) and appends to return_url (§3), built from a trade.
// Everything here is pure: delivery, retries and faults are in notify-delivery.ts.

export interface NotifyContext {
  event: NotifyEvent;
  notifyId: string;
  sellerEmail: string;
  /** epoch ms of notify_time */
  now: number;
  /** the refund that caused a refund notification */
  refund?: RefundRecord;
}

/** 28 digits like `2023122122001499160501586202`: Beijing date + "2200" + 16 random digits. */
export function newTradeNo(at = Date.now()): string {
  return `${beijingDateCompact(at)}2200${randomDigits(16)}`;
}

/** 34 digits like `2019081500222155624068450559358070`. */
export function newNotifyId(at = Date.now()): string {
  return `${beijingDateCompact(at)}00222${randomDigits(21)}`;
}

function randomDigits(n: number): string {
  let s = "";
  while (s.length < n) s += randomInt(0, 1_000_000_000).toString().padStart(9, "0");
  return s.slice(0, n);
}

/** `sandbox-buyer@example.com` → `san***@example.com`: Alipay masks buyer_logon_id (docs/alipay-protocol.md §4). */
export function maskLogonId(logonId: string): string {
  const at = logonId.indexOf("@");
  if (at > 0) return `${logonId.slice(0, Math.min(3, at))}***${logonId.slice(at)}`;
  if (/^\d{11}$/.test(logonId)) return `${logonId.slice(0, 3)}****${logonId.slice(7)}`;
  return `${logonId.slice(0, 3)}***`;
}

/**
 * The notification fields for a trade event, in the order of the notify table (docs/alipay-protocol.md §4).
 * - payment (TRADE_SUCCESS): amounts, buyer, gmt_payment, fund_bill_list (camelCase JSON inside).
 * - partial refund: still TRADE_SUCCESS, plus out_biz_no (= out_request_no), refund_fee (cumulative), gmt_refund.
 * - full refund: TRADE_CLOSED with the refund fields and gmt_close (that is how it differs from a timeout close).
 * - closed (unpaid timeout or close API): TRADE_CLOSED with gmt_close, no buyer or payment fields.
 */
export function buildNotifyParams(trade: Trade, ctx: NotifyContext): Record<string, string> {
  const paid = trade.paidAt !== undefined;
  const p: Record<string, string> = {
    notify_time: formatBeijing(ctx.now),
    notify_type: "trade_status_sync",
    notify_id: ctx.notifyId,
    app_id: trade.appId,
    auth_app_id: trade.appId,
    charset: "utf-8",
    version: "1.0",
    sign_type: "RSA2",
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
  };
  if (ctx.refund && !ctx.refund.notifyWithoutOutBizNo) p.out_biz_no = ctx.refund.outRequestNo;
  if (paid && trade.buyerId) p.buyer_id = trade.buyerId;
  if (paid && trade.buyerOpenId) p.buyer_open_id = trade.buyerOpenId;
  if (paid && trade.buyerLogonId) p.buyer_logon_id = maskLogonId(trade.buyerLogonId);
  p.seller_id = trade.sellerId;
  p.seller_email = ctx.sellerEmail;
  p.trade_status = statusForEvent(trade, ctx.event);
  p.total_amount = trade.totalAmount;
  // A real full-refund notify (TRADE_CLOSED + refund_fee) carries no receipt/invoice/buyer_pay/point
  // amounts and no fund_bill_list: only payment-side notifies do.
  const fullRefund = ctx.event === "full_refund";
  if (paid && !fullRefund) {
    p.receipt_amount = trade.totalAmount;
    p.invoice_amount = trade.totalAmount;
    p.buyer_pay_amount = trade.totalAmount;
    p.point_amount = "0.00";
  }
  if (ctx.refund) {
    p.refund_fee = fenToYuan(refundedUpTo(trade, ctx.refund));
    p.gmt_refund = formatBeijingMillis(ctx.refund.at);
  }
  p.subject = trade.subject;
  if (trade.body) p.body = trade.body;
  p.gmt_create = formatBeijing(trade.createdAt);
  if (paid) p.gmt_payment = formatBeijing(trade.paidAt!);
  if (trade.closedAt !== undefined && p.trade_status === "TRADE_CLOSED") p.gmt_close = formatBeijing(trade.closedAt);
  if (paid && !fullRefund) p.fund_bill_list = JSON.stringify([{ amount: trade.totalAmount, fundChannel: "ALIPAYACCOUNT" }]);
  if (trade.passbackParams !== undefined && trade.passbackParams !== "") p.passback_params = trade.passbackParams;
  return p;
}

function statusForEvent(trade: Trade, event: NotifyEvent): TradeStatus {
  switch (event) {
    case "payment":
    case "partial_refund":
      return "TRADE_SUCCESS";
    case "closed":
    case "full_refund":
      return "TRADE_CLOSED";
    case "finished":
      return "TRADE_FINISHED";
    case "manual":
      return trade.status;
  }
}

/** refund_fee is cumulative: the sum of refunds up to and including this one (docs/alipay-protocol.md §4, §5.3). */
function refundedUpTo(trade: Trade, refund: RefundRecord): number {
  let sum = 0;
  for (const r of trade.refunds) {
    sum += r.refundFen;
    if (r.outRequestNo === refund.outRequestNo) return sum;
  }
  return sum + (trade.refunds.includes(refund) ? 0 : refund.refundFen);
}

/**
 * The 12 return_url parameters (docs/alipay-protocol.md §3), signed with rule V1. No trade_status: the return is
 * only a browser hint; the merchant must learn the result from the notify or alipay.trade.query.
 */
export function buildReturnParams(trade: Trade, now: number, sign: (p: Record<string, string>) => Record<string, string>): Record<string, string> {
  const signed = sign({
    charset: "utf-8",
    out_trade_no: trade.outTradeNo,
    // wap pay returns name their own method (alipay.trade.wap.pay.return).
    method: trade.productCode === "QUICK_WAP_WAY" ? "alipay.trade.wap.pay.return" : "alipay.trade.page.pay.return",
    total_amount: trade.totalAmount,
    trade_no: trade.tradeNo,
    auth_app_id: trade.appId,
    version: "1.0",
    app_id: trade.appId,
    sign_type: "RSA2",
    seller_id: trade.sellerId,
    timestamp: formatBeijing(now),
  });
  // Same key order as the real redirect (vectors/ys-return-url-trade-page-pay-return): sign after total_amount.
  const { sign: signature, ...rest } = signed;
  const ordered: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest)) {
    ordered[k] = v;
    if (k === "total_amount") ordered.sign = signature!;
  }
  return ordered;
}

// --- forging helpers for tests and benchmarks ------------------------------------------------------------

/** The minimum a caller needs to describe a trade for a forged notify; the rest gets plausible defaults. */
export interface NotifyTradeInput {
  outTradeNo: string;
  appId: string;
  sellerId: string;
  /** one of totalFen / totalAmount */
  totalFen?: number;
  totalAmount?: string;
  subject?: string;
  tradeNo?: string;
  status?: TradeStatus;
  buyerId?: string;
  buyerLogonId?: string;
  passbackParams?: string;
  body?: string;
  createdAt?: number;
  paidAt?: number;
  closedAt?: number;
}

export interface BuildSignedNotifyOptions {
  /** the Alipay private key the merchant trusts (the sandbox's `alipay-private.pem`) */
  privateKey: string;
  event?: NotifyEvent;
  notifyId?: string;
  sellerEmail?: string;
  now?: number;
  refund?: { outRequestNo: string; refundFen: number; at?: number };
}

/**
 * A notify body as the sandbox would deliver it, signed with rule V1 by `privateKey` — for benchmarks and
 * tests that need valid (or deliberately odd) notifications without a browser or a sandbox process.
 * `overrides` are applied before signing; a `null` override removes the field. Returns the form fields
 * including `sign_type` and `sign`; POST them as application/x-www-form-urlencoded.
 */
export function buildSignedNotify(
  input: Trade | NotifyTradeInput,
  overrides: Record<string, string | null> = {},
  opts: BuildSignedNotifyOptions,
): Record<string, string> {
  const trade = completeTrade(input);
  const now = opts.now ?? Date.now();
  const refund: RefundRecord | undefined = opts.refund && {
    outRequestNo: opts.refund.outRequestNo,
    refundFen: opts.refund.refundFen,
    refundAmount: fenToYuan(opts.refund.refundFen),
    at: opts.refund.at ?? now,
  };
  const event: NotifyEvent =
    opts.event ?? (refund ? (refund.refundFen >= trade.totalFen ? "full_refund" : "partial_refund") : trade.status === "TRADE_CLOSED" ? "closed" : "payment");
  if (event === "payment" && trade.paidAt === undefined) trade.paidAt = now;
  if ((event === "closed" || event === "full_refund") && trade.closedAt === undefined) trade.closedAt = now;
  if ((event === "partial_refund" || event === "full_refund") && trade.paidAt === undefined) trade.paidAt = trade.createdAt;
  const params = buildNotifyParams(trade, {
    event,
    notifyId: opts.notifyId ?? newNotifyId(now),
    sellerEmail: opts.sellerEmail ?? "sandbox-seller@example.com",
    now,
    refund,
  });
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) delete params[k];
    else params[k] = v;
  }
  delete params.sign;
  const signType = params.sign_type === "RSA" ? "RSA" : "RSA2";
  return { ...params, sign: signParams(params, opts.privateKey, signType, "V1") };
}

function completeTrade(input: Trade | NotifyTradeInput): Trade {
  if ("refunds" in input && Array.isArray(input.refunds)) return structuredClone(input);
  const i = input as NotifyTradeInput;
  const totalFen = i.totalFen ?? (i.totalAmount !== undefined ? yuanToFen(i.totalAmount) : undefined);
  if (totalFen === undefined) throw new TypeError("buildSignedNotify: give totalFen or totalAmount");
  const createdAt = i.createdAt ?? Date.now();
  return {
    tradeNo: i.tradeNo ?? newTradeNo(createdAt),
    outTradeNo: i.outTradeNo,
    appId: i.appId,
    sellerId: i.sellerId,
    subject: i.subject ?? "sandbox order",
    body: i.body,
    productCode: "FAST_INSTANT_TRADE_PAY",
    totalFen,
    totalAmount: fenToYuan(totalFen),
    status: i.status ?? "TRADE_SUCCESS",
    passbackParams: i.passbackParams,
    createdAt,
    paidAt: i.paidAt,
    closedAt: i.closedAt,
    buyerId: i.buyerId ?? "2088102000000001",
    buyerLogonId: i.buyerLogonId ?? "sandbox-buyer@example.com",
    refunds: [],
    refundedFen: 0,
  };
}
