// Key parsing for Alipay's RSA keys, in every shape operators paste them:
// - PEM (PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY", SPKI "PUBLIC KEY", PKCS#1 "RSA PUBLIC KEY");
// - bare base64 without armour, as Alipay's open-platform console and key tool show them
//   (the console's "支付宝公钥" is SPKI base64; its key tool writes PKCS#8 or PKCS#1 private keys);
// - an X.509 certificate (公钥证书模式, docs/alipay-protocol.md §1.1): the public key is taken from the cert.
// Wrong armour is tolerated (a real sample in vectors/_keys.json wraps an SPKI key in "BEGIN PRIVATE
// KEY"): the base64 body is tried against every DER structure before giving up.
import crypto, { type KeyObject } from "node:crypto";

export type KeyInput = string;

/** The key could not be used; `message` says why in operator terms. Reason code "bad_key". */
export class KeyError extends Error {
  readonly code = "bad_key";
  constructor(message: string) {
    super(message);
    this.name = "KeyError";
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;

type PemBlock = { label: string; der: Buffer };

function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    // Drop RFC 1421 headers (e.g. "Proc-Type:") and whitespace inside the body.
    const body = m[2]!.split(/\r?\n/).filter((line) => !line.includes(":")).join("").replace(/\s+/g, "");
    blocks.push({ label: m[1]!, der: Buffer.from(body, "base64") });
  }
  return blocks;
}

function bareDer(text: string): Buffer | null {
  const body = text.replace(/\s+/g, "");
  if (body.length === 0 || body.length % 4 !== 0 || !BASE64_BODY.test(body)) return null;
  return Buffer.from(body, "base64");
}

/** The DER bytes inside `input` (first PEM block, or bare base64), plus the PEM label if any. */
function decodeInput(input: KeyInput): PemBlock {
  if (typeof input !== "string" || input.trim() === "") throw new KeyError("key is empty");
  const text = input.trim();
  const blocks = pemBlocks(text);
  if (blocks.length > 0) return blocks[0]!;
  if (text.includes("-----BEGIN")) throw new KeyError("PEM armour is broken (no matching -----END line)");
  const der = bareDer(text);
  if (!der) throw new KeyError("key is neither PEM nor bare base64 (stray characters, or truncated)");
  return { label: "", der };
}

function attempt<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

function requireRsa(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== "rsa") {
    throw new KeyError(`${what} is ${key.asymmetricKeyType ?? "unknown"}, Alipay RSA/RSA2 needs an RSA key (SM2 is not supported)`);
  }
  return key;
}

function publicFromDer(der: Buffer): KeyObject | null {
  return (
    attempt(() => crypto.createPublicKey({ key: der, format: "der", type: "spki" })) ??
    attempt(() => crypto.createPublicKey({ key: der, format: "der", type: "pkcs1" })) ??
    attempt(() => new crypto.X509Certificate(der).publicKey)
  );
}

