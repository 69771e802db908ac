// Merchant-side Alipay OpenAPI v2 client: page-pay URL, query, close, refund, refund query.
//
// Built on the official SDK (alipay-sdk 4.14) for what it does right: parameter assembly and request
// signing. Page-pay URLs are its pageExecute; server calls are assembled the way its sdkExecute does
// it, without its per-call overhead (signedRequest below; a unit test holds the two equal). Not for
// response handling: its exec() verifies only on request,
// cuts the signed text with getSignStr (which fails when `sign` precedes the node, docs/alipay-protocol.md §1.6)
// and hides the raw body. So calls go out with node:http(s) and every response, success or error, is checked
// with our byte-exact verification (signature.ts verifyExtracted, on the body cut once) before anything in it is believed.
//
// Every call returns a discriminated union; "unknown" means the outcome is not known (timeout,
// network, 20000, ACQ.SYSTEM_ERROR, rate limit, unverifiable response): the caller must change
// nothing and retry later (docs/alipay-protocol.md §5). Invalid arguments are programming errors and throw.
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { AlipaySdk } from "alipay-sdk";
import { z } from "zod";
import type { Logger } from "../logging/index.ts";
import { fenToYuan } from "../money/index.ts";
import { beijingTime, fenFromYuan, optional } from "./fields.ts";
import { contentTypeCharset, decodeText, normalizeCharset, type Charset } from "./charset.ts";
import { certSerialNumber, privateKeyPem, publicKeyPem, rootCertSerialNumber, toPrivateKey, toPublicKey, type KeyInput } from "./keys.ts";
import { MAX_TOTAL_FEN, OUT_TRADE_NO, TRADE_STATUSES, type TradeStatus } from "./protocol.ts";
import { createAlipayCertBook, type AlipayCertStore, type CertRotationEvent, type KeyLookup } from "./certs.ts";
import { extractResponseNode, type ExtractedNode, type ExtractionFailure } from "./response.ts";
import { signParams, verifyExtracted, verifyFailure, type SignType } from "./signature.ts";
import { formatBeijingTime } from "./time.ts";

export type AlipayClientConfig = {
  appId: string;
  appPrivateKey: KeyInput;
  /** Alipay public key (PEM, bare base64) or Alipay public-key certificate. */
  alipayPublicKey: KeyInput;
  gatewayUrl: string;
  signType?: SignType;
  /** Per-call HTTP timeout; its default is ALIPAY_TIMEOUT_MS in core/config. */
  timeoutMs: number;
  /** Our seller id (2088…), for the merchant checks of notifications. */
  sellerId?: string;
  /**
   * Certificate mode (公钥证书模式): adds app_cert_sn and alipay_root_cert_sn to every request. With
   * `alipayCert`, answers are verified with the certificate their alipay_cert_sn names, and a rotated
   * certificate is downloaded, checked against the root and kept in `certStore` (certs.ts).
   */
  certs?: { appCert: string; alipayRootCert: string; alipayCert?: string };
  /** Shared cache of downloaded Alipay certificates (the database in the roles). */
  certStore?: AlipayCertStore;
  /** Told about every certificate rotation event (metrics). */
  onCertRotation?: (e: CertRotationEvent) => void;
  logger?: Logger;
  /** Clock for request timestamps (tests). */
  now?: () => Date;
};

export type BusinessError = { kind: "business_error"; code: string; msg: string; subCode: string; subMsg: string };
export type UnknownOutcome = { kind: "unknown"; reason: string };
export type GatewayResult<T> = ({ kind: "ok" } & T) | BusinessError | UnknownOutcome;

