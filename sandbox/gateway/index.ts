import { raw, Router, urlencoded, type Response } from "express";
import type { Logger } from "pino";
import { responseKeyFor } from "../../core/alipay/response.ts";
import { CASHIER_PREFIX, renderGatewayErrorPage, renderLogin } from "../cashier.ts";
import type { FaultStore } from "../faults.ts";
import type { SandboxSigner } from "../signing.ts";
import type { Buyer, TradeService } from "../trades.ts";
import type { SandboxApiMethod } from "../types.ts";
import type { BillDesk } from "../bill/desk.ts";
import { billDownloadUrlQuery } from "./bill-download.ts";
import { alipayCertDownload } from "./cert-download.ts";
import { tradeClose } from "./close.ts";
import type { AnyApiHandler, ApiContext } from "./common.ts";
import iconv from "iconv-lite";
import { business, GatewayError, invalid, unknownResultError, unsignedError, type ResponseNode } from "./errors.ts";
import { FormParseError, parseFormBody } from "../../core/alipay/form.ts";
import { BIZ_OF, checkoutOf, isBrowserMethod, type BrowserMethod } from "./checkout.ts";
import { tradeQuery } from "./query.ts";
import { tradeRefundQuery } from "./refund-query.ts";
import { tradeRefund } from "./refund.ts";
import { checkPublicParams, knownMethod, parseBiz, readParams } from "./request.ts";

// POST|GET /gateway.do — the one endpoint of Alipay's OpenAPI v2. Public parameters and signature are
// checked for every method, then the method's handler answers. Server-to-server answers are always
// HTTP 200 with a signed JSON body, errors included (docs/alipay-protocol.md §1.6: error responses are signed too;
// the official SDK treats any non-200 status as a transport failure). page.pay and wap.pay answer with
// HTML: the cashier's login step (checkout.ts); POST /sandbox/cashier/login is that step's form, which
// re-submits the same signed request and creates the trade.

const BROWSER_METHOD_IN_URL = /[?&]method=(alipay\.trade\.(?:page|wap)\.pay)(?:&|$)/;

const HANDLERS: Record<Exclude<SandboxApiMethod, BrowserMethod>, AnyApiHandler> = {
  "alipay.trade.query": tradeQuery,
  "alipay.trade.close": tradeClose,
  "alipay.trade.refund": tradeRefund,
  "alipay.trade.fastpay.refund.query": tradeRefundQuery,
  "alipay.data.dataservice.bill.downloadurl.query": billDownloadUrlQuery,
  "alipay.open.app.alipaycert.download": alipayCertDownload,
};

export interface GatewayDeps {
  trades: TradeService;
  faults: FaultStore;
  signer: SandboxSigner;
  appId: string;
  buyer: Buyer;
  log: Logger;
  /** responses held open by the `hang` fault; destroyed when the sandbox closes */
  hung: Set<Response>;
  bills?: BillDesk;
}

