// The order state machine (docs/architecture.md, "Order states"): the one place that says what a piece of
// evidence from Alipay means for an order. Pure: no I/O, no clock, no randomness — the imperative
// shell (commands.ts) loads the order, calls decide(), and persists the decision in one transaction.
//
// Evidence is only ever built from verified sources (a notify whose signature verified, or a signed
// gateway response), so nothing here re-checks signatures; it does run the merchant checks that
// need the order (amount) and the configuration (app id, seller id).
import type { OrderStatus } from "@prisma/client";
import { isPaidTradeStatus, merchantMismatches, type Merchant, type TradeStatus } from "../alipay/protocol.ts";
import { because, merchantParams, type OrderWhy } from "./reasons.ts";

export { isPaidTradeStatus, type TradeStatus };

/** The parts of an order the rules look at. */
export interface OrderFacts {
  status: OrderStatus;
  totalFen: number;
  /** The sum of the order's SUCCEEDED refund rows (ours and external ones): moved only by refund_succeeded. */
  refundedFen: number;
  /**
   * The largest cumulative refund_fee Alipay has reported for the trade that went beyond the refunded
   * amount here when it came (what Alipay claims, not our books; core/refunds compares the two).
   */
  alipayRefundFeeFen: number;
  expiresAt: Date;
  tradeNo: string | null;
}

/** What Alipay told us (always already verified). */
export type Evidence =
  | {
      kind: "trade";
      tradeStatus: TradeStatus;
      totalFen: number;
      tradeNo: string | null;
      /** app_id / seller_id as carried by a notify; undefined when the source does not carry them (query). */
      appId?: string | null;
      sellerId?: string | null;
      buyerAlipayId?: string | null;
      paidAt?: Date | null;
      /** refund_fee: the trade's cumulative refunded amount, present on refund notifications. */
      refundFen?: number | null;
    }
  /** alipay.trade.query answered ACQ.TRADE_NOT_EXIST: the buyer never reached the cashier. */
  | { kind: "trade_not_exist" }
  /** Our alipay.trade.close succeeded, or Alipay had nothing open to close: nothing can be paid any more. */
  | { kind: "closed_at_alipay"; target: "CLOSED" | "CANCELLED" }
  /**
   * A Refund row is now known to have succeeded at Alipay — one of ours (from the refund call's answer,
   * the refund query or the refund notify, whichever came first), or an external one (a refund made
   * outside coursepay, recorded by core/refunds from Alipay's cumulative refund_fee). core/refunds
   * applies it in the same transaction that makes the row SUCCEEDED, so each row counts exactly once:
   * refunded_fen is the sum of SUCCEEDED rows, and nothing else moves it.
   */
  | { kind: "refund_succeeded"; refundFen: number; outRequestNo: string }
  /** Timeout, 20000, ACQ.SYSTEM_ERROR, unverifiable response: the outcome is not known. */
  | { kind: "unknown"; reason: string };

export interface DecideContext {
  now: Date;
  merchant: Merchant;
  /** How long after expiry a never-created trade is still given to appear (RECONCILE_GRACE_MINUTES). */
  graceMs: number;
}

/** Event types written to OrderEvent.type (staff see them in the timeline). */
export const EVENT = {
  created: "created",
  paid: "paid",
  closed: "closed",
  cancelled: "cancelled",
  refunded: "refunded",
  partiallyRefunded: "partially_refunded",
  /**
   * Alipay reports a higher cumulative refund_fee for the trade (a refund notify): recorded as Alipay's
   * claim; the order's refunded amount moves only when refund rows account for it (core/refunds).
   */
  refundReported: "refund_reported",
  /** Money arrived for an order we had already closed or cancelled: PAID, and staff must look. */
  paidAfterClose: "anomaly.paid_after_close",
  amountMismatch: "anomaly.amount_mismatch",
  merchantMismatch: "anomaly.merchant_mismatch",
  tradeNoMismatch: "anomaly.trade_no_mismatch",
  /** Alipay's state contradicts ours in a way no rule resolves (e.g. closed at Alipay while paid here). */
  unexpectedStatus: "anomaly.unexpected_status",
  /** A refund notify for an order we never recorded as paid: payment AND refund recorded, staff must look. */
  refundWithoutPayment: "anomaly.refund_without_payment",
  paymentChecked: "payment_checked",
  closeRequested: "close_requested",
  notificationRedriven: "notification_redriven",
} as const;
export type EventType = (typeof EVENT)[keyof typeof EVENT];
export type AnomalyType =
  | typeof EVENT.amountMismatch
  | typeof EVENT.merchantMismatch
  | typeof EVENT.tradeNoMismatch
  | typeof EVENT.unexpectedStatus;

/** Columns a transition sets besides status. */
export interface OrderPatch {
  tradeNo?: string;
  buyerAlipayId?: string;
  paidAt?: Date;
  closedAt?: Date;
  refundedFen?: number;
  alipayRefundFeeFen?: number;
  needsReview?: boolean;
}

