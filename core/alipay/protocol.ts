// Facts of Alipay's protocol that several roles rely on, stated once (docs/alipay-protocol.md). The
// api, worker, admin and the local gateway (sandbox/) import them from here.

/** Alipay's own gateways (§2). The local emulator is not one of them: its URL comes from SANDBOX_PUBLIC_URL. */
export const ALIPAY_GATEWAY_URLS = {
  /** Alipay's sandbox environment (the older openapi.alipaydev.com host is retired). */
  "alipay-sandbox": "https://openapi-sandbox.dl.alipaydev.com/gateway.do",
  production: "https://openapi.alipay.com/gateway.do",
} as const;

/**
 * out_trade_no as Alipay documents it (§2): at most 64 letters, digits and underscores. coursepay makes
 * only such numbers (core/orders newOutTradeNo), so nothing else can name one of its orders.
 */
export const OUT_TRADE_NO = /^[A-Za-z0-9_]{1,64}$/;

/** total_amount range [0.01, 100000000] yuan (§2), in fen. */
export const MAX_TOTAL_FEN = 100_000_000 * 100;

/** The trade statuses of notifications and alipay.trade.query (§4). */
export const TRADE_STATUSES = ["WAIT_BUYER_PAY", "TRADE_CLOSED", "TRADE_SUCCESS", "TRADE_FINISHED"] as const;
export type TradeStatus = (typeof TRADE_STATUSES)[number];

/** Only these two mean the buyer has paid (§4). */
export function isPaidTradeStatus(status: TradeStatus): boolean {
  return status === "TRADE_SUCCESS" || status === "TRADE_FINISHED";
}

export interface Merchant {
  appId: string;
  /** Our seller id (2088…); when unset, seller_id is not checked. */
  sellerId?: string;
}

/**
 * The merchant checks of Alipay's notify page (§4) that need only configuration: the message is for
 * our app and our seller. (Order existence and amount need the database.) One rule for every kind of
 * evidence: `undefined` means this kind of message does not carry the field (query answers carry
 * neither) and it is not checked; anything else, null included, must be ours. A notification always
 * carries both (its parser requires them). Returns the mismatches, empty when all pass.
 */
export function checkMerchant(got: { appId?: string | null; sellerId?: string | null }, ours: Merchant): string[] {
  return merchantMismatches(got, ours).map((m) => `${m.field} ${m.got ?? "(absent)"} is not ours (${m.ours})`);
}

export interface MerchantMismatch {
  field: "app_id" | "seller_id";
  /** What the message carried (null: absent). */
  got: string | null;
  ours: string;
}

/** checkMerchant's mismatches as data (a decision's reason carries them as parameters). */
export function merchantMismatches(got: { appId?: string | null; sellerId?: string | null }, ours: Merchant): MerchantMismatch[] {
  const out: MerchantMismatch[] = [];
  if (got.appId !== undefined && got.appId !== ours.appId) out.push({ field: "app_id", got: got.appId, ours: ours.appId });
  if (got.sellerId !== undefined && ours.sellerId !== undefined && got.sellerId !== ours.sellerId) {
    out.push({ field: "seller_id", got: got.sellerId, ours: ours.sellerId });
  }
  return out;
}
