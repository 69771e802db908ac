import { z } from "zod";
import { formatBeijing } from "../time.ts";
import { findTradeOrFail, scopeOf, sortedSuccess, tradeRef, type ApiHandler } from "./common.ts";

// alipay.trade.fastpay.refund.query (docs/alipay-protocol.md §5.4). A refund that does not exist is an "empty"
// success: code 10000 without refund_amount / refund_status (the widely documented behaviour).
// out_request_no defaults to out_trade_no, as for a refund made without one.

const Biz = z.object({
  ...tradeRef,
  out_request_no: z.string().min(1).max(64).optional(),
  query_options: z.array(z.string()).optional(),
});
type Biz = z.infer<typeof Biz>;

export const tradeRefundQuery: ApiHandler<Biz> = {
  method: "alipay.trade.fastpay.refund.query",
  biz: Biz,
  scope: scopeOf,
  handle(biz, ctx) {
    const trade = findTradeOrFail(ctx, biz);
    const outRequestNo = biz.out_request_no ?? trade.outTradeNo;
    const refund = trade.refunds.find((r) => r.outRequestNo === outRequestNo);
    if (!refund) return sortedSuccess({ out_request_no: outRequestNo, out_trade_no: trade.outTradeNo, trade_no: trade.tradeNo });
    const processing = refund.settlesAt !== undefined && Date.now() < refund.settlesAt;
    // Alipay fills refund_status only for asynchronous refunds; the refundQueryNoStatus fault answers a
    // success the synchronous way (refund data, no refund_status), which merchants must read as success.
    const noStatus = !processing && ctx.faults?.take("refundQueryNoStatus", trade.outTradeNo, "alipay.trade.fastpay.refund.query") !== undefined;
    return sortedSuccess({
      send_back_fee: biz.query_options?.includes("send_back_fee") && !processing ? refund.refundAmount : undefined,
      gmt_refund_pay: biz.query_options?.includes("gmt_refund_pay") ? formatBeijing(refund.at) : undefined,
      out_request_no: outRequestNo,
      out_trade_no: trade.outTradeNo,
      refund_amount: refund.refundAmount,
      refund_reason: refund.reason,
      refund_status: noStatus ? undefined : processing ? "REFUND_PROCESSING" : "REFUND_SUCCESS",
      total_amount: trade.totalAmount,
      trade_no: trade.tradeNo,
    });
  },
};
