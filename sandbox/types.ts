// Data shapes of the emulator, shared by the server modules and by the typed control client
// (`control-client.ts` imports only these types, so benchmarks can use it without loading express).

// Alipay's trade statuses are core/alipay/protocol.ts's; the sandbox never produces TRADE_FINISHED on its own.
import type { TradeStatus } from "../core/alipay/protocol.ts";

export type { TradeStatus };

export interface RefundRecord {
  /** out_request_no of the refund call; Alipay uses out_trade_no when the merchant sent none (docs/alipay-protocol.md §5.4). */
  outRequestNo: string;
  refundFen: number;
  refundAmount: string;
  reason?: string;
  /** epoch ms */
  at: number;
  /** Asynchronous refund (asyncRefund fault): REFUND_PROCESSING until this epoch ms, then settled and notified. */
  settlesAt?: number;
  /** Its notify carries no out_biz_no (seen for refunds made outside the merchant's API, e.g. the console). */
  notifyWithoutOutBizNo?: boolean;
}

export interface Trade {
  tradeNo: string;
  outTradeNo: string;
  appId: string;
  sellerId: string;
  subject: string;
  body?: string;
  productCode: string;
  totalFen: number;
  /** total_amount as the merchant sent it, normalised to two decimals. */
  totalAmount: string;
  status: TradeStatus;
  notifyUrl?: string;
  returnUrl?: string;
  /** wap pay's quit_url: where the phone cashier's "quit" leads. */
  quitUrl?: string;
  /** passback_params exactly as received (still URL-encoded by the merchant: docs/alipay-protocol.md §1.5). */
  passbackParams?: string;
  /** epoch ms */
  createdAt: number;
  expiresAt?: number;
  paidAt?: number;
  closedAt?: number;
  /** Why the trade was closed: buyer never paid (expiry), merchant close API, or full refund. */
  closeReason?: "expired" | "closed_by_merchant" | "fully_refunded";
  buyerId?: string;
  /** Newer apps see the buyer as buyer_open_id instead of buyer_id / buyer_user_id (buyerOpenId fault). */
  buyerOpenId?: string;
  buyerLogonId?: string;
  /** epoch ms the trade became TRADE_FINISHED (refund window over, control API finish). */
  finishedAt?: number;
  refunds: RefundRecord[];
  refundedFen: number;
  /** The signed return_url parameters given to the browser after payment (docs/alipay-protocol.md §3). */
  returnParams?: Record<string, string>;
}

export type NotifyEvent = "payment" | "closed" | "partial_refund" | "full_refund" | "finished" | "manual";

export interface NotifyAttempt {
  /** 1-based attempt number within its notification (duplicates share the number). */
  n: number;
  /** epoch ms when sent (or when it was dropped) */
  at: number;
  url: string;
  statusCode?: number;
  /** first 200 characters of the merchant's reply body */
  replySnippet?: string;
  error?: string;
  durationMs: number;
  /** true iff the reply was exactly `success` with a 2xx status (docs/alipay-protocol.md §4) */
  ok: boolean;
  /** fault-injection effects applied to this attempt, e.g. ["dropped"], ["corruptSignature"], ["duplicate 2/3"] */
  faults: string[];
  /** the exact form fields sent (after faults), for benches and debugging */
  sentParams?: Record<string, string>;
}

export type NotifyState = "pending" | "delivered" | "gave_up";

export interface NotifyRecord {
  /** internal id (unique per notification, e.g. for renotify) */
  id: string;
  /** notify_id: stays the same across retries of the same notification (docs/alipay-protocol.md §4) */
  notifyId: string;
  outTradeNo: string;
  tradeNo: string;
  event: NotifyEvent;
  tradeStatus: string;
  url: string;
  /** The signed parameters as first built (notify_time and sign are refreshed on each attempt). */
  params: Record<string, string>;
  state: NotifyState;
  createdAt: number;
  /** epoch ms of the next scheduled attempt, while pending */
  nextAttemptAt?: number;
  /** number of scheduled attempts made so far (manual renotify attempts are not counted) */
  scheduledAttempts: number;
  attempts: NotifyAttempt[];
}

/** Fault injection and the gateway's method names are defined in faults.ts (type-only: erased at runtime). */
export type { ActiveFault, FaultSpec, FaultSpecInput, FaultBodyInput, SandboxApiMethod } from "./faults.ts";

export interface SandboxInfo {
  appId: string;
  sellerId: string;
  gatewayUrl: string;
  publicUrl: string;
  timeFactor: number;
  alipayPublicKeyPem: string;
  retryScheduleMs: number[];
  /** certificate mode: the serial numbers in force; null in key mode */
  certMode: { appCertSn: string; alipayRootCertSn: string; alipayCertSn: string } | null;
}

/** GET /sandbox/control/certs: the certificate-mode files and serial numbers. */
export interface SandboxCertInfo {
  appCertSn: string;
  /** what alipay_root_cert_sn must be: the RSA-signed certificates of the bundle, "_"-joined */
  alipayRootCertSn: string;
  /** the certificate that signs now */
  alipayCertSn: string;
  /** every certificate issued, oldest first (all downloadable) */
  alipayCerts: { sn: string; createdAt: number }[];
  /** paths in the sandbox's data dir (null when it keeps nothing on disk) */
  appCertFile: string | null;
  alipayCertFile: string | null;
  alipayRootCertFile: string | null;
  appCertPem: string;
  /** the current certificate followed by its intermediate CA */
  alipayCertPem: string;
  alipayRootCertPem: string;
}