/**
 * Every decision says why twice over, built together (core/orders/reasons.ts): `why`, a stable code and
 * its parameters (stored with the event; the admin says it in the page's language), and `reason`, its
 * English sentence (logs, payloads, API answers).
 */
interface Because {
  reason: string;
  why: OrderWhy;
}

export type Decision =
  | ({ kind: "transition"; from: OrderStatus; to: OrderStatus; event: EventType; patch: OrderPatch; anomaly: boolean } & Because)
  /** duplicate: the order already reflects this evidence (a repeated notify), as opposed to evidence that is simply moot. */
  | ({ kind: "noop"; duplicate: boolean } & Because)
  | ({ kind: "anomaly"; event: AnomalyType } & Because)
  | ({ kind: "close_at_alipay_first" } & Because)
  | ({ kind: "unknown" } & Because);

const LOCALLY_ENDED: OrderStatus[] = ["CANCELLED", "CLOSED"];

export function decide(order: OrderFacts, evidence: Evidence, ctx: DecideContext): Decision {
  switch (evidence.kind) {
    case "unknown":
      return { kind: "unknown", ...because("order.outcome_unknown", { detail: evidence.reason }) };
    case "closed_at_alipay":
      if (order.status !== "UNPAID") return noop(because("order.already", { status: order.status }), LOCALLY_ENDED.includes(order.status));
      return transition(order, evidence.target, evidence.target === "CANCELLED" ? EVENT.cancelled : EVENT.closed, { closedAt: ctx.now },
        because(evidence.target === "CANCELLED" ? "order.cancelled_closed_at_alipay" : "order.closed_at_alipay"));
    case "trade_not_exist": {
      if (order.status !== "UNPAID") return noop(because("order.no_trade_already", { status: order.status }));
      const deadline = order.expiresAt.getTime() + ctx.graceMs;
      if (ctx.now.getTime() < deadline) return noop(because("order.no_trade_yet"));
      return transition(order, "CLOSED", EVENT.closed, { closedAt: ctx.now }, because("order.no_trade_expired"));
    }
    case "trade":
      return decideTrade(order, evidence, ctx);
    case "refund_succeeded": {
      // Additive: the refund row's own CAS (core/refunds) guarantees this runs once per row, so
      // refunded_fen stays the sum of SUCCEEDED rows.
      const sum = order.refundedFen + evidence.refundFen;
      if ((order.status === "PAID" || order.status === "PARTIALLY_REFUNDED") && sum <= order.totalFen) {
        return refundTransition(order, sum, because("order.refund_succeeded", { outRequestNo: evidence.outRequestNo, refundFen: evidence.refundFen }));
      }
      // A REFUNDED order (or refunds beyond the total) cannot take more: Alipay's answers contradict each
      // other or our books. Nothing is changed on the order; staff must look.
      return { kind: "anomaly", event: EVENT.unexpectedStatus, ...because("order.refund_beyond_books", {
        outRequestNo: evidence.outRequestNo, refundFen: evidence.refundFen, status: order.status, refundedFen: order.refundedFen, totalFen: order.totalFen,
      }) };
    }
  }
}

