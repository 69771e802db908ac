import type { Request } from "express";
import { z } from "zod";
import { FormParseError, parseFormBody } from "../../core/alipay/form.ts";
import { isSignType, type SignType } from "../../core/alipay/signature.ts";
import { API_METHODS } from "../faults.ts";
import type { SandboxSigner } from "../signing.ts";
import type { SandboxApiMethod } from "../types.ts";
import { business, certRefusal, invalid, missing, unsignedError } from "./errors.ts";

// Reading a gateway.do request the way Alipay does (docs/alipay-protocol.md §1.4): system parameters in the query,
// biz_content (and the SDK's alipay_sdk) in the urlencoded body — or everything in one of them (page pay
// GET URLs, SDKs that post everything). Every value is decoded exactly once.

export interface GatewayRequest {
  params: Record<string, string>;
  method: SandboxApiMethod;
  signType: SignType;
}

/** Query + form body merged; a key in both places must carry the same value. */
export function readParams(req: Request): Record<string, string> {
  const q = req.originalUrl.indexOf("?");
  const query = q < 0 ? {} : parseOrThrow(req.originalUrl.slice(q + 1));
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const type = req.headers["content-type"] ?? "";
  const body = raw.length > 0 && (type === "" || type.includes("application/x-www-form-urlencoded")) ? parseOrThrow(raw) : {};
  const params: Record<string, string> = { ...query };
  for (const [k, v] of Object.entries(body)) {
    if (Object.hasOwn(query, k) && query[k] !== v) throw invalid("isv.invalid-parameter", `参数 ${k} 在 URL 和请求体中的值不一致`);
    Object.defineProperty(params, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return params;
}

function parseOrThrow(raw: string | Buffer): Record<string, string> {
  try {
    return parseFormBody(raw);
  } catch (e) {
    if (e instanceof FormParseError) throw invalid("isv.invalid-parameter", `请求参数无法解析: ${e.message}`);
    throw e;
  }
}

/** The method name from the params, when it is one this sandbox serves (for choosing the response key). */
export function knownMethod(params: Record<string, string>): SandboxApiMethod | null {
  const m = params.method;
  return (API_METHODS as readonly string[]).includes(m ?? "") ? (m as SandboxApiMethod) : null;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/**
 * The public-parameter checks and the signature check (docs/alipay-protocol.md §1.2, §2, §5),
 * in a fixed order: what is missing (40001) before what is wrong (40002), the app before the signature.
 * Throws GatewayError.
 */
export function checkPublicParams(params: Record<string, string>, appId: string, signer: SandboxSigner): GatewayRequest {
  const present = (k: string) => params[k] !== undefined && params[k] !== "";
  if (!present("method")) throw missing("isv.missing-method", "缺少方法名参数");
  const method = knownMethod(params);
  if (!method) throw invalid("isv.invalid-method", `不存在的方法名: ${params.method}`);
  if (!present("app_id")) throw unsignedError(missing("isv.missing-app-id", "缺少AppID参数"), "absent");
  if (!present("sign_type")) throw missing("isv.missing-signature-type", "缺少签名类型");
  if (!present("timestamp")) throw missing("isv.missing-timestamp", "缺少时间戳参数");
  if (!present("version")) throw missing("isv.missing-version", "缺少版本参数");
  if (!present("sign")) throw missing("isv.missing-signature", "缺少签名参数");
  if (present("charset") && !/^utf-?8$/i.test(params.charset!)) {
    // GBK/GB2312 are allowed by Alipay's docs but coursepay signs UTF-8 only (docs/alipay-protocol.md §1.4).
    throw invalid("isv.invalid-charset", `字符集错误: 沙箱只支持 utf-8 (got ${params.charset})`);
  }
  if (present("format") && params.format!.toUpperCase() !== "JSON") throw invalid("isv.invalid-format", "无效的数据格式");
  const signType = params.sign_type!;
  if (!isSignType(signType)) throw invalid("isv.invalid-signature-type", "无效的签名类型");
  if (!TIMESTAMP.test(params.timestamp!)) throw invalid("isv.invalid-timestamp", "非法的时间戳参数");
  if (params.version !== "1.0") throw invalid("isv.invalid-parameter", "版本号错误");
  if (params.app_id !== appId) throw unsignedError(invalid("isv.invalid-app-id", "无效的AppID参数"), "absent");
  if (signer.certs) checkCertParams(params, signer.certs);

  const verified = signer.verifyRequest(params, signType);
  if (!verified.valid) {
    // Like the real gateway, show the string it verified so the merchant can diff it against what it
    // signed (docs/alipay-protocol.md §5). The real sub_msg writes "&" as "&amp;" (alipay-sdk's comment in src/alipay.ts, https://github.com/alipay/alipay-sdk-nodejs-all/blob/e1676390871eb7a69b4f81aa15de8327ac15738a/src/alipay.ts);
    // only that escape is evidenced, so only that one is reproduced.
    throw unsignedError(invalid(
      "isv.invalid-signature",
      `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${verified.signedContent.replaceAll("&", "&amp;")}`,
    ), "empty");
  }
  return { params, method, signType };
}

/**
 * Certificate mode (docs/alipay-protocol.md §1.1): the app certificate named by app_cert_sn carries the
 * key the request is verified with, so these come before the signature. The root SN must be exactly
 * what the official SDKs compute: the RSA-signed certificates of the bundle only; a merchant that also
 * counts the bundle's non-RSA root sends a longer value and is refused, as a wrong root would be.
 */
function checkCertParams(params: Record<string, string>, certs: { appCertSn: string; rootCertSn: string }): void {
  const appCertSn = params.app_cert_sn ?? "";
  const rootCertSn = params.alipay_root_cert_sn ?? "";
  if (appCertSn === "") throw certRefusal("isv.missing-app-cert-sn", "缺少应用公钥证书序列号");
  if (appCertSn !== certs.appCertSn) throw certRefusal("isv.app-cert-not-exist", `应用公钥证书不存在: app_cert_sn=${appCertSn.slice(0, 64)}`);
  if (rootCertSn === "") throw certRefusal("isv.missing-alipay-root-cert-sn", "缺少支付宝根证书序列号");
  if (rootCertSn !== certs.rootCertSn) throw certRefusal("isv.invalid-alipay-root-cert-sn", `支付宝根证书序列号无效: alipay_root_cert_sn=${rootCertSn.slice(0, 200)}`);
}

/** biz_content as JSON, validated by the method's schema; failures are 40004 ACQ.INVALID_PARAMETER. */
export function parseBiz<T>(params: Record<string, string>, schema: z.ZodType<T>): T {
  const raw = params.biz_content;
  if (raw === undefined || raw === "") throw business("ACQ.INVALID_PARAMETER", "参数无效: 缺少 biz_content");
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw business("ACQ.INVALID_PARAMETER", "参数无效: biz_content 不是合法的 JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join(".") || "biz_content";
    throw business("ACQ.INVALID_PARAMETER", `参数无效: ${path} ${issue.message}`);
  }
  return parsed.data;
}

