import { z } from "zod";
import { business } from "./errors.ts";
import { findTradeOrFail, scopeOf, success, tradeRef, type ApiHandler } from "./common.ts";

// alipay.trade.close (docs/alipay-protocol.md §5.2): only WAIT_BUYER_PAY closes; a paid trade answers
// ACQ.TRADE_STATUS_ERROR, an already closed one ACQ.TRADE_HAS_CLOSE, an unknown one ACQ.TRADE_NOT_EXIST
// (which the merchant may treat as closed: the buyer never reached the cashier).
// Success is shaped like vectors/ys-response-trade-close: code, msg, out_trade_no, trade_no.

const Biz = z.object({ ...tradeRef, operator_id: z.string().max(28).optional() });
type Biz = z.infer<typeof Biz>;

export const tradeClose: ApiHandler<Biz> = {
  method: "alipay.trade.close",
  biz: Biz,
  scope: scopeOf,
  handle(biz, ctx) {
    const trade = findTradeOrFail(ctx, biz);
    const r = ctx.trades.closeByMerchant(trade);
    if (!r.ok) throw business(r.subCode, r.subMsg);
    return success({ out_trade_no: trade.outTradeNo, trade_no: trade.tradeNo });
  },
};
