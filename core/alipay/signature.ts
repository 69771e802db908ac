// Alipay OpenAPI v2 signatures (docs/alipay-protocol.md §1): PKCS#1 v1.5 over the UTF-8 bytes of a
// string-to-sign, SHA-256 for "RSA2", SHA-1 for legacy "RSA", standard base64.
//
// Three string-to-sign rules exist and mixing them up is the classic integration bug:
// - request (§1.2): every parameter except `sign`; `sign_type` IS included; empty values dropped.
// - V1 (§1.5): notify and return callbacks: drop `sign` AND `sign_type`.
// - V2 (§1.5): messages to the 应用网关 (open-platform events): drop only `sign`.
// Responses (§1.6) sign the raw JSON text of the response node instead: see response.ts.
import crypto from "node:crypto";
import { encodeText, normalizeCharset, type Charset } from "./charset.ts";
import { KeyError, signatureLength, toPrivateKey, toPublicKey, type KeyInput } from "./keys.ts";
import { extractResponseNode, type ExtractedNode } from "./response.ts";

export type { KeyInput } from "./keys.ts";
export type SignType = "RSA2" | "RSA";

/**
 * `reason` is a machine-readable code, then ": " and human text ("ok" alone when valid). The code is
 * what callers branch on and count in metrics (see reasonCode); the text is what support reads.
 */
export type VerifyResult = { valid: boolean; reason: string; signedContent: string };

export type VerifyReasonCode =
  | "ok"
  | "missing_sign"
  | "missing_field"
  | "bad_base64"
  | "sign_length_mismatch"
  | "wrong_key_or_tampered"
  | "unsupported_sign_type"
  | "bad_key"
  | "charset"
  | "malformed_json"
  | "malformed_body"
  | "duplicate_node"
  | "response_node_not_found";

/** The code part of a VerifyResult reason ("wrong_key_or_tampered: ..." → "wrong_key_or_tampered"). */
export function reasonCode(reason: string): VerifyReasonCode {
  return reason.split(":", 1)[0]!.trim() as VerifyReasonCode;
}

export function verifyFailure(code: Exclude<VerifyReasonCode, "ok">, text: string, signedContent = ""): VerifyResult {
  return { valid: false, reason: `${code}: ${text}`, signedContent };
}

const ALGORITHM: Record<SignType, string> = { RSA2: "sha256", RSA: "sha1" };

export function isSignType(value: unknown): value is SignType {
  return value === "RSA2" || value === "RSA";
}

/**
 * The string-to-sign: keys sorted, `k=v` joined with `&`, values raw (never URL-encoded).
 * Sorting uses JavaScript's default UTF-16 code-unit order, which is what Alipay's Java SDK
 * (Collections.sort on String) and the Node SDK (Object.keys().sort()) do; for the ASCII keys Alipay
 * uses it equals byte order. Empty keys are always dropped (Java: areNotEmpty(key, value); Node SDK:
 * filter on keys). `dropEmpty` (default true) also drops empty values, as Java's getSignContent does.
 */
export function buildSignContent(
  params: Record<string, string>,
  opts: { exclude?: string[]; dropEmpty?: boolean } = {},
): string {
  const exclude = new Set(opts.exclude ?? []);
  const dropEmpty = opts.dropEmpty ?? true;
  return Object.keys(params)
    .filter((k) => k !== "" && !exclude.has(k) && !(dropEmpty && params[k] === ""))
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join("&");
}

/** Base64 PKCS#1 v1.5 signature of the UTF-8 bytes of `content`. Throws KeyError on an unusable key. */
export function signContent(content: string, privateKey: KeyInput, signType: SignType = "RSA2", charset: Charset = "utf-8"): string {
  if (!isSignType(signType)) throw new TypeError(`unsupported sign type ${String(signType)}`);
  return crypto.sign(ALGORITHM[signType], encodeText(content, charset), toPrivateKey(privateKey)).toString("base64");
}

/** Exclusions per rule; see the header of this file. */
const RULE_EXCLUDES = { request: ["sign"], V1: ["sign", "sign_type"], V2: ["sign"] } as const;

/**
 * Sign a parameter set. rule "request" (merchant → gateway, keeps sign_type) or "V1" (what the gateway
 * does for notify/return; used by the sandbox emulator). `signType` defaults to the params' own
 * `sign_type` when that is RSA/RSA2, else RSA2.
 */
