import { z } from "zod";
import { fenToYuan } from "../../core/money/index.ts";
import { maskLogonId } from "../notify-params.ts";
import { formatBeijing } from "../time.ts";
import { business } from "./errors.ts";
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
});
type Biz = z.infer<typeof Biz>;

export const tradeRefund: ApiHandler<Biz> = {
  method: "alipay.trade.refund",
  biz: Biz,
  scope: scopeOf,
  handle(biz, ctx) {
    const trade = findTradeOrFail(ctx, biz);
    const r = ctx.trades.refund(trade, {
      refundFen: biz.refund_amount,
      outRequestNo: biz.out_request_no ?? trade.outTradeNo,
      reason: biz.refund_reason,
    });
    if (!r.ok) throw business(r.subCode, r.subMsg, { out_trade_no: trade.outTradeNo, trade_no: trade.tradeNo });
    const { refund, fundChange } = r.value;
    return sortedSuccess({
      buyer_logon_id: trade.buyerLogonId ? maskLogonId(trade.buyerLogonId) : undefined,
      buyer_user_id: trade.buyerId,
      fund_change: fundChange ? "Y" : "N",
      gmt_refund_pay: formatBeijing(refund.at),
      out_trade_no: trade.outTradeNo,
      refund_fee: fenToYuan(trade.refundedFen),
      send_back_fee: refund.refundAmount,
      trade_no: trade.tradeNo,
    });
  },
};