export type TradeQueryOk = {
  tradeNo: string;
  outTradeNo: string;
  tradeStatus: TradeStatus;
  totalFen: number;
  buyerPayFen: number | null;
  receiptFen: number | null;
  /** buyer_user_id (2088…), or buyer_open_id for newer apps. */
  buyerId: string | null;
  buyerLogonId: string | null;
  sendPayDate: Date | null;
};
export type TradeCloseOk = { tradeNo: string | null; outTradeNo: string | null };
export type RefundOk = {
  tradeNo: string;
  outTradeNo: string;
  /** Cumulative refunded amount of the trade (refund_fee), not this refund's amount. */
  refundedTotalFen: number;
  /** fund_change "Y": money moved in this call. "N" is typical when replaying an out_request_no. */
  fundChange: boolean;
  gmtRefundPay: Date | null;
};
export type RefundQueryOk = {
  outTradeNo: string | null;
  tradeNo: string | null;
  outRequestNo: string | null;
  /**
   * Alipay's rule for fastpay.refund.query: the answer carries refund data (refund_amount) ⇒ the
   * refund exists; then refund_status empty or REFUND_SUCCESS means it SUCCEEDED (refund_status is
   * only filled for async refunds, which may also say REFUND_PROCESSING / REFUND_FAIL). An answer
   * without refund data (an "empty success") means Alipay has no such refund: not refunded
   * (docs/alipay-protocol.md §5.4).
   * null here means exactly that: no refund data. A missing refund_status on an answer WITH data is
   * reported as "REFUND_SUCCESS" — reading it as "not refunded yet" would send the refund again.
   */
  refundStatus: "REFUND_SUCCESS" | "REFUND_PROCESSING" | "REFUND_FAIL" | null;
  /** refund_amount: this refund's amount; null when the answer carries no refund data. */
  refundFen: number | null;
  totalFen: number | null;
  /** refund_status was absent from an answer with refund data (the synchronous-refund case). */
  statusImplied: boolean;
};

export type BillDownloadUrlOk = {
  /** Short-lived (30 s at Alipay): download it at once (docs/bills.md). */
  billDownloadUrl: string;
};

export type PagePayRequest = {
  outTradeNo: string;
  totalFen: number;
  subject: string;
  /** Absolute expiry, sent as time_expire in Beijing time. */
  expiresAt: Date;
  returnUrl: string;
  notifyUrl: string;
  /** Echoed back in the notify; URL-encoded here once as Alipay requires (decodePassbackParams). */
  passbackParams?: string;
  body?: string;
};

/**
 * The same order paid from a phone browser: alipay.trade.wap.pay (product QUICK_WAP_WAY), which hands
 * over to the Alipay app. quitUrl is where Alipay's phone cashier sends a buyer who quits.
 */
export type WapPayRequest = PagePayRequest & { quitUrl: string };

/** Which cashier a pay URL opens: the computer one (page pay) or the phone one (wap pay). */
export type PayChannel = "page" | "wap";

export type AlipayClient = ReturnType<typeof createAlipayClient>;

// Parameters the SDK puts in the URL query; the rest (biz_content, alipay_sdk…) go in the POST body
// (alipay-sdk's formatUrl and the Java SDK's AbstractAlipayClient.getRequestUrl; docs/alipay-protocol.md §1.4).
const URL_PARAMS = new Set([
  "app_id", "method", "format", "charset", "sign_type", "sign", "timestamp", "version",
  "notify_url", "return_url", "auth_token", "app_auth_token", "app_cert_sn", "alipay_root_cert_sn", "ws_service_url",
]);

const OUT_REQUEST_NO = /^[A-Za-z0-9_-]{1,64}$/;

// Gateway outcomes that do not say whether the operation happened (docs/alipay-protocol.md §5).
const UNKNOWN_CODES = new Set(["20000", "40005"]);
const UNKNOWN_SUB_CODES = new Set(["ACQ.SYSTEM_ERROR", "isp.unknow-error", "aop.unknow-error", "isp.unknown-error"]);

/**
 * Real gateways sometimes prefix a business sub_code with "aop." (aop.ACQ.SYSTEM_ERROR,
 * aop.ACQ.TRADE_NOT_EXIST): same meaning as the unprefixed code. Only the ACQ/isv/isp namespaces are
 * unwrapped; aop's own codes (aop.unknow-error, aop.invalid-auth-token…) stay as they are.
 */
export function normalizeSubCode(subCode: string): string {
  return /^aop\.(ACQ|isv|isp)\./.test(subCode) ? subCode.slice(4) : subCode;
}

// What an operator should check when the gateway refuses a call without signing its answer. Alipay
// answers errors about the caller's identity unsigned (e.g. 40002 isv.invalid-app-id, public reports:
// github.com/fzlee/alipay/issues/20, github.com/shadowsocks/shadowsocks-manager/issues/139).
const REFUSAL_HINTS: Record<string, string> = {
  "isv.invalid-app-id": "ALIPAY_APP_ID is not an app of this gateway (sandbox app id on the production gateway, or the reverse?)",
  "isv.missing-app-id": "ALIPAY_APP_ID is empty",
  "isv.invalid-signature": "the app public key uploaded to Alipay does not match ALIPAY_APP_PRIVATE_KEY (key not uploaded, or another app's key)",
  "isv.missing-signature-config": "no app public key or certificate is set up for this app and sign type at Alipay (upload it in the open-platform console)",
  "isv.missing-app-cert-sn": "the app is in certificate mode: set ALIPAY_APP_CERT_FILE, ALIPAY_CERT_FILE and ALIPAY_ROOT_CERT_FILE instead of ALIPAY_PUBLIC_KEY_FILE",
  "isv.app-cert-not-exist": "ALIPAY_APP_CERT_FILE is not the app certificate Alipay issued for this app (download appCertPublicKey_<appid>.crt again)",
  "isv.invalid-app-cert-sn": "ALIPAY_APP_CERT_FILE is not the app certificate Alipay issued for this app",
  "isv.invalid-alipay-root-cert-sn": "ALIPAY_ROOT_CERT_FILE is not Alipay's root certificate bundle (alipayRootCert.crt)",
  "isv.missing-alipay-root-cert-sn": "certificate mode needs ALIPAY_ROOT_CERT_FILE",
  "isv.insufficient-isv-permissions": "the app has not been granted this API: sign the product (e.g. 电脑网站支付) for the app",
};

