import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { fenToYuan } from "../core/money/index.ts";
import type { TradeLedger } from "./ledger.ts";
import { buildNotifyParams, buildReturnParams, newNotifyId, newTradeNo } from "./notify-params.ts";
import type { FaultStore } from "./faults.ts";
import type { NotifyDelivery } from "./notify-delivery.ts";
import type { SandboxSigner } from "./signing.ts";
import type { Timers } from "./timers.ts";
import type { NotifyEvent, NotifyRecord, RefundRecord, Trade } from "./types.ts";

// The emulated trade lifecycle: every state change of a trade goes through this class, whichever door
// it came in by (gateway API, cashier page, control API, expiry timer), so notifications and timers
// follow the same rules everywhere.
//
//   WAIT_BUYER_PAY ──pay──▶ TRADE_SUCCESS ──partial refunds──▶ TRADE_SUCCESS ──refund to total──▶ TRADE_CLOSED
//         └──expiry / close API──▶ TRADE_CLOSED
//
// Alipay notifies TRADE_SUCCESS, TRADE_FINISHED and TRADE_CLOSED but not WAIT_BUYER_PAY (docs/alipay-protocol.md §4).

/** A business failure, reported by the gateway as 40004 + sub_code (docs/alipay-protocol.md §5). */
export interface BizFailure {
  ok: false;
  subCode: string;
  subMsg: string;
}
export type Outcome<T> = { ok: true; value: T } | BizFailure;

export const fail = (subCode: string, subMsg: string): BizFailure => ({ ok: false, subCode, subMsg });

export interface Buyer {
  /** buyer_id, 2088 + 12 digits */
  id: string;
  /** the buyer's Alipay account; masked in notifications */
  logonId: string;
}

export interface NewTrade {
  outTradeNo: string;
  appId: string;
  totalFen: number;
  subject: string;
  body?: string;
  productCode: string;
  notifyUrl?: string;
  returnUrl?: string;
  /** wap pay: where the phone cashier's "quit" leads */
  quitUrl?: string;
  passbackParams?: string;
  expiresAt?: number;
}

export interface TradeServiceOptions {
  ledger: TradeLedger;
  delivery: NotifyDelivery;
  timers: Timers;
  signer: SandboxSigner;
  log: Logger;
  sellerId: string;
  sellerEmail: string;
  defaultBuyer: Buyer;
  /** for the buyerOpenId fault */
  faults?: FaultStore;
}

export interface RefundResult {
  trade: Trade;
  refund: RefundRecord;
  /** false when the same out_request_no was replayed (docs/alipay-protocol.md §5.3 fund_change) */
  fundChange: boolean;
}

export class TradeService {
  constructor(private readonly o: TradeServiceOptions) {}

  get ledger(): TradeLedger {
    return this.o.ledger;
  }

  /**
   * What opening a pay URL may say about an order that already has a trade (docs/alipay-protocol.md
   * §5.1): paid, closed, or the same out_trade_no with other content is refused; anything else may go
   * on to the login step. Changes nothing (but a due expiry).
   */
  checkCheckout(input: NewTrade): Outcome<void> {
    const existing = this.o.ledger.getTrade(input.outTradeNo);
    if (!existing) return { ok: true, value: undefined };
    this.expireIfDue(existing);
    if (existing.status === "TRADE_SUCCESS" || existing.status === "TRADE_FINISHED") return fail("ACQ.TRADE_HAS_SUCCESS", "交易已被支付");
    if (existing.status === "TRADE_CLOSED") return fail("ACQ.TRADE_HAS_CLOSE", "交易已经关闭");
    if (existing.totalFen !== input.totalFen || existing.subject !== input.subject) {
      return fail("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改");
    }
    return { ok: true, value: undefined };
  }

  /**
   * The buyer logged in at the cashier (page pay or wap pay): this is when Alipay creates the trade
   * (docs/alipay-protocol.md §5.1: until then the query answers ACQ.TRADE_NOT_EXIST). Logging in again
   * for the same out_trade_no shows the same trade when nothing changed (the latest URLs, expiry and
   * product apply: a buyer may switch between phone and computer), and fails like Alipay when it was
   * paid, closed or its content differs.
   */
  openAtLogin(input: NewTrade): Outcome<Trade> {
    const checked = this.checkCheckout(input);
    if (!checked.ok) return checked;
    const existing = this.o.ledger.getTrade(input.outTradeNo);
    if (existing) {
      existing.notifyUrl = input.notifyUrl ?? existing.notifyUrl;
      existing.returnUrl = input.returnUrl ?? existing.returnUrl;
      existing.quitUrl = input.quitUrl ?? existing.quitUrl;
      existing.productCode = input.productCode;
      if (input.expiresAt !== undefined) existing.expiresAt = input.expiresAt;
      this.armExpiry(existing);
      this.o.ledger.changed();
      return { ok: true, value: existing };
    }
    const now = Date.now();
    const trade: Trade = {
      tradeNo: newTradeNo(now),
      outTradeNo: input.outTradeNo,
      appId: input.appId,
      sellerId: this.o.sellerId,
      subject: input.subject,
      body: input.body,
      productCode: input.productCode,
      totalFen: input.totalFen,
      totalAmount: fenToYuan(input.totalFen),
      status: "WAIT_BUYER_PAY",
      notifyUrl: input.notifyUrl,
      returnUrl: input.returnUrl,
      quitUrl: input.quitUrl,
      passbackParams: input.passbackParams,
      createdAt: now,
      expiresAt: input.expiresAt,
      refunds: [],
      refundedFen: 0,
    };
    this.o.ledger.insertTrade(trade);
    this.armExpiry(trade);
    this.o.log.info({ outTradeNo: trade.outTradeNo, tradeNo: trade.tradeNo, totalAmount: trade.totalAmount }, "trade created at the cashier login");
    return { ok: true, value: trade };
  }

