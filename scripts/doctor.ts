// The go-live doctor: `npm run alipay -- doctor`. Reads the configuration exactly as the roles do
// (core/config's loadConfig over the same environment) and says, line by line, what is right and what
// is wrong before real money moves:
//   - the configuration loads (every problem the roles would refuse to start with, by variable);
//   - keys: the app private key is usable; in certificate mode the app certificate certifies it and
//     Alipay's certificate chains to the root; no certificate expired or expiring within 30 days;
//   - ids look like Alipay's (app id 16 digits, seller id 2088 + 12 digits), and are set;
//   - the notify URL (from API_PUBLIC_URL) is https and public, so Alipay can reach it;
//   - the gateway answers HTTP;
//   - a signed alipay.trade.query for a made-up order number comes back as a VERIFIED
//     ACQ.TRADE_NOT_EXIST: Alipay accepted our signature (the app key it holds is ours) and we verified
//     Alipay's (our Alipay key or certificate is right). Nothing else proves both keys at once.
// Exit 0 only when every line is ✓ (ℹ lines are information); any ✗ or ⚠ exits 1.
import crypto from "node:crypto";
import { readFileSync } from "node:fs";
import { BlockList, isIP } from "node:net";
import { appCertMatchesKey, chainProblem } from "../core/alipay/certs.ts";
import { certificates, certSerialNumber, rootCertSerialNumber, signatureAlgorithmOid, toPrivateKey, toPublicKey } from "../core/alipay/keys.ts";
import { ConfigError, LOCAL_MERCHANT, loadConfig, type Config } from "../core/config/index.ts";
import { alipayFromConfig } from "../core/orders/deps.ts";

export type Verdict = "ok" | "warn" | "fail" | "info" | "skip";
export interface DoctorLine {
  verdict: Verdict;
  check: string;
  detail: string;
}

const MARK: Record<Verdict, string> = { ok: "✓", warn: "⚠", fail: "✗", info: "ℹ", skip: "–" };

/** Certificates expiring sooner than this are a warning: renew them before going live. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

// Addresses Alipay's servers cannot reach (RFC 1918, loopback, link-local, CGNAT, ULA, unspecified).
const PRIVATE = new BlockList();
for (const [net, bits] of [["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16], ["127.0.0.0", 8], ["169.254.0.0", 16], ["100.64.0.0", 10], ["0.0.0.0", 8]] as const) {
  PRIVATE.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [["::1", 128], ["::", 128], ["fc00::", 7], ["fe80::", 10]] as const) PRIVATE.addSubnet(net, bits, "ipv6");
// IPv4-mapped IPv6 (::ffff:a.b.c.d, which URL parsing writes in hex) counts as not public: nobody
// publishes a notify URL that way. (Not a BlockList rule: BlockList applies a ::ffff:0:0/96 rule to
// every plain IPv4 address too.)
const IPV4_MAPPED = /^::ffff:/i;
const PRIVATE_NAMES = /(^|\.)(localhost|local|internal|lan|home|corp|test|example|invalid)$/i;

/** Why Alipay could not deliver to this notify URL, or null when it looks right (https, public host). */
export function notifyUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "https:") return `${url.protocol.replace(":", "")}, not https: Alipay's notifies should go to an https address`;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const family = isIP(host);
  if (family !== 0) {
    if ((family === 6 && IPV4_MAPPED.test(host)) || PRIVATE.check(host, family === 4 ? "ipv4" : "ipv6")) return `${host} is a private or local address Alipay cannot reach`;
    return null;
  }
  if (PRIVATE_NAMES.test(host)) return `${host} is a local or reserved name Alipay cannot reach`;
  if (!host.includes(".")) return `${host} is not a public host name`;
  return null;
}

function days(ms: number): string {
  const d = Math.floor(ms / DAY_MS);
  return d === 1 ? "1 day" : `${d} days`;
}

/** One certificate's validity as a line: expired ✗, within 30 days ⚠, else ✓ with its end date. */
export function expiryLine(check: string, cert: crypto.X509Certificate, now: Date): DoctorLine {
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  const left = notAfter.getTime() - now.getTime();
  const who = cert.subject.split("\n").find((p) => p.startsWith("CN="))?.slice(3) ?? cert.subject.replaceAll("\n", ", ");
  if (left <= 0) return { verdict: "fail", check, detail: `"${who}" EXPIRED on ${notAfter.toISOString().slice(0, 10)}: download a new one from Alipay's console` };
  if (notBefore > now) return { verdict: "fail", check, detail: `"${who}" is not valid before ${notBefore.toISOString()}` };
  if (left < EXPIRY_WARNING_DAYS * DAY_MS) return { verdict: "warn", check, detail: `"${who}" expires in ${days(left)} (${notAfter.toISOString().slice(0, 10)}): renew it before going live` };
  return { verdict: "ok", check, detail: `"${who}" valid until ${notAfter.toISOString().slice(0, 10)} (${days(left)})` };
}