function refusalHint(code: string, subCode: string): string {
  return REFUSAL_HINTS[subCode] ?? (code === "40006" ? "the app lacks the permission for this API" : "check ALIPAY_APP_ID, the keys or certificates, and ALIPAY_GATEWAY");
}

// ---- response node schemas (the Java SDK's Alipay*Response models, docs/alipay-protocol.md §5) ----
const optionalAmount = optional(fenFromYuan);
const optionalString = optional(z.string());
const optionalTime = optional(beijingTime);

const tradeQuerySchema = z
  .object({
    trade_no: z.string().min(1),
    out_trade_no: z.string().min(1),
    trade_status: z.enum(TRADE_STATUSES),
    total_amount: fenFromYuan,
    buyer_pay_amount: optionalAmount,
    receipt_amount: optionalAmount,
    buyer_user_id: optionalString,
    buyer_open_id: optionalString,
    buyer_logon_id: optionalString,
    send_pay_date: optionalTime,
  })
  .transform((n): TradeQueryOk => ({
    tradeNo: n.trade_no,
    outTradeNo: n.out_trade_no,
    tradeStatus: n.trade_status,
    totalFen: n.total_amount,
    buyerPayFen: n.buyer_pay_amount,
    receiptFen: n.receipt_amount,
    buyerId: n.buyer_user_id ?? n.buyer_open_id,
    buyerLogonId: n.buyer_logon_id,
    sendPayDate: n.send_pay_date,
  }));

const tradeCloseSchema = z
  .object({ trade_no: optionalString, out_trade_no: optionalString })
  .transform((n): TradeCloseOk => ({ tradeNo: n.trade_no, outTradeNo: n.out_trade_no }));

const refundSchema = z
  .object({
    trade_no: z.string().min(1),
    out_trade_no: z.string().min(1),
    refund_fee: fenFromYuan,
    fund_change: z.enum(["Y", "N"]),
    gmt_refund_pay: optionalTime,
  })
  .transform((n): RefundOk => ({
    tradeNo: n.trade_no,
    outTradeNo: n.out_trade_no,
    refundedTotalFen: n.refund_fee,
    fundChange: n.fund_change === "Y",
    gmtRefundPay: n.gmt_refund_pay,
  }));

const refundQuerySchema = z
  .object({
    trade_no: optionalString,
    out_trade_no: optionalString,
    out_request_no: optionalString,
    // Empty counts as absent (Alipay's rule: refund data with an empty refund_status is a success);
    // refusing "" would leave such a refund "unknown" at every query, for ever.
    refund_status: optional(z.enum(["REFUND_SUCCESS", "REFUND_PROCESSING", "REFUND_FAIL"])),
    refund_amount: optionalAmount,
    total_amount: optionalAmount,
  })
  .transform((n): RefundQueryOk => {
    const found = n.refund_amount !== null;
    return {
      outTradeNo: n.out_trade_no,
      tradeNo: n.trade_no,
      outRequestNo: n.out_request_no,
      refundStatus: found ? (n.refund_status ?? "REFUND_SUCCESS") : null,
      refundFen: n.refund_amount,
      totalFen: n.total_amount,
      statusImplied: found && n.refund_status === null,
    };
  });

const billDownloadUrlSchema = z
  .object({ bill_download_url: z.string().min(1).max(2048) })
  .transform((n): BillDownloadUrlOk => ({ billDownloadUrl: n.bill_download_url }));

const envelopeSchema = z.object({
  code: z.string(),
  msg: z.string().optional(),
  sub_code: z.string().optional(),
  sub_msg: z.string().optional(),
});