  /** The buyer pays (cashier button or control API). */
  pay(trade: Trade, buyer: Buyer = this.o.defaultBuyer): Outcome<Trade> {
    this.expireIfDue(trade);
    if (trade.status === "TRADE_SUCCESS" || trade.status === "TRADE_FINISHED") return fail("ACQ.TRADE_HAS_SUCCESS", "交易已被支付");
    if (trade.status === "TRADE_CLOSED") return fail("ACQ.TRADE_HAS_CLOSE", "交易已经关闭");
    const now = Date.now();
    trade.status = "TRADE_SUCCESS";
    trade.paidAt = now;
    const openId = this.o.faults?.take("buyerOpenId", trade.outTradeNo);
    // Real open ids look like "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5" (47 characters).
    if (openId) trade.buyerOpenId = openId.openId ?? `074${createHash("sha512").update(buyer.id).digest("base64url").replace(/[-_]/g, "x").slice(0, 44)}`;
    else trade.buyerId = buyer.id;
    trade.buyerLogonId = buyer.logonId;
    this.o.timers.cancel(expiryKey(trade));
    if (trade.returnUrl) trade.returnParams = buildReturnParams(trade, now, (p) => this.o.signer.signCallback(p));
    this.o.ledger.changed();
    this.o.log.info({ outTradeNo: trade.outTradeNo, tradeNo: trade.tradeNo }, "trade paid");
    this.notify(trade, "payment");
    return { ok: true, value: trade };
  }

  /** alipay.trade.close: only an unpaid trade can be closed (docs/alipay-protocol.md §5.2). */
  closeByMerchant(trade: Trade): Outcome<Trade> {
    this.expireIfDue(trade);
    if (trade.status === "TRADE_CLOSED") return fail("ACQ.TRADE_HAS_CLOSE", "交易已经关闭");
    if (trade.status !== "WAIT_BUYER_PAY") return fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
    this.close(trade, "closed_by_merchant");
    return { ok: true, value: trade };
  }

  /** Unpaid past time_expire / timeout_express: TRADE_CLOSED, notified (docs/alipay-protocol.md §2, §4). */
  expire(trade: Trade): Outcome<Trade> {
    if (trade.status !== "WAIT_BUYER_PAY") return fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
    this.close(trade, "expired");
    return { ok: true, value: trade };
  }

  /**
   * alipay.trade.refund (docs/alipay-protocol.md §5.3). out_request_no makes it idempotent: the same number with the
   * same amount returns the earlier refund (fund_change N); with another amount it is
   * ACQ.DISCORDANT_REPEAT_REQUEST. Refunds add up to at most total_amount; reaching it closes the trade.
   */
  refund(trade: Trade, req: { refundFen: number; outRequestNo: string; reason?: string; processingMs?: number; notifyWithoutOutBizNo?: boolean }): Outcome<RefundResult> {
    const previous = trade.refunds.find((r) => r.outRequestNo === req.outRequestNo);
    if (previous) {
      if (previous.refundFen !== req.refundFen) return fail("ACQ.DISCORDANT_REPEAT_REQUEST", "请求信息不一致");
      return { ok: true, value: { trade, refund: previous, fundChange: false } };
    }
    this.expireIfDue(trade);
    if (trade.status === "WAIT_BUYER_PAY") return fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
    if (trade.status === "TRADE_FINISHED") return fail("ACQ.TRADE_HAS_FINISHED", "交易已完结");
    if (trade.status === "TRADE_CLOSED") return fail("ACQ.TRADE_HAS_CLOSE", "交易已经关闭");
    if (req.refundFen <= 0) return fail("ACQ.REFUND_FEE_ERROR", "退款金额有误");
    if (trade.refundedFen + req.refundFen > trade.totalFen) return fail("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限");
    const now = Date.now();
    const refund: RefundRecord = { outRequestNo: req.outRequestNo, refundFen: req.refundFen, refundAmount: fenToYuan(req.refundFen), reason: req.reason, at: now };
    if (req.notifyWithoutOutBizNo) refund.notifyWithoutOutBizNo = true;
    trade.refunds.push(refund);
    trade.refundedFen += req.refundFen;
    if (req.processingMs !== undefined) {
      // Asynchronous refund: the amount is reserved now; the money moves (and is notified) later.
      refund.settlesAt = now + req.processingMs;
      this.o.ledger.changed();
      this.o.log.info({ outTradeNo: trade.outTradeNo, outRequestNo: refund.outRequestNo, settlesAt: refund.settlesAt }, "refund processing (async)");
      this.o.timers.at(`refund:${trade.outTradeNo}:${refund.outRequestNo}`, refund.settlesAt, () => this.settleRefund(trade, refund));
      return { ok: true, value: { trade, refund, fundChange: true } };
    }
    return this.settleRefund(trade, refund);
  }

