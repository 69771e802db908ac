import { z } from "zod";
import { MAX_TOTAL_FEN, OUT_TRADE_NO } from "../../core/alipay/protocol.ts";
import { business, invalid } from "./errors.ts";
import { yuanAmount } from "./common.ts";
import { parseTimeExpire, parseTimeoutExpress } from "../time.ts";
import type { NewTrade, TradeService } from "../trades.ts";
import type { Trade } from "../types.ts";

// alipay.trade.page.pay (docs/alipay-protocol.md §2): a browser request (GET URL or auto-submitted POST form), so
// its answer is a page, not JSON. Opening it creates the trade (WAIT_BUYER_PAY) and shows the cashier.

export const pagePayBiz = z.object({
  out_trade_no: z.string().regex(OUT_TRADE_NO, "只能包含字母、数字、下划线 (≤64)"),
  total_amount: yuanAmount.refine((fen) => fen >= 1 && fen <= MAX_TOTAL_FEN, "取值范围 [0.01,100000000]"),
  subject: z.string().min(1).max(256),
  product_code: z.literal("FAST_INSTANT_TRADE_PAY", { message: "目前仅支持 FAST_INSTANT_TRADE_PAY" }),
  body: z.string().max(128).optional(),
  timeout_express: z.string().optional(),
  time_expire: z.string().optional(),
  passback_params: z.string().max(512).optional(),
});
export type PagePayBiz = z.infer<typeof pagePayBiz>;

/** Default when the merchant sets no expiry. Alipay's documented default for unpaid trades is 15 days. */
const DEFAULT_EXPIRY_MS = 15 * 24 * 60 * 60 * 1000;

function httpUrl(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  let ok = false;
  try {
    ok = ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    ok = false;
  }
  if (!ok || value.length > 256) throw invalid("isv.invalid-parameter", `${name} 不是合法的 http(s) 地址 (≤256)`);
  return value;
}

/**
 * Expiry: time_expire (absolute, Beijing time) wins over timeout_express (relative); both formats of
 * time_expire are accepted (docs/alipay-protocol.md §8.2).
 */
function expiryOf(biz: PagePayBiz, now: number): number {
  if (biz.time_expire !== undefined) {
    const at = parseTimeExpire(biz.time_expire);
    if (at === null) throw business("ACQ.INVALID_PARAMETER", "参数无效: time_expire 格式应为 yyyy-MM-dd HH:mm:ss");
    return at;
  }
  if (biz.timeout_express !== undefined) {
    const at = parseTimeoutExpress(biz.timeout_express, now);
    if (at === null) throw business("ACQ.INVALID_PARAMETER", "参数无效: timeout_express 取值范围 1m～15d 或 1c");
    return at;
  }
  return now + DEFAULT_EXPIRY_MS;
}

/** Creates (or re-opens) the trade; throws GatewayError for the error page. */
export function openPagePay(params: Record<string, string>, biz: PagePayBiz, trades: TradeService): Trade {
  const now = Date.now();
  const expiresAt = expiryOf(biz, now);
  const existing = trades.ledger.getTrade(biz.out_trade_no);
  // A pay URL opened after its expiry: the cashier refuses it; no trade is created.
  if (!existing && expiresAt <= now) throw business("ACQ.TRADE_HAS_CLOSE", "交易已经关闭 (已超过 time_expire)");
  const input: NewTrade = {
    outTradeNo: biz.out_trade_no,
    appId: params.app_id!,
    totalFen: biz.total_amount,
    subject: biz.subject,
    body: biz.body,
    productCode: biz.product_code,
    notifyUrl: httpUrl(params.notify_url, "notify_url"),
    returnUrl: httpUrl(params.return_url, "return_url"),
    passbackParams: biz.passback_params,
    expiresAt,
  };
  const r = trades.openFromPagePay(input);
  if (!r.ok) throw business(r.subCode, r.subMsg);
  return r.value;
}