function assertArg(ok: boolean, message: string): void {
  if (!ok) throw new TypeError(message);
}

function assertHttpUrl(value: string, name: string): void {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // fall through
  }
  assertArg(url !== null && (url.protocol === "http:" || url.protocol === "https:"), `${name} must be an http(s) URL`);
}

class GatewayTimeout extends Error {}

// Connections to the gateway are kept open between calls (one TLS handshake, not one per query).
// node:http rather than fetch: undici's Request/Response and web streams were ~12 % of a
// reconciling worker's CPU profile (docs/benchmarks.md), for a form POST and a short answer.
// An idle connection is closed after 4 s, before a server's usual 5 s keep-alive timeout, so a
// call does not go out on a socket the gateway is closing (an "unknown" outcome for nothing).
const keepAlive = { keepAlive: true, maxSockets: 256, scheduling: "lifo", timeout: 4000 } as const;
const gatewayAgents = { "http:": new HttpAgent(keepAlive), "https:": new HttpsAgent(keepAlive) };

/**
 * POST a form to `path` (with its query) on the gateway's host; the status, Content-Type and body bytes. Rejects with GatewayTimeout
 * when the whole exchange (connect to last byte) takes more than `timeoutMs`, else with the
 * socket's error (its `code`: ECONNREFUSED, ECONNRESET…).
 */
function gatewayPost(gateway: URL, path: string, body: string, timeoutMs: number): Promise<{ status: number; contentType: string | undefined; bytes: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const https = gateway.protocol === "https:";
    const send = https ? httpsRequest : httpRequest;
    const req = send({
      protocol: gateway.protocol,
      // URL keeps IPv6 literals bracketed; the socket wants the bare address.
      hostname: gateway.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: gateway.port || (https ? 443 : 80),
      path,
      ...(gateway.username ? { auth: `${decodeURIComponent(gateway.username)}:${decodeURIComponent(gateway.password)}` } : {}),
      method: "POST",
      agent: gatewayAgents[gateway.protocol as "http:" | "https:"],
      headers: { "content-type": "application/x-www-form-urlencoded;charset=utf-8", accept: "application/json", "content-length": Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"], bytes: Buffer.concat(chunks) });
      });
      res.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      // The connection closed before the whole answer arrived (no 'end').
      res.on("close", () => {
        if (res.complete) return;
        clearTimeout(timer);
        reject(Object.assign(new Error("the gateway closed the connection mid-answer"), { code: "ECONNRESET" }));
      });
    });
    const timer = setTimeout(() => req.destroy(new GatewayTimeout()), timeoutMs);
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

