import { z } from "zod";
import { MAX_TOTAL_FEN, OUT_TRADE_NO } from "../../core/alipay/protocol.ts";
import { business, invalid } from "./errors.ts";
import { yuanAmount } from "./common.ts";
import { parseTimeExpire, parseTimeoutExpress } from "../time.ts";
import type { NewTrade, TradeService } from "../trades.ts";
import type { SandboxApiMethod } from "../types.ts";

// The two browser methods (docs/alipay-protocol.md §2): alipay.trade.page.pay (computer: cashier with
// QR code or account login) and alipay.trade.wap.pay (phone browser: hands over to the Alipay app, or
// account login in the browser). Both are GET URLs or auto-submitted POST forms whose answer is a page.
//
// Opening the URL creates NOTHING: like Alipay, the trade exists only once the buyer logs in at the
// cashier (docs/alipay-protocol.md §5.1 — until then alipay.trade.query answers ACQ.TRADE_NOT_EXIST).
// Opening checks the request and what is already known about the order, then shows the login step;
// the login step submits the same signed request again and only then is the trade created.

export const BROWSER_METHODS = ["alipay.trade.page.pay", "alipay.trade.wap.pay"] as const satisfies readonly SandboxApiMethod[];
export type BrowserMethod = (typeof BROWSER_METHODS)[number];

export const isBrowserMethod = (m: string | null | undefined): m is BrowserMethod => (BROWSER_METHODS as readonly string[]).includes(m ?? "");

const common = {
  out_trade_no: z.string().regex(OUT_TRADE_NO, "只能包含字母、数字、下划线 (≤64)"),
  total_amount: yuanAmount.refine((fen) => fen >= 1 && fen <= MAX_TOTAL_FEN, "取值范围 [0.01,100000000]"),
  subject: z.string().min(1).max(256),
  body: z.string().max(128).optional(),
  timeout_express: z.string().optional(),
  time_expire: z.string().optional(),
  passback_params: z.string().max(512).optional(),
};

export const pagePayBiz = z.object({
  ...common,
  product_code: z.literal("FAST_INSTANT_TRADE_PAY", { message: "目前仅支持 FAST_INSTANT_TRADE_PAY" }),
});

/** wap.pay: product_code QUICK_WAP_WAY; quit_url is where the phone cashier's "quit" leads (biz_content). */
export const wapPayBiz = z.object({
  ...common,
  product_code: z.literal("QUICK_WAP_WAY", { message: "目前仅支持 QUICK_WAP_WAY" }),
  quit_url: z.string().max(400).optional(),
});

type CheckoutBiz = z.infer<typeof pagePayBiz> | z.infer<typeof wapPayBiz>;

export const BIZ_OF: Record<BrowserMethod, z.ZodType<CheckoutBiz>> = {
  "alipay.trade.page.pay": pagePayBiz,
  "alipay.trade.wap.pay": wapPayBiz,
};

/** Default when the merchant sets no expiry. Alipay's documented default for unpaid trades is 15 days. */
const DEFAULT_EXPIRY_MS = 15 * 24 * 60 * 60 * 1000;

function httpUrl(value: string | undefined, name: string, max = 256): string | undefined {
  if (value === undefined || value === "") return undefined;
  let ok = false;
  try {
    ok = ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    ok = false;
  }
  if (!ok || value.length > max) throw invalid("isv.invalid-parameter", `${name} 不是合法的 http(s) 地址 (≤${max})`);
  return value;
}

/**
 * Expiry: time_expire (absolute, Beijing time) wins over timeout_express (relative); both formats of
 * time_expire are accepted (docs/alipay-protocol.md §8.2).
 */
function expiryOf(biz: CheckoutBiz, now: number): number {
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

/**
 * A verified browser request as a trade-to-be. Checks what Alipay checks when the URL is opened: the
 * expiry, and an existing trade of the same out_trade_no (paid, closed or different content → the
 * error page). Creates nothing. Throws GatewayError.
 */
export function checkoutOf(params: Record<string, string>, method: BrowserMethod, biz: CheckoutBiz, trades: TradeService): NewTrade {
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
    quitUrl: "quit_url" in biz ? httpUrl(biz.quit_url, "quit_url", 400) : undefined,
    passbackParams: biz.passback_params,
    expiresAt,
  };
  const r = trades.checkCheckout(input);
  if (!r.ok) throw business(r.subCode, r.subMsg);
  return input;
}
