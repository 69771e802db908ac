// Operator/support tool for Alipay signatures (npm run --silent alipay -- ...). Answers "why does this
// callback/response not verify?" with the exact string-to-sign and a reason code.
//
//   verify notify   --alipay-public-key FILE | --alipay-cert FILE < BODY   raw x-www-form-urlencoded POST body
//   verify return   --alipay-public-key FILE | --alipay-cert FILE < QUERY  query string (leading "?" or whole URL ok)
//   verify response --method METHOD --alipay-public-key FILE | --alipay-cert FILE [--sign-type RSA2|RSA] < BODY
//   sign request    --app-private-key FILE [--app-cert FILE --root-cert FILE] < PARAMS_JSON
//                   prints the sign; with the certificates (公钥证书模式) app_cert_sn and
//                   alipay_root_cert_sn are added and signed, and the whole parameter set is printed as JSON
//   cert sn         --cert FILE | --root FILE      {"sn":"…"}: app_cert_sn / alipay_cert_sn of a
//                   certificate, or alipay_root_cert_sn ("…_…") of a root bundle, as the official SDKs compute them
//   doctor          the go-live check of the roles' configuration (doctor.ts)
//   bill parse      [--summary] < FILE.csv.zip                 a trade bill as JSON lines (bill-cli.ts)
//
// Key FILE: PEM key, bare base64 key (as Alipay's console shows it) or X.509 certificate
// (--alipay-cert: Alipay's public-key certificate alipayCertPublicKey_RSA2.crt).
// Verify prints one JSON line {"valid","reason","signedContent"}; exit 0 valid, 1 invalid,
// 2 unusable input (message on stderr).
import fs from "node:fs";
import { parseArgs } from "node:util";
import { FormParseError, parseFormBody, parseQueryString } from "../core/alipay/form.ts";
import { certificates, certSerialNumber, KeyError, rootCertSerialNumber, toPrivateKey, toPublicKey } from "../core/alipay/keys.ts";
import { appCertMatchesKey } from "../core/alipay/certs.ts";
import { runDoctor } from "./doctor.ts";
import { BILL_USAGE, runBillParse } from "./bill-cli.ts";
import { isSignType, signParams, verifyCallback, verifyFailure, verifyResponse, type VerifyResult } from "../core/alipay/signature.ts";

const USAGE = `usage:
  alipay-cli verify notify   (--alipay-public-key FILE | --alipay-cert FILE) < BODY
  alipay-cli verify return   (--alipay-public-key FILE | --alipay-cert FILE) < QUERY
  alipay-cli verify response --method METHOD (--alipay-public-key FILE | --alipay-cert FILE) [--sign-type RSA2|RSA] < BODY
  alipay-cli sign request    --app-private-key FILE [--app-cert FILE --root-cert FILE] < PARAMS_JSON
  alipay-cli cert sn         (--cert FILE | --root FILE)
  alipay-cli doctor
  ${BILL_USAGE}`;

/** A user error: printed without a stack trace, exit 2; `showUsage` for command-line mistakes. */
class UsageError extends Error {
  constructor(message: string, readonly showUsage = false) {
    super(message);
  }
}