export function createAlipayClient(cfg: AlipayClientConfig) {
  assertArg(typeof cfg.appId === "string" && cfg.appId !== "", "appId is required");
  assertHttpUrl(cfg.gatewayUrl, "gatewayUrl");
  const signType: SignType = cfg.signType ?? "RSA2";
  const timeoutMs = cfg.timeoutMs;
  assertArg(Number.isSafeInteger(timeoutMs) && timeoutMs > 0, "timeoutMs must be a positive integer");
  const now = cfg.now ?? (() => new Date());
  // Parse now so a bad key fails at startup (KeyError), not on the first payment.
  toPrivateKey(cfg.appPrivateKey);
  toPublicKey(cfg.alipayPublicKey);
  const certParams: Record<string, string> = cfg.certs
    ? { appCertSn: certSerialNumber(cfg.certs.appCert), alipayRootCertSn: rootCertSerialNumber(cfg.certs.alipayRootCert) }
    : {};
  const certBook = cfg.certs?.alipayCert
    ? createAlipayCertBook({
        alipayCert: cfg.certs.alipayCert,
        alipayRootCert: cfg.certs.alipayRootCert,
        store: cfg.certStore,
        download: downloadAlipayCert,
        logger: cfg.logger,
        onRotation: cfg.onCertRotation,
      })
    : null;

  /** The key that verifies a message naming `sn` as its alipay_cert_sn (key mode: the one key). */
  async function alipayKeyFor(sn: string | undefined): Promise<KeyLookup> {
    if (!certBook) return { ok: true, key: cfg.alipayPublicKey, sn: sn ?? "" };
    return certBook.keyFor(sn);
  }

  /**
   * alipay.open.app.alipaycert.download: the certificate for an SN, as base64 of its PEM. Trust comes
   * from the chain to the configured root (checked by the cert book), not from this answer's signature,
   * which may be made with either the old or the new certificate; both are accepted.
   */
  async function downloadAlipayCert(sn: string): Promise<{ ok: true; pem: string } | { ok: false; reason: string }> {
    const method = "alipay.open.app.alipaycert.download";
    const posted = await post(method, { alipay_cert_sn: sn });
    if ("kind" in posted) return { ok: false, reason: posted.reason };
    const extracted = extractResponseNode(posted.raw, method);
    const refused = unsignedRefusal(extracted);
    if (refused) return { ok: false, reason: refused.reason };
    if (!extracted.ok) return { ok: false, reason: `${extracted.code}: ${extracted.message}` };
    const node = extracted.node as { code?: string; sub_code?: string; alipay_cert_content?: unknown };
    if (node.code !== "10000" || typeof node.alipay_cert_content !== "string") {
      return { ok: false, reason: `gateway answered ${node.code ?? "?"} ${node.sub_code ?? ""}`.trim() };
    }
    const content = node.alipay_cert_content.trim();
    const pem = content.includes("BEGIN CERTIFICATE") ? content : Buffer.from(content, "base64").toString("utf8");
    let newKey: string | null = null;
    try {
      newKey = publicKeyPem(pem);
    } catch {
      return { ok: false, reason: "alipay_cert_content is not a certificate" };
    }
    const signedOk = [newKey, cfg.alipayPublicKey].some((k) => verifyExtracted(extracted, k, { signType, charset: posted.charset }).valid);
    if (!signedOk) return { ok: false, reason: "the download answer's signature does not verify with the old or the new certificate" };
    return { ok: true, pem };
  }

  const sdk = new AlipaySdk({
    appId: cfg.appId,
    // The SDK re-wraps keys by stripping lines that mention the PEM label; normalised PEM (no
    // trailing newline) is the form its formatKey handles for every input shape we accept.
    privateKey: privateKeyPem(cfg.appPrivateKey).trim(),
    keyType: "PKCS8",
    alipayPublicKey: publicKeyPem(cfg.alipayPublicKey).trim(),
    gateway: cfg.gatewayUrl,
    signType,
    timeout: timeoutMs,
    camelcase: false,
  });
  // The SDK signs with `createSign(…).sign(config.privateKey)`, and config.privateKey is the PEM text:
  // Node parses the key again on every request (~0.7 ms of CPU per call here, more than the RSA
  // operation itself). Node's Sign accepts a parsed KeyObject in the same place, and the signature
  // is the same bytes (PKCS#1 v1.5 is deterministic): hand the SDK the cached one. Set after the
  // constructor, which only formats strings (and copies its config with camelcase-keys).
  (sdk.config as { privateKey: unknown }).privateKey = toPrivateKey(cfg.appPrivateKey);

  /** Common request params the SDK would otherwise fill badly: Beijing-time timestamp, cert SNs. */
  const commonParams = () => ({ timestamp: formatBeijingTime(now()), ...certParams });

  /** biz_content shared by page pay and wap pay; validates the request (TypeError on a programming error). */
  function checkoutBiz(req: PagePayRequest, productCode: string): Record<string, string> {
    assertArg(OUT_TRADE_NO.test(req.outTradeNo), "outTradeNo: 1-64 letters, digits or underscores");
    assertArg(Number.isSafeInteger(req.totalFen) && req.totalFen >= 1 && req.totalFen <= MAX_TOTAL_FEN, "totalFen must be an integer in [1, 10000000000]");
    assertArg(typeof req.subject === "string" && req.subject.trim() !== "" && req.subject.length <= 256, "subject: 1-256 characters");
    assertArg(req.expiresAt instanceof Date && !Number.isNaN(req.expiresAt.getTime()), "expiresAt must be a valid Date");
    assertHttpUrl(req.returnUrl, "returnUrl");
    assertHttpUrl(req.notifyUrl, "notifyUrl");
    const bizContent: Record<string, string> = {
      out_trade_no: req.outTradeNo,
      product_code: productCode,
      total_amount: fenToYuan(req.totalFen),
      subject: req.subject,
      // Absolute expiry; format per docs/alipay-protocol.md §2, §8.2 (yyyy-MM-dd HH:mm:ss, Beijing time).
      time_expire: formatBeijingTime(req.expiresAt),
    };
    if (req.body) bizContent.body = req.body;
    if (req.passbackParams !== undefined) bizContent.passback_params = encodeURIComponent(req.passbackParams);
    return bizContent;
  }

  function browserUrl(method: string, bizContent: Record<string, string>, req: PagePayRequest): string {
    return sdk.pageExecute(method, "GET", {
      ...commonParams(),
      bizContent,
      returnUrl: req.returnUrl,
      notifyUrl: req.notifyUrl,
    });
  }

  /** alipay.trade.page.pay: the computer cashier (QR code or account login). */
  function pagePayUrl(req: PagePayRequest): string {
    return browserUrl("alipay.trade.page.pay", checkoutBiz(req, "FAST_INSTANT_TRADE_PAY"), req);
  }

  /** alipay.trade.wap.pay: the phone cashier; same order, same notify and return as page pay. */
  function wapPayUrl(req: WapPayRequest): string {
    assertHttpUrl(req.quitUrl, "quitUrl");
    return browserUrl("alipay.trade.wap.pay", { ...checkoutBiz(req, "QUICK_WAP_WAY"), quit_url: req.quitUrl }, req);
  }

  /** One signed call; resolves to the verified response node or a non-ok outcome. Never rejects. */
  async function call(method: string, bizContent: Record<string, string>): Promise<{ node: Record<string, unknown> } | BusinessError | UnknownOutcome> {
    const started = Date.now();
    const outcome = await send(method, bizContent);
    cfg.logger?.debug(
      { method, outTradeNo: bizContent.out_trade_no, kind: "node" in outcome ? "ok" : outcome.kind, ms: Date.now() - started },
      "alipay call",
    );
    if ("kind" in outcome && outcome.kind === "unknown" && outcome.reason.startsWith("Alipay refused the call")) {
      cfg.logger?.error({ method, outTradeNo: bizContent.out_trade_no, reason: outcome.reason }, "alipay refused the call: check the configuration");
    } else if ("kind" in outcome && outcome.kind === "unknown") {
      cfg.logger?.warn({ method, outTradeNo: bizContent.out_trade_no, reason: outcome.reason }, "alipay call outcome unknown");
    }
    return outcome;
  }

  // A server call's parameters, assembled and signed as alipay-sdk's sdkExecute does it (its sign():
  // method, app_id, charset utf-8, version 1.0, sign_type, timestamp, the certificate SNs, biz_content
  // as JSON; the request rule's string-to-sign), without its per-call key-case conversions
  // (camelcase-keys, then snakecase-keys of every parameter: ~6 % of a reconciling worker's CPU,
  // docs/benchmarks.md) and without re-parsing its query string. test/unit/alipay/client.test.ts
  // asserts the parameters and signature equal sdkExecute's for every server method, in key and
  // certificate mode. Page-pay URLs still come from the SDK's pageExecute.
  const fixedParams: Record<string, string> = {
    app_id: cfg.appId,
    charset: "utf-8",
    version: "1.0",
    sign_type: signType,
    ...(cfg.certs ? { app_cert_sn: certParams.appCertSn!, alipay_root_cert_sn: certParams.alipayRootCertSn! } : {}),
  };
  // Parsed once; each call only appends its query string to the gateway's path.
  const gateway = new URL(cfg.gatewayUrl);
  const gatewayPathAndQuery = `${gateway.pathname}${gateway.search ? `${gateway.search}&` : "?"}`;

  function signedRequest(method: string, bizContent: Record<string, string>): { path: string; body: string } {
    const params: Record<string, string> = { method, ...fixedParams, timestamp: formatBeijingTime(now()), biz_content: JSON.stringify(bizContent) };
    params.sign = signParams(params, cfg.appPrivateKey, signType, "request");
    const query = new URLSearchParams();
    const body = new URLSearchParams();
    for (const k in params) (URL_PARAMS.has(k) ? query : body).append(k, params[k]!);
    return { path: `${gatewayPathAndQuery}${query.toString()}`, body: body.toString() };
  }

  /** The signed POST; the raw answer decoded by its declared charset, or why there is none. */
  async function post(method: string, bizContent: Record<string, string>): Promise<{ raw: string; charset: Charset } | UnknownOutcome> {
    let request: { path: string; body: string };
    try {
      request = signedRequest(method, bizContent);
    } catch (err) {
      return { kind: "unknown", reason: `request_not_built: ${(err as Error).message}` };
    }

    let raw: string;
    let charset: Charset = "utf-8";
    try {
      const res = await gatewayPost(gateway, request.path, request.body, timeoutMs);
      if (res.status !== 200) return { kind: "unknown", reason: `http_status: gateway answered HTTP ${res.status}` };
      // Answers come in the app's charset (GBK for older apps), declared in the Content-Type.
      const declared = contentTypeCharset(res.contentType);
      const known = normalizeCharset(declared);
      if (known === null) return { kind: "unknown", reason: `charset: response declares unsupported charset ${declared}` };
      charset = known;
      try {
        raw = decodeText(res.bytes, charset);
      } catch {
        return { kind: "unknown", reason: `charset: response body is not ${charset}` };
      }
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e instanceof GatewayTimeout) return { kind: "unknown", reason: `timeout: no response within ${timeoutMs} ms` };
      return { kind: "unknown", reason: `network: ${e.code ?? e.message}` };
    }
    return { raw, charset };
  }

  async function send(method: string, bizContent: Record<string, string>): Promise<{ node: Record<string, unknown> } | BusinessError | UnknownOutcome> {
    const posted = await post(method, bizContent);
    if ("kind" in posted) return posted;
    const { raw, charset } = posted;
    // The body is cut once: the refusal check, the certificate SN and the verification all read it.
    const extracted = extractResponseNode(raw, method);
    const refused = unsignedRefusal(extracted);
    if (refused) return refused;
    // Certificate mode: the answer names the Alipay certificate that signed it (rotation, certs.ts).
    const key = await alipayKeyFor(extracted.ok ? nonEmptyString(extracted.body.alipay_cert_sn) : undefined);
    if (!key.ok) return { kind: "unknown", reason: key.reason };
    const verified = extracted.ok ? verifyExtracted(extracted, key.key, { signType, charset }) : verifyFailure(extracted.code, extracted.message);
    if (!extracted.ok || !verified.valid) {
      return { kind: "unknown", reason: `bad_response_signature: ${verified.reason}${unverifiedHint(extracted)}` };
    }
    const node = extracted.node;
    const envelope = envelopeSchema.safeParse(node);
    if (!envelope.success) return { kind: "unknown", reason: "malformed_response: response node has no code" };
    const { code, msg = "", sub_code: rawSubCode = "", sub_msg: subMsg = "" } = envelope.data;
    const subCode = normalizeSubCode(rawSubCode);
    if (code === "10000") return { node: node as Record<string, unknown> };
    // Signed refusals of our configuration (certificate mode's 40002 isv.missing-app-cert-sn,
    // isv.app-cert-not-exist, isv.invalid-alipay-root-cert-sn… are signed): the call was not
    // executed, nothing about the trade is said. Reported with the hint, as an unknown outcome, so
    // the operation is retried once the configuration is fixed rather than recorded as failed.
    if (/^400(01|02|03|06)$/.test(code) && Object.hasOwn(REFUSAL_HINTS, subCode)) {
      return { kind: "unknown", reason: `Alipay refused the call: ${code} ${subCode} (signed answer)${subMsg ? ` (${subMsg.slice(0, 200)})` : ""}; hint: ${refusalHint(code, subCode)}` };
    }
    // Other 1xxxx codes (10003 "processing") are not a final answer for these APIs either.
    if (UNKNOWN_CODES.has(code) || UNKNOWN_SUB_CODES.has(subCode) || /^1\d{4}$/.test(code)) {
      return { kind: "unknown", reason: `gateway_${code}: ${subCode || msg} ${subMsg}`.trim() };
    }
    return { kind: "business_error", code, msg, subCode, subMsg };
  }

  async function typed<T>(method: string, bizContent: Record<string, string>, schema: z.ZodType<T>): Promise<GatewayResult<T>> {
    const outcome = await call(method, bizContent);
    if (!("node" in outcome)) return outcome;
    const parsed = schema.safeParse(outcome.node);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      return { kind: "unknown", reason: `malformed_response: ${issues}` };
    }
    return { kind: "ok", ...parsed.data };
  }

  const requireOutTradeNo = (outTradeNo: string) =>
    assertArg(typeof outTradeNo === "string" && outTradeNo.length >= 1 && outTradeNo.length <= 64, "outTradeNo: 1-64 characters");

  return {
    appId: cfg.appId,
    /** For notify/return verification: the Alipay key for a callback's alipay_cert_sn (certificate mode rotation). */
    alipayKeyFor,
    /** Certificate mode: the SNs this client sends and trusts, for the doctor. */
    certMode: cfg.certs ? { appCertSn: certParams.appCertSn!, alipayRootCertSn: certParams.alipayRootCertSn!, alipayCertSn: certBook?.configuredSn ?? null } : null,
    sellerId: cfg.sellerId,
    gatewayUrl: cfg.gatewayUrl,
    pagePayUrl,
    wapPayUrl,

    /** alipay.trade.query by out_trade_no. 40004 ACQ.TRADE_NOT_EXIST: the buyer never reached the cashier. */
    async queryTrade(outTradeNo: string): Promise<GatewayResult<TradeQueryOk>> {
      requireOutTradeNo(outTradeNo);
      return typed("alipay.trade.query", { out_trade_no: outTradeNo }, tradeQuerySchema);
    },

    /** alipay.trade.close: only WAIT_BUYER_PAY trades close; ACQ.TRADE_NOT_EXIST means nothing to close. */
    async closeTrade(outTradeNo: string): Promise<GatewayResult<TradeCloseOk>> {
      requireOutTradeNo(outTradeNo);
      return typed("alipay.trade.close", { out_trade_no: outTradeNo }, tradeCloseSchema);
    },

    /** alipay.trade.refund. Retry an unknown outcome with the SAME outRequestNo (docs/alipay-protocol.md §5.3). */
    async refund(req: { outTradeNo: string; refundFen: number; outRequestNo: string; reason?: string }): Promise<GatewayResult<RefundOk>> {
      requireOutTradeNo(req.outTradeNo);
      assertArg(Number.isSafeInteger(req.refundFen) && req.refundFen >= 1 && req.refundFen <= MAX_TOTAL_FEN, "refundFen must be a positive integer");
      assertArg(OUT_REQUEST_NO.test(req.outRequestNo), "outRequestNo: 1-64 letters, digits, '_' or '-'");
      const biz: Record<string, string> = {
        out_trade_no: req.outTradeNo,
        refund_amount: fenToYuan(req.refundFen),
        out_request_no: req.outRequestNo,
      };
      if (req.reason) biz.refund_reason = req.reason;
      return typed("alipay.trade.refund", biz, refundSchema);
    },

    /**
     * alipay.data.dataservice.bill.downloadurl.query (docs/bills.md). 40004 isp.bill_not_exist: no
     * bill (yet) for that date — a business_error the caller interprets (core/bills).
     */
    async billDownloadUrl(req: { billType: "trade" | "signcustomer"; billDate: string }): Promise<GatewayResult<BillDownloadUrlOk>> {
      assertArg(/^\d{4}-\d{2}(-\d{2})?$/.test(req.billDate), "billDate: yyyy-MM-dd or yyyy-MM");
      return typed("alipay.data.dataservice.bill.downloadurl.query", { bill_type: req.billType, bill_date: req.billDate }, billDownloadUrlSchema);
    },

    /** alipay.trade.fastpay.refund.query. */
    async refundQuery(req: { outTradeNo: string; outRequestNo: string }): Promise<GatewayResult<RefundQueryOk>> {
      requireOutTradeNo(req.outTradeNo);
      assertArg(OUT_REQUEST_NO.test(req.outRequestNo), "outRequestNo: 1-64 letters, digits, '_' or '-'");
      return typed("alipay.trade.fastpay.refund.query", { out_trade_no: req.outTradeNo, out_request_no: req.outRequestNo }, refundQuerySchema);
    },
  };
}