export function createGatewayRouter(deps: GatewayDeps): Router {
  const router = Router();
  const ctx: ApiContext = { trades: deps.trades, bills: deps.bills, faults: deps.faults, certs: deps.signer.certs };

  const sendJson = (res: Response, method: string | null, node: ResponseNode, opts: { corrupt?: boolean; unsigned?: GatewayError["unsigned"]; withoutCertSn?: boolean; scope?: string | null } = {}) => {
    const key = method ? responseKeyFor(method) : "error_response";
    const m = (method ?? undefined) as SandboxApiMethod | undefined;
    const scope = opts.scope ?? null;
    // aop.-prefixed business sub_codes, as real gateways sometimes answer (aopSubCodes fault).
    if (m && typeof node.sub_code === "string" && /^ACQ\./.test(node.sub_code) && deps.faults.take("aopSubCodes", scope, m)) {
      node = { ...node, sub_code: `aop.${node.sub_code}` };
    }
    const gbk = m !== undefined && deps.faults.take("gbkCharset", scope) !== undefined;
    const text = deps.signer.signResponse(key, node, { corruptSignature: opts.corrupt, unsigned: opts.unsigned, withoutCertSn: opts.withoutCertSn, charset: gbk ? "gbk" : "utf-8" });
    if (gbk) res.status(200).type("application/json; charset=GBK").send(iconv.encode(text, "gbk"));
    else res.status(200).type("application/json; charset=utf-8").send(text);
  };

  router.all("/gateway.do", raw({ type: () => true, limit: "1mb" }), (req, res) => {
    let method: string | null = null;
    let params: Record<string, string> | null = null;
    try {
      params = readParams(req);
      // Errors of a known method are answered under its own key (`<method>_response`), as Alipay does.
      method = knownMethod(params);
      const { method: m } = checkPublicParams(params, deps.appId, deps.signer);

      if (isBrowserMethod(m)) {
        const checkout = checkoutOf(params, m, parseBiz(params, BIZ_OF[m]), deps.trades);
        if (applyFaults(res, m, checkout.outTradeNo, () => undefined)) return;
        res.status(200).type("html").send(renderLogin(checkout, params, deps.buyer));
        return;
      }

      const handler = HANDLERS[m];
      const biz = parseBiz(params, handler.biz);
      const scope = handler.scope(biz, ctx);
      if (applyFaults(res, m, scope, () => handler.handle(biz, ctx))) return;
      const refusal = deps.faults.take("unsignedError", scope, m);
      if (refusal) {
        const err = refusal.error === "isv.missing-signature-config"
          ? new GatewayError("40003", "Insufficient Conditions", refusal.error, "应用未配置对应签名算法的公钥或者证书")
          : invalid(refusal.error, refusal.error === "isv.invalid-app-id" ? "无效的AppID参数" : "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配");
        unsignedError(err, refusal.emptySign ? "empty" : "absent");
        return sendJson(res, m, err.node(), { unsigned: err.unsigned, scope });
      }
      const corrupt = deps.faults.take("corruptResponseSignature", scope, m) !== undefined;
      sendJson(res, m, handler.handle(biz, ctx), { corrupt, scope });
    } catch (e) {
      if (!(e instanceof GatewayError)) {
        deps.log.error({ err: e, method }, "gateway handler crashed");
        e = new GatewayError("20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙");
      }
      const err = e as GatewayError;
      deps.log.info({ method, code: err.code, subCode: err.subCode }, "gateway error answer");
      // A browser opening a pay URL gets an error page, like Alipay's, instead of JSON.
      if (isBrowserMethod(params?.method ?? BROWSER_METHOD_IN_URL.exec(req.originalUrl)?.[1])) res.status(400).type("html").send(renderGatewayErrorPage(err));
      else sendJson(res, method, err.node(), { unsigned: err.unsigned, withoutCertSn: err.withoutCertSn, scope: scopeOfError(params) });
    }
  });

  // The cashier's login step: the buyer's account and password, and the pay request exactly as the
  // merchant signed it (a hidden field), checked again. Only now does the trade exist; the browser goes
  // on to the pay step of the cashier (cashier.ts).
  router.post(`${CASHIER_PREFIX}/login`, urlencoded({ extended: false, limit: "64kb" }), (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      const logonId = typeof body.logon_id === "string" ? body.logon_id.trim() : "";
      const password = typeof body.password === "string" ? body.password : "";
      if (typeof body.request !== "string") throw invalid("isv.invalid-parameter", "缺少支付请求 / the login form lost the pay request");
      const params = parseFormBody(body.request);
      const { method: m } = checkPublicParams(params, deps.appId, deps.signer);
      if (!isBrowserMethod(m)) throw invalid("isv.invalid-method", `收银台不支持 ${m}`);
      const checkout = checkoutOf(params, m, parseBiz(params, BIZ_OF[m]), deps.trades);
      if (logonId === "" || password === "") {
        return void res.status(400).type("html").send(renderLogin(checkout, params, deps.buyer, "请输入账户名和密码 / Enter the account name and password"));
      }
      const r = deps.trades.openAtLogin(checkout);
      if (!r.ok) throw business(r.subCode, r.subMsg);
      res.redirect(303, `${CASHIER_PREFIX}/${encodeURIComponent(r.value.tradeNo)}`);
    } catch (e) {
      if (!(e instanceof GatewayError)) {
        if (!(e instanceof FormParseError)) throw e;
        e = invalid("isv.invalid-parameter", `请求参数无法解析: ${e.message}`);
      }
      res.status(400).type("html").send(renderGatewayErrorPage(e as GatewayError));
    }
  });

  /**
   * hang / gatewayError faults. `commit` runs the operation before failing, for the nastiest unknown
   * outcome: the refund or close happened but the merchant never learned it. Returns true if answered.
   */
  function applyFaults(res: Response, method: SandboxApiMethod, scope: string | null, run: () => unknown): boolean {
    const hang = deps.faults.take("hang", scope, method);
    if (hang) {
      if (hang.commit) tryRun(run);
      deps.hung.add(res);
      res.on("close", () => deps.hung.delete(res));
      deps.log.info({ method, scope }, "gateway hanging (fault injection)");
      return true;
    }
    const error = deps.faults.take("gatewayError", scope, method);
    if (error) {
      if (error.commit) tryRun(run);
      sendJson(res, method, unknownResultError(error.error).node(), { scope });
      return true;
    }
    return false;
  }

  return router;
}

/** out_trade_no of a failed call, for per-trade faults on its error answer (best effort). */
function scopeOfError(params: Record<string, string> | null): string | null {
  try {
    const biz = JSON.parse(params?.biz_content ?? "{}") as { out_trade_no?: unknown };
    return typeof biz.out_trade_no === "string" ? biz.out_trade_no : null;
  } catch {
    return null;
  }
}

function tryRun(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
  }
}