export function signParams(
  params: Record<string, string>,
  privateKey: KeyInput,
  signType?: SignType,
  rule: "request" | "V1" = "request",
): string {
  const type = signType ?? (isSignType(params.sign_type) ? params.sign_type : "RSA2");
  return signContent(buildSignContent(params, { exclude: [...RULE_EXCLUDES[rule]] }), privateKey, type);
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Check `sign` against each candidate string-to-sign in order. All candidates are attempted with the
 * same key and algorithm; the first that verifies wins. The failure result carries the first
 * candidate (the canonical rule) so support can diff it against what the sender signed.
 */
export function verifyCandidates(
  candidates: string[],
  sign: string | undefined,
  publicKey: KeyInput,
  signType: SignType,
  /** The charset the signer encoded the content in (the message's declared charset). */
  charset: Charset = "utf-8",
): VerifyResult {
  const primary = candidates[0] ?? "";
  if (sign === undefined || sign === "") return verifyFailure("missing_sign", "no sign value", primary);
  if (!STRICT_BASE64.test(sign)) {
    const hint = /[ \-_]/.test(sign)
      ? " (contains space, '-' or '_': a '+' decoded to a space by a second URL-decode, or URL-safe base64)"
      : "";
    return verifyFailure("bad_base64", `sign is not standard base64${hint}`, primary);
  }
  let key: crypto.KeyObject;
  try {
    key = toPublicKey(publicKey);
  } catch (err) {
    return verifyFailure("bad_key", err instanceof KeyError ? err.message : String(err), primary);
  }
  const signature = Buffer.from(sign, "base64");
  // Canonical encodings only: base64 decoders ignore the unused low bits of the last character, so
  // without this check several different `sign` strings would verify.
  if (signature.toString("base64") !== sign) return verifyFailure("bad_base64", "sign is not canonical base64", primary);
  const expected = signatureLength(key);
  if (signature.length !== expected) {
    return verifyFailure(
      "sign_length_mismatch",
      `sign is ${signature.length} bytes but the key makes ${expected}-byte signatures: wrong key (e.g. a 1024-bit key, or the app key instead of the Alipay key) or a truncated sign`,
      primary,
    );
  }
  for (const content of candidates) {
    if (crypto.verify(ALGORITHM[signType], encodeText(content, charset), key, signature)) {
      return { valid: true, reason: "ok", signedContent: content };
    }
  }
  return verifyFailure(
    "wrong_key_or_tampered",
    `${signType} signature does not match (not signed by this key's owner, or the content changed; tried ${candidates.length} string-to-sign variant(s))`,
    primary,
  );
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * Verify a notify (POST form) or return (GET query) callback, already form-decoded exactly once.
 * Rule V1 (drop sign and sign_type), then, with allowV2, rule V2 (keep sign_type) as fallback.
 * Empty values (docs/alipay-protocol.md §8.1): Alipay's Java SDK drops them, the Node and PHP SDKs keep them as
 * "k=": both variants are tried, dropped first.
 */
export function verifyCallback(
  params: Record<string, string>,
  publicKey: KeyInput,
  opts: { allowV2?: boolean; optionalParams?: string[] } = {},
): VerifyResult {
  if (params === null || typeof params !== "object") return verifyFailure("missing_field", "no parameters");
  const base: string[][] = [[...RULE_EXCLUDES.V1]];
  if (opts.allowV2) base.push([...RULE_EXCLUDES.V2]);
  // Parameters the signer may or may not have covered (certificate mode's alipay_cert_sn: some
  // notifies carry it outside the signed text): each rule is tried with and without them.
  const optional = (opts.optionalParams ?? []).filter((k) => Object.hasOwn(params, k));
  const rules = optional.length ? base.flatMap((r) => [r, [...r, ...optional]]) : base;
  const candidates = distinct(
    rules.flatMap((exclude) => [
      buildSignContent(params, { exclude, dropEmpty: true }),
      buildSignContent(params, { exclude, dropEmpty: false }),
    ]),
  );
  const declared = params.sign_type;
  // Alipay always sends sign_type; if a caller stripped it, RSA2 is the only type Alipay issues today.
  const signType = declared === undefined || declared === "" ? "RSA2" : declared;
  if (!isSignType(signType)) {
    return verifyFailure("unsupported_sign_type", `sign_type ${JSON.stringify(signType)} (only RSA2 and RSA are supported)`, candidates[0]);
  }
  // The callback's own `charset` says which bytes were signed (GBK apps get GBK callbacks); the
  // caller decoded the form with the same charset (form.ts, charset.ts declaredFormCharset).
  const charset = normalizeCharset(params.charset);
  if (charset === null) {
    return verifyFailure("charset", `callback declares charset=${params.charset}; only UTF-8, GBK/GB2312 and GB18030 are supported`, candidates[0]);
  }
  return verifyCandidates(candidates, params.sign, publicKey, signType, charset);
}

/**
 * Verify a merchant request as the gateway does (request rule, §1.2: drop only `sign`, drop empty
 * values, `sign_type` names the algorithm). For the sandbox emulator and for debugging
 * isv.invalid-signature with the app public key.
 */
export function verifyRequest(params: Record<string, string>, appPublicKey: KeyInput): VerifyResult {
  const content = buildSignContent(params, { exclude: [...RULE_EXCLUDES.request] });
  const signType = params.sign_type;
  if (!isSignType(signType)) {
    return verifyFailure(signType ? "unsupported_sign_type" : "missing_field", `sign_type ${JSON.stringify(signType ?? null)} (RSA2 or RSA required)`, content);
  }
  return verifyCandidates([content], params.sign, appPublicKey, signType);
}

/**
 * Verify a synchronous gateway response (docs/alipay-protocol.md §1.6): the signed text is the raw JSON value of
 * `<method with . → _>_response` (or `error_response`) exactly as received. If that fails, retry once
 * with `\/` unescaped to `/`, like Java's AbstractAlipayClient.checkResponseSign.
 * `node` is the parsed node when it was found (also on signature failure, for logging only).
 */
export function verifyResponse(
  rawBody: string,
  method: string,
  publicKey: KeyInput,
  opts: { signType?: SignType; charset?: Charset } = {},
): VerifyResult & { node?: unknown } {
  const extracted = extractResponseNode(rawBody, method);
  if (!extracted.ok) return verifyFailure(extracted.code, extracted.message);
  return verifyExtracted(extracted, publicKey, opts);
}

/** verifyResponse for a body already cut by extractResponseNode (a caller that also reads other members). */
export function verifyExtracted(
  extracted: ExtractedNode,
  publicKey: KeyInput,
  opts: { signType?: SignType; charset?: Charset } = {},
): VerifyResult & { node?: unknown } {
  const { nodeText, sign, node } = extracted;
  const candidates = distinct([nodeText, nodeText.replaceAll("\\/", "/")]);
  const result = verifyCandidates(candidates, sign ?? undefined, publicKey, opts.signType ?? "RSA2", opts.charset ?? "utf-8");
  return { ...result, node };
}
