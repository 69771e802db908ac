import { z } from "zod";
import { formatBeijing } from "../time.ts";
import { maskLogonId } from "../notify-params.ts";
import { findTradeOrFail, scopeOf, sortedSuccess, tradeRef, type ApiHandler } from "./common.ts";

// alipay.trade.query (docs/alipay-protocol.md §5.1). Shaped like the real sandbox answer in
// vectors/ys-response-trade-query-trade-success: amounts as yuan strings, buyer fields once paid,
// send_pay_date in Beijing time. A missing trade is 40004 ACQ.TRADE_NOT_EXIST with zero amounts, as in
// the real example quoted in docs/alipay-protocol.md §5.

const Biz = z.object({
  ...tradeRef,
  query_options: z.array(z.string()).optional(),
});
type Biz = z.infer<typeof Biz>;

const ZERO_AMOUNTS = { buyer_pay_amount: "0.00", invoice_amount: "0.00", point_amount: "0.00", receipt_amount: "0.00" };

export const tradeQuery: ApiHandler<Biz> = {
  method: "alipay.trade.query",
  biz: Biz,
  scope: scopeOf,
  handle(biz, ctx) {
    const t = findTradeOrFail(ctx, biz, ZERO_AMOUNTS);
    const paid = t.paidAt !== undefined;
    const amount = paid ? t.totalAmount : "0.00";
    return sortedSuccess({
      buyer_logon_id: paid && t.buyerLogonId ? maskLogonId(t.buyerLogonId) : undefined,
      buyer_pay_amount: amount,
      buyer_open_id: paid ? t.buyerOpenId : undefined,
      buyer_user_id: paid ? t.buyerId : undefined,
      buyer_user_type: paid ? "PRIVATE" : undefined,
      fund_bill_list:
        paid && biz.query_options?.includes("fund_bill_list") ? [{ amount: t.totalAmount, fund_channel: "ALIPAYACCOUNT" }] : undefined,
      invoice_amount: amount,
      out_trade_no: t.outTradeNo,
      point_amount: "0.00",
      receipt_amount: amount,
      send_pay_date: paid ? formatBeijing(t.paidAt!) : undefined,
      total_amount: t.totalAmount,
      trade_no: t.tradeNo,
      trade_status: t.status,
    });
  },
};
