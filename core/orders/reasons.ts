// Why an order decision was taken: every reason core/orders gives (transitions.ts, apply.ts,
// commands.ts), by code, with its English sentence. The sentence is what logs, event payloads
// (`reason`) and API answers carry; the admin says the same code in the page's language
// (admin/locale/reasons.*.ts). Codes are stored (core/reasons.ts): never rename one.
import type { NotificationOutcome, OrderStatus } from "@prisma/client";
import type { MerchantMismatch, TradeStatus } from "../alipay/protocol.ts";
import { reasonsOf, type WhyOf } from "../reasons.ts";

/** A merchant check's mismatches as flat parameters: a field's `…Ours` is present only when it failed. */
export type MerchantParams = {
  appIdGot?: string | null;
  appIdOurs?: string;
  sellerIdGot?: string | null;
  sellerIdOurs?: string;
};

export function merchantParams(list: MerchantMismatch[]): MerchantParams {
  const p: MerchantParams = {};
  for (const m of list) {
    if (m.field === "app_id") Object.assign(p, { appIdGot: m.got, appIdOurs: m.ours });
    else Object.assign(p, { sellerIdGot: m.got, sellerIdOurs: m.ours });
  }
  return p;
}

const notOurs = (field: string, got: string | null | undefined, ours: string) => `${field} ${got ?? "(absent)"} is not ours (${ours})`;

export const ORDER_REASONS = {
  /** Alipay could not be asked, or its answer could not be trusted (timeout, 20000, unverifiable): `detail` says which. */
  "order.outcome_unknown": (p: { detail: string }) => p.detail,
  "order.already": (p: { status: OrderStatus }) => `already ${p.status}`,
  "order.already_trade": (p: { status: OrderStatus; tradeStatus: TradeStatus }) => `already ${p.status} (${p.tradeStatus})`,
  "order.trade_status_already": (p: { tradeStatus: TradeStatus; status: OrderStatus }) => `${p.tradeStatus}; order already ${p.status}`,
  "order.cancelled_closed_at_alipay": () => "cancelled by the buyer; closed at Alipay first",
  "order.closed_at_alipay": () => "closed at Alipay first",
  "order.no_trade_already": (p: { status: OrderStatus }) => `trade does not exist at Alipay; order already ${p.status}`,
  "order.no_trade_yet": () => "trade not created at Alipay yet (buyer has not reached the cashier)",
  "order.no_trade_expired": () => "expired and the trade was never created at Alipay (grace passed)",
  "order.refund_succeeded": (p: { outRequestNo: string; refundFen: number }) => `refund ${p.outRequestNo} of ${p.refundFen} fen succeeded`,
  "order.refund_beyond_books": (p: { outRequestNo: string; refundFen: number; status: OrderStatus; refundedFen: number; totalFen: number }) =>
    `refund ${p.outRequestNo} of ${p.refundFen} fen succeeded for an order ${p.status} here with ${p.refundedFen} of ${p.totalFen} fen refunded`,
  "order.merchant_mismatch": (p: MerchantParams) =>
    [p.appIdOurs !== undefined ? notOurs("app_id", p.appIdGot, p.appIdOurs) : null,
      p.sellerIdOurs !== undefined ? notOurs("seller_id", p.sellerIdGot, p.sellerIdOurs) : null].filter(Boolean).join("; "),
  "order.amount_mismatch": (p: { paidFen: number; totalFen: number }) => `total ${p.paidFen} fen does not equal the order's ${p.totalFen} fen`,
  "order.trade_no_mismatch": (p: { tradeNo: string; recorded: string }) => `trade_no ${p.tradeNo} differs from the recorded ${p.recorded}`,
  "order.paid": (p: { tradeStatus: TradeStatus }) => p.tradeStatus,
  "order.paid_after_close": (p: { tradeStatus: TradeStatus; status: OrderStatus }) =>
    `${p.tradeStatus} for an order already ${p.status}: money arrived after a local close`,
  /** `was`: the order's status when a TRADE_CLOSED with refunds found it unpaid; null for a paid trade status. */
  "order.refund_without_payment": (p: { tradeStatus: TradeStatus; refundFen: number; was: OrderStatus | null }) =>
    `${p.tradeStatus} with refund_fee ${p.refundFen} fen for an order never recorded as paid${p.was ? ` (${p.was})` : ""}: payment and refund recorded`,
  "order.refund_reported": (p: { tradeStatus: TradeStatus; refundFen: number; reportedFen: number; totalFen: number }) =>
    `${p.tradeStatus} with refund_fee ${p.refundFen} fen: Alipay reports ${p.reportedFen} of ${p.totalFen} fen refunded in all`,
  "order.refund_known": (p: { status: OrderStatus; refundFen: number; tradeStatus: TradeStatus }) =>
    `already ${p.status}; refund_fee ${p.refundFen} fen already known (${p.tradeStatus})`,
  "order.trade_closed": () => "TRADE_CLOSED at Alipay",
  "order.closed_while_paid": (p: { status: OrderStatus }) => `TRADE_CLOSED at Alipay while ${p.status} here (full refund?)`,
  "order.waiting_for_buyer": () => "waiting for the buyer to pay",
  "order.expired_close_first": () => "expired while WAIT_BUYER_PAY: close at Alipay before closing here",
  "order.still_open": () => "Alipay still shows the trade open",
  "order.notification_done": (p: { outcome: NotificationOutcome }) => `notification already ${p.outcome}`,
  "order.redrive_unverified": () => "an unverified notification is never applied; nothing to re-drive",
  "order.redrive_processed": (p: { outcome: NotificationOutcome }) => `notification already processed (${p.outcome})`,
  "order.redrive_meanwhile": () => "notification processed meanwhile; nothing to re-drive",
  "order.redrive_queued": (p: { jobId: string }) => `queued again as job ${p.jobId}`,
} as const;

export type OrderReasonCode = keyof typeof ORDER_REASONS;
export type OrderWhy = WhyOf<typeof ORDER_REASONS>;

/** `because(code, params)`: an order reason and its English sentence. */
export const because = reasonsOf(ORDER_REASONS);
