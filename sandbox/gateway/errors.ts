// Gateway result codes and the sub-codes the sandbox produces (docs/alipay-protocol.md §5: Alipay's public code table;
// ACQ.* business codes compiled from SDKs and support articles — see docs/alipay-protocol.md §8.5).

export const CODE = {
  success: { code: "10000", msg: "Success" },
  unavailable: { code: "20000", msg: "Service Currently Unavailable" },
  missing: { code: "40001", msg: "Missing Required Arguments" },
  invalid: { code: "40002", msg: "Invalid Arguments" },
  business: { code: "40004", msg: "Business Failed" },
} as const;

export type ResponseNode = Record<string, unknown> & { code: string; msg: string };

/**
 * How an error answer goes out unsigned. Alipay answers refusals about the caller's identity without a
 * signature: 40002 isv.invalid-app-id comes with no "sign" at all (public reports:
 * github.com/fzlee/alipay/issues/20, github.com/shadowsocks/shadowsocks-manager/issues/139). For the
 * signature and certificate refusals the sandbox sends `"sign":""`: the gateway could not establish
 * who is asking, so nothing it says can be signed for that caller (a modelling choice; the
 * `unsignedError` fault produces either form on demand).
 */
export type UnsignedAnswer = "absent" | "empty";

/** A failure answered by the gateway before or instead of the API method (40001/40002/40004/20000). */
export class GatewayError extends Error {
  /** set for the refusals Alipay does not sign */
  unsigned?: UnsignedAnswer;
  /**
   * Certificate mode: signed, but without alipay_cert_sn. A public capture of a real 40002
   * isv.missing-app-cert-sn answer has the method's node and a sign, and no alipay_cert_sn: the
   * certificate refusals are signed the way a key-mode answer is.
   */
  withoutCertSn?: boolean;

  constructor(
    readonly code: string,
    readonly msgText: string,
    readonly subCode: string,
    readonly subMsg: string,
    /** extra fields to include in the node (e.g. out_trade_no) */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${code} ${subCode}: ${subMsg}`);
    this.name = "GatewayError";
  }

  node(): ResponseNode {
    return { code: this.code, msg: this.msgText, sub_code: this.subCode, sub_msg: this.subMsg, ...this.extra };
  }
}

export const missing = (subCode: string, subMsg: string) => new GatewayError(CODE.missing.code, CODE.missing.msg, subCode, subMsg);
export const invalid = (subCode: string, subMsg: string) => new GatewayError(CODE.invalid.code, CODE.invalid.msg, subCode, subMsg);
export const business = (subCode: string, subMsg: string, extra: Record<string, unknown> = {}) =>
  new GatewayError(CODE.business.code, CODE.business.msg, subCode, subMsg, extra);

/** The two "result unknown" answers a merchant must treat as "ask again later" (docs/alipay-protocol.md §5). */
export function unknownResultError(kind: "isp.unknow-error" | "ACQ.SYSTEM_ERROR" | "aop.ACQ.SYSTEM_ERROR"): GatewayError {
  return kind === "isp.unknow-error"
    ? new GatewayError(CODE.unavailable.code, CODE.unavailable.msg, "isp.unknow-error", "系统繁忙")
    : business(kind, "系统错误");
}

/** A refusal about the certificate parameters: signed, not naming a certificate (see withoutCertSn). */
export function certRefusal(subCode: string, subMsg: string): GatewayError {
  const err = invalid(subCode, subMsg);
  err.withoutCertSn = true;
  return err;
}

/** An error answered without a signature. */
export function unsignedError(err: GatewayError, how: UnsignedAnswer): GatewayError {
  err.unsigned = how;
  return err;
}