function readKeyFile(file: string | undefined, option: string): string {
  if (!file) throw new UsageError(`missing --${option} FILE`, true);
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${option} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function checkKey(parse: () => unknown, file: string): void {
  try {
    parse();
  } catch (err) {
    if (err instanceof KeyError) throw new UsageError(`${file}: ${err.message}`);
    throw err;
  }
}

function readStdin(): Buffer {
  try {
    return fs.readFileSync(0);
  } catch (err) {
    throw new UsageError(`cannot read stdin: ${(err as Error).message}`);
  }
}

// `echo "$BODY" | alipay-cli ...` appends a newline that is never part of a urlencoded body.
function stripFinalNewline(buf: Buffer): Buffer {
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  if (end > 0 && buf[end - 1] === 0x0d) end--;
  return buf.subarray(0, end);
}

function formFailure(err: unknown): VerifyResult {
  if (err instanceof FormParseError) {
    // Duplicated keys, broken %-escapes or non-UTF-8 bytes: not something Alipay sends; reject.
    return verifyFailure(err.code === "invalid_utf8" ? "charset" : "malformed_body", `${err.code}: ${err.message}`);
  }
  throw err;
}

/** A certificate file: at least one X.509 certificate in it, else a usage error naming the file. */
function readCertFile(file: string | undefined, option: string): string {
  const text = readKeyFile(file, option);
  checkKey(() => certificates(text), file!);
  return text;
}

/** The Alipay key to verify with: --alipay-public-key (key or certificate) or --alipay-cert (certificate). */
function alipayKey(values: Record<string, string | undefined>): string {
  const keyFile = values["alipay-public-key"];
  const certFile = values["alipay-cert"];
  if (keyFile && certFile) throw new UsageError("give --alipay-public-key or --alipay-cert, not both", true);
  if (certFile) {
    const cert = readCertFile(certFile, "alipay-cert");
    checkKey(() => toPublicKey(cert), certFile);
    return cert;
  }
  const key = readKeyFile(keyFile, "alipay-public-key");
  checkKey(() => toPublicKey(key), keyFile!);
  return key;
}

function verify(kind: string | undefined, values: Record<string, string | undefined>): VerifyResult {
  const key = alipayKey(values);
  switch (kind) {
    case "notify":
    case "return": {
      const input = stripFinalNewline(readStdin());
      let params: Record<string, string>;
      try {
        params = kind === "notify" ? parseFormBody(input) : parseQueryString(input.toString("utf8"));
      } catch (err) {
        return formFailure(err);
      }
      // V1 is the rule for both; a POST may also be a 应用网关-style message signed with V2 (sign_type kept).
      return verifyCallback(params, key, { allowV2: kind === "notify" });
    }
    case "response": {
      const method = values.method;
      if (!method) throw new UsageError("missing --method METHOD (e.g. alipay.trade.query)", true);
      const signType = values["sign-type"] ?? "RSA2";
      if (!isSignType(signType)) throw new UsageError(`--sign-type must be RSA2 or RSA, not ${signType}`, true);
      const bytes = readStdin();
      let body: string;
      try {
        body = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        return verifyFailure("charset", "response body is not UTF-8");
      }
      const { node: _node, ...result } = verifyResponse(body, method, key, { signType });
      return result;
    }
    default:
      throw new UsageError(`unknown verify subcommand ${JSON.stringify(kind ?? "")}: expected notify, return or response`, true);
  }
}

function signRequest(values: Record<string, string | undefined>): string {
  const keyFile = values["app-private-key"];
  const key = readKeyFile(keyFile, "app-private-key");
  checkKey(() => toPrivateKey(key), keyFile!);
  let params: unknown;
  try {
    params = JSON.parse(readStdin().toString("utf8"));
  } catch (err) {
    throw new UsageError(`stdin is not valid JSON: ${(err as Error).message}`);
  }
  if (params === null || typeof params !== "object" || Array.isArray(params)) throw new UsageError("stdin must be a JSON object of string parameters");
  const entries = Object.entries(params as Record<string, unknown>);
  const bad = entries.filter(([, v]) => typeof v !== "string").map(([k]) => k);
  if (bad.length > 0) throw new UsageError(`parameter values must be strings (biz_content as a JSON string): ${bad.join(", ")}`);
  const record = Object.fromEntries(entries) as Record<string, string>;
  if ("sign" in record) throw new UsageError('params already contain "sign"; remove it');
  const signType = record.sign_type;
  if (signType !== undefined && !isSignType(signType)) throw new UsageError(`sign_type must be RSA2 or RSA, not ${signType}`);
  const appCertFile = values["app-cert"];
  const rootCertFile = values["root-cert"];
  if (!appCertFile && !rootCertFile) return signParams(record, key, signType, "request");
  // Certificate mode: the two serial numbers are request parameters, so they are part of what is signed.
  if (!appCertFile || !rootCertFile) throw new UsageError("certificate mode needs both --app-cert FILE and --root-cert FILE", true);
  const appCert = readCertFile(appCertFile, "app-cert");
  const rootCert = readCertFile(rootCertFile, "root-cert");
  if (!appCertMatchesKey(appCert, key)) throw new UsageError(`${appCertFile} does not certify the key in ${keyFile} (another app's certificate, or issued for an older key)`);
  const rootSn = rootCertSerialNumber(rootCert);
  if (rootSn === "") throw new UsageError(`${rootCertFile} holds no RSA-signed root certificate (use alipayRootCert.crt)`);
  const withSn = { ...record, app_cert_sn: certSerialNumber(appCert), alipay_root_cert_sn: rootSn };
  return JSON.stringify({ ...withSn, sign: signParams(withSn, key, signType, "request") });
}

/** cert sn: the serial number Alipay knows a certificate (or the root bundle) by. */
function certSn(values: Record<string, string | undefined>): string {
  const certFile = values.cert;
  const rootFile = values.root;
  if (Boolean(certFile) === Boolean(rootFile)) throw new UsageError("give exactly one of --cert FILE (app or Alipay certificate) and --root FILE (alipayRootCert.crt)", true);
  if (certFile) return JSON.stringify({ sn: certSerialNumber(readCertFile(certFile, "cert")) });
  const sn = rootCertSerialNumber(readCertFile(rootFile, "root"));
  if (sn === "") throw new UsageError(`${rootFile} holds no RSA-signed certificate: not Alipay's root bundle (alipayRootCert.crt)`);
  return JSON.stringify({ sn });
}

function main(argv: string[]): number | Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "alipay-public-key": { type: "string" },
      "alipay-cert": { type: "string" },
      "app-private-key": { type: "string" },
      "app-cert": { type: "string" },
      "root-cert": { type: "string" },
      cert: { type: "string" },
      root: { type: "string" },
      method: { type: "string" },
      "sign-type": { type: "string" },
      summary: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, sub, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`, true);
  const opts = values as Record<string, string | undefined>;
  if (command === "verify") {
    const result = verify(sub, opts);
    process.stdout.write(`${JSON.stringify({ valid: result.valid, reason: result.reason, signedContent: result.signedContent })}\n`);
    return result.valid ? 0 : 1;
  }
  if (command === "bill" && sub === "parse") return runBillParse({ summaryOnly: values.summary === true });
  if (command === "cert" && sub === "sn") {
    process.stdout.write(`${certSn(opts)}\n`);
    return 0;
  }
  if (command === "doctor" && sub === undefined) return runDoctor(process.env);
  if (command === "sign" && sub === "request") {
    process.stdout.write(`${signRequest(opts)}\n`);
    return 0;
  }
  throw new UsageError(`unknown command ${JSON.stringify([command, sub].filter(Boolean).join(" "))}`, true);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // parseArgs throws TypeErrors with code ERR_PARSE_ARGS_* for unknown/malformed options.
  const argsError = (err as { code?: string })?.code?.startsWith("ERR_PARSE_ARGS") === true;
  if (err instanceof UsageError || argsError) {
    const usage = argsError || (err as UsageError).showUsage ? `\n${USAGE}` : "";
    process.stderr.write(`alipay-cli: ${(err as Error).message}${usage}\n`);
  } else {
    process.stderr.write(`alipay-cli: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exitCode = 2;
}