function privateFromDer(der: Buffer): KeyObject | null {
  return (
    attempt(() => crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" })) ??
    attempt(() => crypto.createPrivateKey({ key: der, format: "der", type: "pkcs1" }))
  );
}

// Parsed keys are cached: a notify handler verifies with the same key thousands of times and parsing
// a PEM costs about as much as an RSA verification. Bounded so hostile input cannot grow it.
const CACHE_LIMIT = 64;
const publicCache = new Map<string, KeyObject>();
const privateCache = new Map<string, KeyObject>();

function cached(cache: Map<string, KeyObject>, input: string, parse: () => KeyObject): KeyObject {
  const hit = cache.get(input);
  if (hit) return hit;
  const key = parse();
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(input, key);
  return key;
}

/**
 * Public key for verifying Alipay's signatures. Accepts SPKI/PKCS#1 PEM, bare base64, or an X.509
 * certificate (PEM or base64 DER; the first certificate of a chain). A private key is refused: it is
 * the most common misconfiguration (app private key pasted where the Alipay public key belongs).
 */
export function toPublicKey(input: KeyInput): KeyObject {
  return cached(publicCache, input, () => {
    const { label, der } = decodeInput(input);
    // Checked first: Node's createPublicKey happily derives a public key from private-key DER.
    if (privateFromDer(der)) {
      throw new KeyError("this is a private key; verification needs the Alipay public key (支付宝公钥), not a private key");
    }
    const key = publicFromDer(der);
    if (key) return requireRsa(key, "public key");
    throw new KeyError(`not a public key or certificate${label ? ` (PEM label "${label}")` : ""}`);
  });
}

/** The app private key for signing requests. Accepts PKCS#8 or PKCS#1, PEM or bare base64. */
export function toPrivateKey(input: KeyInput): KeyObject {
  return cached(privateCache, input, () => {
    const { label, der } = decodeInput(input);
    const key = privateFromDer(der);
    if (key) return requireRsa(key, "private key");
    if (label.includes("ENCRYPTED")) throw new KeyError("encrypted private keys are not supported; export it without a passphrase");
    if (publicFromDer(der)) throw new KeyError("this is a public key or certificate; signing needs the app private key (应用私钥)");
    throw new KeyError(`not a private key${label ? ` (PEM label "${label}")` : ""}`);
  });
}

/** RSA modulus size in bytes = the length of every signature the key makes (256 for 2048-bit). */
export function signatureLength(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (!bits) throw new KeyError("key has no RSA modulus");
  return Math.ceil(bits / 8);
}

/** A fresh 2048-bit pair (the size Alipay's key tool makes): PKCS#8 private, SPKI public, PEM. */
export function generateRsaKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** PEM SPKI form of any accepted public key input (what Node, the SDK and OpenSSL all read). */
export function publicKeyPem(input: KeyInput): string {
  return toPublicKey(input).export({ type: "spki", format: "pem" }).toString();
}

/** Bare base64 SPKI, the form Alipay's console shows and asks for when uploading an app public key. */
export function publicKeyBase64(input: KeyInput): string {
  return toPublicKey(input).export({ type: "spki", format: "der" }).toString("base64");
}

/** PEM PKCS#8 form of any accepted private key input. */
export function privateKeyPem(input: KeyInput): string {
  return toPrivateKey(input).export({ type: "pkcs8", format: "pem" }).toString();
}

// ---- certificate mode (公钥证书模式, docs/alipay-protocol.md §1.1) ----

/** Every X.509 certificate in a PEM bundle (or the one in bare base64 / DER). Throws KeyError if none. */
export function certificates(content: string | Buffer): crypto.X509Certificate[] {
  const text = typeof content === "string" ? content : content.toString("latin1");
  const blocks = pemBlocks(text).filter((b) => b.label === "CERTIFICATE");
  if (blocks.length > 0) return blocks.map((b) => new crypto.X509Certificate(b.der));
  const der = typeof content === "string" ? bareDer(content) : content;
  const cert = der && attempt(() => new crypto.X509Certificate(der));
  if (!cert) throw new KeyError("no X.509 certificate found");
  return [cert];
}

/**
 * Alipay certificate SN: md5_hex(issuer DN in RFC 2253 order + decimal serial number). Node prints the
 * issuer one RDN per line in certificate order (C first); Alipay's SDKs join it reversed with ","
 * (alipay-sdk src/antcertutil.ts getCertSN, via @fidm/x509 reduceRight; the Java SDK's AntCertificationUtil;
 * docs/alipay-protocol.md §1.1).
 * Multi-valued RDNs or escaped characters in the DN are not handled (Alipay's CAs use neither).
 */
export function certSerialNumber(cert: string | Buffer | crypto.X509Certificate): string {
  const x509 = cert instanceof crypto.X509Certificate ? cert : certificates(cert)[0]!;
  const issuer = x509.issuer.split("\n").filter(Boolean).reverse().join(",");
  const serial = BigInt(`0x${x509.serialNumber}`).toString(10);
  return crypto.createHash("md5").update(issuer + serial, "utf8").digest("hex");
}

/**
 * alipay_root_cert_sn: the SNs of the RSA-signed certificates (signature OID 1.2.840.113549.1.1.*)
 * in alipayRootCert.crt, joined with "_" (alipay-sdk src/antcertutil.ts getRootCertSN). The file also holds an
 * SM2-signed root that must be skipped.
 */
export function rootCertSerialNumber(rootCertChain: string | Buffer): string {
  return certificates(rootCertChain)
    .filter((c) => signatureAlgorithmOid(c.raw).startsWith("1.2.840.113549.1.1."))
    .map((c) => certSerialNumber(c))
    .join("_");
}

// Node's X509Certificate does not expose the signature algorithm, so read it from the DER:
// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID, ... }, ... }
export function signatureAlgorithmOid(der: Buffer): string {
  const readHeader = (at: number): { tag: number; start: number; end: number } => {
    const tag = der[at]!;
    let len = der[at + 1]!;
    let start = at + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
      start += n;
    }
    return { tag, start, end: start + len };
  };
  const cert = readHeader(0);
  const tbs = readHeader(cert.start);
  const algo = readHeader(tbs.end);
  const oid = readHeader(algo.start);
  if (oid.tag !== 0x06) return "";
  const bytes = der.subarray(oid.start, oid.end);
  const parts: number[] = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let value = 0;
  for (const b of bytes.subarray(1)) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}