function decideTrade(order: OrderFacts, ev: Extract<Evidence, { kind: "trade" }>, ctx: DecideContext): Decision {
  // Merchant checks (docs/alipay-protocol.md §4): a mismatch is never payment, whatever the status says.
  const merchant = merchantMismatches(ev, ctx.merchant);
  if (merchant.length) return { kind: "anomaly", event: EVENT.merchantMismatch, ...because("order.merchant_mismatch", merchantParams(merchant)) };
  if (ev.totalFen !== order.totalFen) {
    return { kind: "anomaly", event: EVENT.amountMismatch, ...because("order.amount_mismatch", { paidFen: ev.totalFen, totalFen: order.totalFen }) };
  }
  if (order.tradeNo && ev.tradeNo && ev.tradeNo !== order.tradeNo) {
    return { kind: "anomaly", event: EVENT.tradeNoMismatch, ...because("order.trade_no_mismatch", { tradeNo: ev.tradeNo, recorded: order.tradeNo }) };
  }

  const refundFen = ev.refundFen ?? 0;
  const paidPatch = (): OrderPatch => ({
    ...(ev.tradeNo ? { tradeNo: ev.tradeNo } : {}),
    ...(ev.buyerAlipayId ? { buyerAlipayId: ev.buyerAlipayId } : {}),
    paidAt: ev.paidAt ?? ctx.now,
  });
  // refund_fee is Alipay's running total of the trade's refunds. It is Alipay's claim, kept as such
  // (alipayRefundFeeFen, only ever raised): the order's refunded amount moves only by refund rows,
  // ours or the external ones core/refunds records for what ours cannot account for. A closed trade
  // with refunds is a fully refunded one (only a full refund closes a paid trade).
  // Kept only when it goes beyond both what Alipay said before and what our rows already account for
  // (a notify of a refund we have already settled teaches nothing: a duplicate, no event).
  const reported = refundFen > 0 ? (ev.tradeStatus === "TRADE_CLOSED" ? order.totalFen : Math.min(refundFen, order.totalFen)) : 0;
  const news = reported > order.alipayRefundFeeFen && reported > order.refundedFen;
  const reportPatch = (): OrderPatch => (news ? { alipayRefundFeeFen: reported } : {});
  const reportRefunds = (): Decision =>
    news
      ? transition(order, order.status, EVENT.refundReported, reportPatch(),
        because("order.refund_reported", { tradeStatus: ev.tradeStatus, refundFen, reportedFen: reported, totalFen: order.totalFen }))
      : noop(because("order.refund_known", { status: order.status, refundFen, tradeStatus: ev.tradeStatus }), true);

  if (isPaidTradeStatus(ev.tradeStatus)) {
    if (order.status === "UNPAID") {
      if (refundFen > 0) {
        // The payment's own notify never reached us: record the payment (and Alipay's refund total,
        // which core/refunds turns into a refund row), and flag it.
        return transition(order, "PAID", EVENT.refundWithoutPayment, { ...paidPatch(), ...reportPatch(), needsReview: true },
          because("order.refund_without_payment", { tradeStatus: ev.tradeStatus, refundFen, was: null }), true);
      }
      return transition(order, "PAID", EVENT.paid, paidPatch(), because("order.paid", { tradeStatus: ev.tradeStatus }));
    }
    if (LOCALLY_ENDED.includes(order.status)) {
      return transition(order, "PAID", EVENT.paidAfterClose, { ...paidPatch(), ...reportPatch(), needsReview: true },
        because("order.paid_after_close", { tradeStatus: ev.tradeStatus, status: order.status }), true);
    }
    // PAID / PARTIALLY_REFUNDED / REFUNDED. A TRADE_SUCCESS carrying refund_fee is a partial refund (docs/alipay-protocol.md §4).
    if (refundFen > 0) return reportRefunds();
    return noop(because("order.already_trade", { status: order.status, tradeStatus: ev.tradeStatus }), true);
  }

  if (ev.tradeStatus === "TRADE_CLOSED") {
    if (refundFen > 0) {
      // A full refund closes the trade (TRADE_CLOSED + refund_fee, docs/alipay-protocol.md §4).
      if (order.status === "PAID" || order.status === "PARTIALLY_REFUNDED" || order.status === "REFUNDED") return reportRefunds();
      // UNPAID / CLOSED / CANCELLED: the trade was paid (only a paid trade can be refunded) and the
      // payment never reached our books. Erasing it (the next query's TRADE_CLOSED would close the
      // order as never paid) would lose money from the books: record the payment AND Alipay's refund
      // total (core/refunds records the refund row that makes the order REFUNDED), and flag it.
      return transition(order, "PAID", EVENT.refundWithoutPayment,
        { ...paidPatch(), ...reportPatch(), needsReview: true },
        because("order.refund_without_payment", { tradeStatus: ev.tradeStatus, refundFen, was: order.status }), true);
    }
    if (order.status === "UNPAID") return transition(order, "CLOSED", EVENT.closed, { closedAt: ctx.now }, because("order.trade_closed"));
    if (order.status === "PAID" || order.status === "PARTIALLY_REFUNDED") {
      // The refund path: Alipay closes a paid trade only by a full refund; without refund details
      // (e.g. from a query) staff must reconcile it. Never silently un-pay.
      return { kind: "anomaly", event: EVENT.unexpectedStatus, ...because("order.closed_while_paid", { status: order.status }) };
    }
    return noop(because("order.trade_status_already", { tradeStatus: ev.tradeStatus, status: order.status }), LOCALLY_ENDED.includes(order.status));
  }

  // WAIT_BUYER_PAY
  if (order.status !== "UNPAID") return noop(because("order.trade_status_already", { tradeStatus: ev.tradeStatus, status: order.status }));
  if (ctx.now.getTime() < order.expiresAt.getTime()) return noop(because("order.waiting_for_buyer"));
  return { kind: "close_at_alipay_first", ...because("order.expired_close_first") };
}

function refundTransition(order: OrderFacts, refundFen: number, why: Because): Decision {
  const full = refundFen >= order.totalFen;
  return transition(order, full ? "REFUNDED" : "PARTIALLY_REFUNDED", full ? EVENT.refunded : EVENT.partiallyRefunded,
    { refundedFen: Math.min(refundFen, order.totalFen) }, why);
}

function noop(why: Because, duplicate = false): Decision {
  return { kind: "noop", ...why, duplicate };
}

function transition(order: OrderFacts, to: OrderStatus, event: EventType, patch: OrderPatch, why: Because, anomaly = false): Decision {
  return { kind: "transition", from: order.status, to, event, patch, ...why, anomaly };
}
