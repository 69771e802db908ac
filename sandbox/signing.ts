import type { Charset } from "../core/alipay/charset.ts";
import { buildSignContent, signContent, verifyCandidates, type SignType, type VerifyResult } from "../core/alipay/signature.ts";
import type { SandboxCertAuthority } from "./certs.ts";

// The sandbox plays Alipay, so it uses the merchant-side signing primitives of core/alipay in reverse:
// it verifies requests with the merchant's (app) public key and signs everything it sends with its own
// "Alipay" private key. No signing logic lives here, only which rule applies where.

export interface SandboxKeys {
  /** the sandbox's Alipay private key (signs responses, notifies, returns) */
  alipayPrivateKeyPem: string;
  alipayPublicKeyPem: string;
  /** the merchant app's public key (verifies requests) */
  merchantPublicKey: string;
}

/**
 * Where a certificate-mode notify puts alipay_cert_sn: outside the signed text (the default: SDKs that
 * read it leave it out of the string they verify, e.g. github.com/go-pay/gopay's VerifySign skips
 * `alipay_cert_sn`), inside it, or not at all. A merchant must accept all three.
 */
export type NotifyCertSnPlacement = "unsigned" | "signed" | "absent";

export class SandboxSigner {
  /** `certs`: certificate mode; answers and notifies are signed by its current Alipay certificate and name it. */
  constructor(
    private readonly keys: SandboxKeys,
    readonly certs: SandboxCertAuthority | null = null,
  ) {}

  get alipayPublicKeyPem(): string {
    return this.certs ? this.certs.current.publicKeyPem : this.keys.alipayPublicKeyPem;
  }

  /** The key that signs now (certificate mode: the current certificate's, which changes on rotation). */
  get alipayPrivateKeyPem(): string {
    return this.certs ? this.certs.current.privateKeyPem : this.keys.alipayPrivateKeyPem;
  }

  /** Certificate mode: the SN of the certificate that signs now; null in key mode. */
  get alipayCertSn(): string | null {
    return this.certs ? this.certs.current.sn : null;
  }

  /**
   * Sign notify or return parameters like the gateway: rule V1 (everything but `sign` and `sign_type`,
   * docs/alipay-protocol.md §1.5, §3, §4). Returns a copy with sign_type=RSA2 and sign set.
   */
  signCallback(params: Record<string, string>, charset: Charset = "utf-8", certSn: NotifyCertSnPlacement = "unsigned"): Record<string, string> {
    const out: Record<string, string> = { ...params, sign_type: "RSA2" };
    delete out.sign;
    // Re-signing a stored notification (each retry): the certificate may have rotated since.
    delete out.alipay_cert_sn;
    const sn = this.alipayCertSn;
    if (sn && certSn === "signed") out.alipay_cert_sn = sn;
    out.sign = signContent(buildSignContent(out, { exclude: ["sign", "sign_type"] }), this.alipayPrivateKeyPem, "RSA2", charset);
    if (sn && certSn === "unsigned") out.alipay_cert_sn = sn;
    return out;
  }

  /**
   * A response body as the real gateway writes it: `{"<method>_response":{...},"sign":"..."}`, the
   * signature over the exact bytes of the serialized node (docs/alipay-protocol.md §1.6). `/` is written as `\/`
   * like Alipay's bodies do, so a merchant that re-serializes the node instead of cutting it out byte-exact
   * fails here rather than in production. `responseKey` is `<method>_response` or `error_response`.
   */
  signResponse(
    responseKey: string,
    node: Record<string, unknown>,
    opts: { corruptSignature?: boolean; unsigned?: "absent" | "empty"; charset?: Charset; withoutCertSn?: boolean } = {},
  ): string {
    const nodeText = escapeSlashes(JSON.stringify(node));
    // Unsigned answers: Alipay does not sign some refusals (see gateway/errors.ts UnsignedAnswer).
    if (opts.unsigned === "absent") return `{"${responseKey}":${nodeText}}`;
    if (opts.unsigned === "empty") return `{"${responseKey}":${nodeText},"sign":""}`;
    let sign = signContent(nodeText, this.alipayPrivateKeyPem, "RSA2", opts.charset ?? "utf-8");
    if (opts.corruptSignature) sign = corruptBase64(sign);
    // Certificate mode: the certificate that signed is named between the node and the sign, where
    // Alipay's bodies have it ({"…_response":{…},"alipay_cert_sn":"…","sign":"…"}).
    const sn = this.alipayCertSn && !opts.withoutCertSn ? `"alipay_cert_sn":${JSON.stringify(this.alipayCertSn)},` : "";
    return `{"${responseKey}":${nodeText},${sn}"sign":${escapeSlashes(JSON.stringify(sign))}}`;
  }

  /**
   * Verify a merchant request: rule "request" (every parameter except `sign`; `sign_type` included,
   * docs/alipay-protocol.md §1.2). Empty values are dropped like Alipay's Java code; the keep-empty variant is also
   * accepted because the Node and PHP SDKs sign "k=" for an empty value they send.
   */
  verifyRequest(params: Record<string, string>, signType: SignType): VerifyResult {
    const candidates = [...new Set([
      buildSignContent(params, { exclude: ["sign"], dropEmpty: true }),
      buildSignContent(params, { exclude: ["sign"], dropEmpty: false }),
    ])];
    // Certificate mode: the app certificate certifies the same merchant key (certs.ts issues it for it).
    return verifyCandidates(candidates, params.sign, this.keys.merchantPublicKey, signType);
  }
}

function escapeSlashes(json: string): string {
  // "/" only occurs inside JSON strings, and "\/" is a valid escape of it.
  return json.replaceAll("/", "\\/");
}

/**
 * Change one Base64 character of a signature so it stays well-formed Base64 of the same length: the
 * verifier must reject it on the cryptographic check, not on a format check.
 */
export function corruptBase64(sign: string): string {
  const i = Math.min(10, sign.length - 1);
  const c = sign[i] === "A" ? "B" : "A";
  return sign.slice(0, i) + c + sign.slice(i + 1);
}