/** The certificate-file lines that need no valid configuration (expiry), from the raw variables. */
function certFileLines(env: NodeJS.ProcessEnv, now: Date): DoctorLine[] {
  const lines: DoctorLine[] = [];
  for (const name of ["ALIPAY_APP_CERT_FILE", "ALIPAY_CERT_FILE", "ALIPAY_ROOT_CERT_FILE"] as const) {
    const file = env[name];
    if (!file) continue;
    let certs: crypto.X509Certificate[];
    try {
      certs = certificates(readFileSync(file, "utf8"));
    } catch {
      continue; // the configuration's own line names it
    }
    // The root bundle: only the RSA roots Alipay's SDKs use (alipay_root_cert_sn); others are skipped.
    const relevant = name === "ALIPAY_ROOT_CERT_FILE" ? certs.filter((c) => signatureAlgorithmOid(c.raw).startsWith("1.2.840.113549.1.1.")) : certs.slice(0, 1);
    for (const c of relevant) lines.push(expiryLine(`${name} validity`, c, now));
  }
  return lines;
}

function keyBits(kind: "private" | "public", key: string): number | undefined {
  const k = kind === "private" ? toPrivateKey(key) : toPublicKey(key);
  return k.asymmetricKeyDetails?.modulusLength;
}

function idLines(env: NodeJS.ProcessEnv, config: Config): DoctorLine[] {
  const lines: DoctorLine[] = [];
  const local = config.alipay.isLocalSandbox;
  const id = (variable: string, value: string, pattern: RegExp, shape: string, fallback: string): DoctorLine => {
    if (!env[variable]) {
      return local
        ? { verdict: "ok", check: variable, detail: `${value} (the local emulator's made-up id; set the real one for Alipay)` }
        : { verdict: "fail", check: variable, detail: `not set: falls back to the local emulator's made-up id ${fallback}, which Alipay does not know` };
    }
    return pattern.test(value)
      ? { verdict: "ok", check: variable, detail: `${value} looks like an Alipay ${shape}` }
      : { verdict: "fail", check: variable, detail: `${value} does not look like an Alipay ${shape}` };
  };
  lines.push(id("ALIPAY_APP_ID", config.alipay.appId, /^\d{16}$/, "app id (16 digits)", LOCAL_MERCHANT.appId));
  lines.push(id("ALIPAY_SELLER_ID", config.alipay.sellerId, /^2088\d{12}$/, "seller id (2088 + 12 digits)", LOCAL_MERCHANT.sellerId));
  return lines;
}

function keyLines(config: Config, now: Date): DoctorLine[] {
  const lines: DoctorLine[] = [];
  const a = config.alipay;
  const bits = keyBits("private", a.appPrivateKey);
  lines.push(bits !== undefined && bits < 2048
    ? { verdict: "warn", check: "app private key", detail: `RSA ${bits}-bit: Alipay asks for 2048-bit keys (RSA2)` }
    : { verdict: "ok", check: "app private key", detail: `RSA ${bits ?? "?"}-bit, sign type ${a.signType}` });
  if (!a.certs) {
    lines.push({ verdict: "info", check: "mode", detail: "key mode (ALIPAY_PUBLIC_KEY); for certificate mode set ALIPAY_APP_CERT_FILE, ALIPAY_CERT_FILE, ALIPAY_ROOT_CERT_FILE" });
    lines.push({ verdict: "ok", check: "Alipay public key", detail: `RSA ${keyBits("public", a.alipayPublicKey) ?? "?"}-bit (whether it is Alipay's key for this app: see the signed query below)` });
    return lines;
  }
  lines.push({ verdict: "info", check: "mode", detail: "certificate mode (公钥证书模式)" });
  const c = a.certs;
  lines.push(appCertMatchesKey(c.appCert, a.appPrivateKey)
    ? { verdict: "ok", check: "app certificate", detail: `certifies the app private key; app_cert_sn ${certSerialNumber(c.appCert)}` }
    : { verdict: "fail", check: "app certificate", detail: "does not certify the app private key (another app's certificate, or issued for an older key)" });
  const chain = chainProblem(c.alipayCert, c.alipayRootCert, now);
  lines.push(chain === null
    ? { verdict: "ok", check: "Alipay certificate", detail: `chains to the root bundle; alipay_cert_sn ${certSerialNumber(c.alipayCert)}` }
    : { verdict: "fail", check: "Alipay certificate", detail: `does not chain to the root bundle: ${chain}` });
  const rootSn = rootCertSerialNumber(c.alipayRootCert);
  lines.push(rootSn
    ? { verdict: "ok", check: "root bundle", detail: `alipay_root_cert_sn ${rootSn}` }
    : { verdict: "fail", check: "root bundle", detail: "holds no RSA-signed root (use alipayRootCert.crt)" });
  return lines;
}