/** A top-level member of the body (e.g. alipay_cert_sn) when it is a non-empty string, else undefined. */
function nonEmptyString(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * An error answer without a signature (no "sign", or "sign":""): Alipay refused the call before it
 * would sign for us, typically a configuration problem on our side. Reported with a hint, and still an
 * "unknown" outcome: an unsigned body is never evidence about a trade.
 */
function unsignedRefusal(extracted: ExtractedNode | ExtractionFailure): UnknownOutcome | null {
  if (!extracted.ok || (extracted.sign !== null && extracted.sign !== "")) return null;
  const node = envelopeSchema.safeParse(extracted.node);
  if (!node.success || node.data.code === "10000") return null;
  const code = node.data.code;
  const subCode = normalizeSubCode(node.data.sub_code ?? "");
  const said = node.data.sub_msg ? ` (${node.data.sub_msg.slice(0, 200)})` : "";
  return {
    kind: "unknown",
    reason: `Alipay refused the call: ${code} ${subCode || node.data.msg || ""} (unsigned answer)${said}; hint: ${refusalHint(code, subCode)}`,
  };
}

// For operators: what an unverifiable response claimed (e.g. 40002 isv.invalid-signature, whose
// sub_msg shows the gateway's string-to-sign). Marked unverified; never acted upon.
function unverifiedHint(extracted: ExtractedNode | ExtractionFailure): string {
  if (!extracted.ok) return "";
  const node = envelopeSchema.safeParse(extracted.node);
  if (!node.success) return "";
  const { code, sub_code, sub_msg } = node.data;
  return ` (unverified response said: code=${code}${sub_code ? ` sub_code=${sub_code}` : ""}${sub_msg ? ` sub_msg=${sub_msg.slice(0, 300)}` : ""})`;
}
