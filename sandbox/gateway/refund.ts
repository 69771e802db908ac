import { z } from "zod";
import { fenToYuan } from "../../core/money/index.ts";
import { maskLogonId } from "../notify-params.ts";
import { formatBeijing } from "../time.ts";
import { business } from "./errors.ts";
import { settledRefundFen } from "../trades.ts";

const REFUND_ERROR_MESSAGES: Record<string, string> = {
  "ACQ.SELLER_BALANCE_NOT_ENOUGH": "卖家余额不足",
  "ACQ.TRADE_STATUS_ERROR": "交易状态不合法",
  "ACQ.REASON_TRADE_REFUND_FEE_ERR": "退款金额无效",
  "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": "退款金额超限",
};
import { findTradeOrFail, scopeOf, sortedSuccess, tradeRef, yuanAmount, type ApiHandler } from "./common.ts";

// alipay.trade.refund (docs/alipay-protocol.md §5.3). Without out_request_no Alipay uses the out_trade_no as the
// request number (§5.4), so a second refund without one is a replay of the first. refund_fee in the
// answer is the cumulative refunded amount; fund_change is N on a replay.

const Biz = z.object({
  ...tradeRef,
  refund_amount: yuanAmount,
  out_request_no: z.string().min(1).max(64).optional(),
  refund_reason: z.string().max(256).optional(),
  operator_id: z.string().optional(),
  /** send_back_fee is answered only when asked for here (as Alipay does). */
  query_options: z.array(z.string()).optional(),
});
type Biz = z.infer<typeof Biz>;

export const tradeRefund: ApiHandler<Biz> = {
  method: "alipay.trade.refund",
  biz: Biz,
  scope: scopeOf,
  handle(biz, ctx) {
    const trade = findTradeOrFail(ctx, biz);
    // A replay of an existing out_request_no answers as before, whatever faults are armed — but a
    // refundError armed with onReplay, which answers only replays.
    const replay = trade.refunds.some((x) => x.outRequestNo === (biz.out_request_no ?? trade.outTradeNo));
    const armed = ctx.faults?.peek("refundError", trade.outTradeNo, "alipay.trade.refund");
    const injected = armed && Boolean(armed.spec.onReplay) === replay ? ctx.faults?.take("refundError", trade.outTradeNo, "alipay.trade.refund") : undefined;
    if (injected) throw business(injected.error, REFUND_ERROR_MESSAGES[injected.error], { out_trade_no: trade.outTradeNo, trade_no: trade.tradeNo });
    const asyncRefund = replay ? undefined : ctx.faults?.take("asyncRefund", trade.outTradeNo, "alipay.trade.refund");
    const r = ctx.trades.refund(trade, {
      processingMs: asyncRefund?.ms,
      refundFen: biz.refund_amount,
      outRequestNo: biz.out_request_no ?? trade.outTradeNo,
      reason: biz.refund_reason,
    });
    if (!r.ok) throw business(r.subCode, r.subMsg, { out_trade_no: trade.outTradeNo, trade_no: trade.tradeNo });
    const { refund, fundChange } = r.value;
    return sortedSuccess({
      buyer_logon_id: trade.buyerLogonId ? maskLogonId(trade.buyerLogonId) : undefined,
      buyer_user_id: trade.buyerId,
      // An asynchronous refund has not moved money yet: fund_change N, settled later (refund query, notify).
      fund_change: fundChange && refund.settlesAt === undefined ? "Y" : "N",
      gmt_refund_pay: formatBeijing(refund.at),
      out_trade_no: trade.outTradeNo,
      refund_fee: fenToYuan(settledRefundFen(trade)),
      send_back_fee: biz.query_options?.includes("send_back_fee") ? refund.refundAmount : undefined,
      trade_no: trade.tradeNo,
    });
  },
};