async function gatewayLines(config: Config): Promise<DoctorLine[]> {
  const a = config.alipay;
  const lines: DoctorLine[] = [];
  if (a.isLocalSandbox) lines.push({ verdict: "info", check: "gateway", detail: `${a.gatewayUrl} is the local emulator (ALIPAY_GATEWAY=sandbox), not Alipay` });
  const started = Date.now();
  try {
    const res = await fetch(a.gatewayUrl, { method: "GET", signal: AbortSignal.timeout(a.timeoutMs) });
    await res.arrayBuffer();
    lines.push({ verdict: "ok", check: "gateway answers", detail: `${a.gatewayUrl}: HTTP ${res.status} in ${Date.now() - started} ms` });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === "TimeoutError" ? `no answer within ${a.timeoutMs} ms (ALIPAY_TIMEOUT_MS)` : (e.cause?.code ?? e.cause?.message ?? e.message);
    lines.push({ verdict: "fail", check: "gateway answers", detail: `${a.gatewayUrl} unreachable: ${why} (check ALIPAY_GATEWAY, DNS, the firewall and any proxy)` });
    lines.push({ verdict: "skip", check: "signed alipay.trade.query", detail: "skipped: the gateway did not answer" });
    return lines;
  }

  const outTradeNo = `doctor_${Date.now()}_${crypto.randomBytes(4).toString("hex")}`;
  const check = "signed alipay.trade.query";
  let client: ReturnType<typeof alipayFromConfig>;
  try {
    client = alipayFromConfig(config);
  } catch (err) {
    lines.push({ verdict: "fail", check, detail: `client not built: ${(err as Error).message}` });
    return lines;
  }
  const r = await client.queryTrade(outTradeNo);
  if (r.kind === "business_error" && r.subCode === "ACQ.TRADE_NOT_EXIST") {
    lines.push({
      verdict: "ok",
      check,
      detail: `made-up order ${outTradeNo}: verified ACQ.TRADE_NOT_EXIST. Alipay accepted our signature (the app key it holds matches ours) and its answer verified with our ${a.certs ? "Alipay certificate" : "Alipay public key"}`,
    });
  } else if (r.kind === "business_error") {
    lines.push({ verdict: "fail", check, detail: `verified answer, but ${r.code} ${r.subCode} ${r.subMsg} instead of ACQ.TRADE_NOT_EXIST` });
  } else if (r.kind === "ok") {
    lines.push({ verdict: "fail", check, detail: `a trade exists for the made-up order ${outTradeNo} (${r.tradeStatus}): is this the right app?` });
  } else if (r.reason.startsWith("bad_response_signature")) {
    lines.push({
      verdict: "fail",
      check,
      detail: `the answer does not verify with our ${a.certs ? "Alipay certificate (ALIPAY_CERT_FILE)" : "Alipay public key (ALIPAY_PUBLIC_KEY / ALIPAY_PUBLIC_KEY_FILE)"}: it is not Alipay's key for this app and gateway (copy 支付宝公钥, not the app public key). ${r.reason}`,
    });
  } else {
    lines.push({ verdict: "fail", check, detail: r.reason });
  }
  return lines;
}

/** Every check, in order. Never throws for a configuration problem: that is a ✗ line. */
export async function diagnose(env: NodeJS.ProcessEnv, now = new Date()): Promise<DoctorLine[]> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [
      ...err.problems.map((p): DoctorLine => ({ verdict: "fail", check: p.variable, detail: p.message })),
      ...certFileLines(env, now),
      { verdict: "skip", check: "gateway", detail: "skipped: fix the configuration first (the roles would not start with it)" },
    ];
  }
  const lines: DoctorLine[] = [{ verdict: "ok", check: "configuration", detail: `loads as the roles load it (NODE_ENV=${config.env})` }];
  lines.push(...keyLines(config, now));
  lines.push(...certFileLines(env, now));
  lines.push(...idLines(env, config));
  const notify = notifyUrlProblem(config.alipay.notifyUrl);
  lines.push(notify === null
    ? { verdict: "ok", check: "notify URL", detail: `${config.alipay.notifyUrl} is https and public` }
    : { verdict: "fail", check: "notify URL", detail: `${config.alipay.notifyUrl} (from API_PUBLIC_URL): ${notify}` });
  lines.push(...(await gatewayLines(config)));
  return lines;
}

export function formatLines(lines: DoctorLine[]): string {
  const bad = lines.filter((l) => l.verdict === "fail").length;
  const warn = lines.filter((l) => l.verdict === "warn").length;
  const body = lines.map((l) => `${MARK[l.verdict]} ${l.check}: ${l.detail}`).join("\n");
  const summary = bad + warn === 0 ? "all right: ready for real payments" : `${bad} wrong, ${warn} warning${warn === 1 ? "" : "s"}: not ready`;
  return `${body}\n${bad + warn === 0 ? MARK.ok : MARK.fail} ${summary}\n`;
}

/** The CLI command: prints the lines; 0 only when all is right. */
export async function runDoctor(env: NodeJS.ProcessEnv): Promise<number> {
  const lines = await diagnose(env);
  process.stdout.write(formatLines(lines));
  return lines.some((l) => l.verdict === "fail" || l.verdict === "warn") ? 1 : 0;
}