  /** The money of a refund moves: a full refund closes the trade; the refund is notified. */
  private settleRefund(trade: Trade, refund: RefundRecord): Outcome<RefundResult> {
    const now = Date.now();
    refund.at = now;
    const full = trade.refundedFen === trade.totalFen;
    if (full) {
      trade.status = "TRADE_CLOSED";
      trade.closedAt = now;
      trade.closeReason = "fully_refunded";
    }
    this.o.ledger.changed();
    this.o.log.info({ outTradeNo: trade.outTradeNo, outRequestNo: refund.outRequestNo, refundAmount: refund.refundAmount, full }, "trade refunded");
    this.notify(trade, full ? "full_refund" : "partial_refund", refund);
    return { ok: true, value: { trade, refund, fundChange: true } };
  }

  /**
   * The refund window is over: TRADE_SUCCESS → TRADE_FINISHED, notified (docs/alipay-protocol.md §4: "TRADE_FINISHED
   * (e.g. when the refund period expires)"). Refunds are refused afterwards (ACQ.TRADE_HAS_FINISHED).
   */
  finish(trade: Trade): Outcome<Trade> {
    if (trade.status !== "TRADE_SUCCESS") return fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
    trade.status = "TRADE_FINISHED";
    trade.finishedAt = Date.now();
    this.o.ledger.changed();
    this.o.log.info({ outTradeNo: trade.outTradeNo }, "trade finished");
    this.notify(trade, "finished");
    return { ok: true, value: trade };
  }

  /** Closes every trade whose expiry passed while the sandbox was down, and re-arms the others. */
  resume(): void {
    for (const t of this.o.ledger.listTrades()) {
      if (t.status === "WAIT_BUYER_PAY") this.armExpiry(t);
    }
  }

  /** Notify the current state again as a new notification (new notify_id), e.g. for demos. */
  notifyCurrentState(trade: Trade): NotifyRecord | null {
    const lastRefund = trade.refunds.at(-1);
    const event: NotifyEvent =
      trade.status === "TRADE_CLOSED" ? (trade.closeReason === "fully_refunded" ? "full_refund" : "closed") : lastRefund ? "partial_refund" : "payment";
    if (trade.status === "WAIT_BUYER_PAY") return null; // not notified by Alipay
    if (trade.status === "TRADE_FINISHED") return this.notify(trade, "finished");
    return this.notify(trade, event, event.endsWith("refund") ? lastRefund : undefined);
  }

  // ---------------------------------------------------------------------------------------------------------

  private close(trade: Trade, reason: NonNullable<Trade["closeReason"]>): void {
    trade.status = "TRADE_CLOSED";
    trade.closedAt = Date.now();
    trade.closeReason = reason;
    this.o.timers.cancel(expiryKey(trade));
    this.o.ledger.changed();
    this.o.log.info({ outTradeNo: trade.outTradeNo, reason }, "trade closed");
    this.notify(trade, "closed");
  }

  private notify(trade: Trade, event: NotifyEvent, refund?: RefundRecord): NotifyRecord | null {
    const now = Date.now();
    const params = buildNotifyParams(trade, { event, notifyId: newNotifyId(now), sellerEmail: this.o.sellerEmail, now, refund });
    return this.o.delivery.enqueue(trade, event, params);
  }

  private armExpiry(trade: Trade): void {
    if (trade.expiresAt === undefined || trade.status !== "WAIT_BUYER_PAY") return;
    this.o.timers.at(expiryKey(trade), trade.expiresAt, () => this.expireIfDue(trade));
  }

  /** Timers are not exact; any operation on a trade first applies an expiry that is already due. */
  private expireIfDue(trade: Trade): void {
    if (trade.status === "WAIT_BUYER_PAY" && trade.expiresAt !== undefined && trade.expiresAt <= Date.now()) {
      this.close(trade, "expired");
    }
  }

  /** For query: make sure a due expiry is visible before answering. */
  refresh(trade: Trade): Trade {
    this.expireIfDue(trade);
    return trade;
  }
}

/** refund_fee as Alipay reports it: the refunds whose money has moved (asynchronous ones still processing excluded). */
export function settledRefundFen(trade: Trade): number {
  const now = Date.now();
  return trade.refunds.reduce((sum, r) => sum + (r.settlesAt !== undefined && r.settlesAt > now ? 0 : r.refundFen), 0);
}

function expiryKey(trade: Trade): string {
  return `expiry:${trade.outTradeNo}`;
}
