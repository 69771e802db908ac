// Certificate mode (公钥证书模式, docs/alipay-protocol.md §1.1): the app's certificate, Alipay's certificate and
// Alipay's root bundle instead of two bare public keys. Requests carry app_cert_sn and
// alipay_root_cert_sn; answers and notifies name the certificate that signed them in alipay_cert_sn.
//
// Alipay rotates its certificate (they live 1–2 years). Like the official SDKs (Java
// AbstractAlipayClient / Node alipay.ts: "支付宝公钥证书号不匹配"), an unknown alipay_cert_sn is
// resolved by downloading that certificate (alipay.open.app.alipaycert.download), accepting it only
// if it chains to the configured root, and verifying again. Downloaded certificates are kept in a
// shared store (the database) so every replica trusts the new certificate after one download.
import crypto from "node:crypto";
import type { Logger } from "../logging/index.ts";
import { certSerialNumber, certificates, KeyError, publicKeyPem, rootCertSerialNumber, toPrivateKey } from "./keys.ts";

export type CertModeFiles = {
  /** appCertPublicKey_<appid>.crt */
  appCert: string;
  /** alipayCertPublicKey_RSA2.crt (Alipay's certificate, often followed by its intermediate) */
  alipayCert: string;
  /** alipayRootCert.crt */
  alipayRootCert: string;
};

export type CertInfo = { sn: string; subject: string; issuer: string; notBefore: Date; notAfter: Date };

export function certInfo(pem: string | crypto.X509Certificate): CertInfo {
  const c = typeof pem === "string" ? certificates(pem)[0]! : pem;
  return {
    sn: certSerialNumber(c),
    subject: c.subject.replaceAll("\n", ", "),
    issuer: c.issuer.replaceAll("\n", ", "),
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
  };
}

/** The app certificate certifies the public half of the app private key. */
export function appCertMatchesKey(appCert: string, appPrivateKey: string): boolean {
  const certKey = certificates(appCert)[0]!.publicKey.export({ type: "spki", format: "der" });
  const ownKey = crypto.createPublicKey(toPrivateKey(appPrivateKey)).export({ type: "spki", format: "der" });
  return certKey.equals(ownKey);
}

/**
 * Does the first certificate of `certText` chain to a certificate of the root bundle? Intermediates
 * may come from either file (Alipay ships its certificate followed by the intermediate CA). Each link
 * is checked by issuer name and signature. Returns null when it chains, else why not.
 */
export function chainProblem(certText: string, rootText: string, at: Date = new Date()): string | null {
  let leaf: crypto.X509Certificate;
  let roots: crypto.X509Certificate[];
  try {
    const own = certificates(certText);
    leaf = own[0]!;
    roots = certificates(rootText);
    const pool = [...own.slice(1), ...roots];
    let current = leaf;
    for (let depth = 0; depth < 6; depth++) {
      if (roots.some((r) => r.fingerprint256 === current.fingerprint256)) return expiryProblem(leaf, at);
      const issuer = pool.find((c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
      if (!issuer) {
        return `certificate "${firstLine(current.subject)}" is not issued by any certificate of the root bundle (issuer "${firstLine(current.issuer)}")`;
      }
      if (roots.includes(issuer)) return expiryProblem(leaf, at);
      current = issuer;
    }
    return "certificate chain too long";
  } catch (err) {
    return err instanceof KeyError ? err.message : `unreadable certificate: ${(err as Error).message}`;
  }
}

function expiryProblem(c: crypto.X509Certificate, at: Date): string | null {
  if (new Date(c.validTo) < at) return `certificate expired on ${new Date(c.validTo).toISOString()}`;
  if (new Date(c.validFrom) > at) return `certificate not valid before ${new Date(c.validFrom).toISOString()}`;
  return null;
}

const firstLine = (dn: string) => dn.split("\n").filter(Boolean).reverse().join(",");

/** The two request parameters of certificate mode. */
export function certRequestParams(files: Pick<CertModeFiles, "appCert" | "alipayRootCert">): { appCertSn: string; alipayRootCertSn: string } {
  return { appCertSn: certSerialNumber(files.appCert), alipayRootCertSn: rootCertSerialNumber(files.alipayRootCert) };
}

/** Where downloaded Alipay certificates are kept for every replica (the database in the roles). */
export interface AlipayCertStore {
  get(sn: string): Promise<string | null>;
  put(cert: { sn: string; pem: string; notAfter: Date }): Promise<void>;
}

export type KeyLookup = { ok: true; key: string; sn: string } | { ok: false; reason: string };

export type CertRotationEvent = { sn: string; outcome: "downloaded" | "from_store" | "rejected" | "download_failed"; detail?: string };

export interface AlipayCertBookOptions {
  alipayCert: string;
  alipayRootCert: string;
  store?: AlipayCertStore;
  /** Fetches the certificate PEM for an SN (alipay.open.app.alipaycert.download). */
  download: (sn: string) => Promise<{ ok: true; pem: string } | { ok: false; reason: string }>;
  logger?: Logger;
  onRotation?: (e: CertRotationEvent) => void;
  /** How long a failed download of an SN is not retried (default 60 s), so a flood of notifies naming it cannot flood Alipay. */
  retryAfterMs?: number;
  now?: () => number;
}

/**
 * The Alipay certificates we trust, by SN: the configured one, then any rotated one that was
 * downloaded, checked against the root and stored. `keyFor(sn)` is what verification asks.
 */
export function createAlipayCertBook(o: AlipayCertBookOptions) {
  const known = new Map<string, string>(); // sn → public key PEM
  const configuredSn = certSerialNumber(o.alipayCert);
  known.set(configuredSn, publicKeyPem(o.alipayCert));
  const inFlight = new Map<string, Promise<KeyLookup>>();
  const failedAt = new Map<string, { at: number; reason: string }>();
  const now = o.now ?? Date.now;

  function accept(sn: string, pem: string): string | null {
    let actual: string;
    try {
      actual = certSerialNumber(pem);
    } catch (err) {
      return `not a certificate: ${(err as Error).message}`;
    }
    if (actual !== sn) return `certificate has SN ${actual}, not the ${sn} that was asked for`;
    const problem = chainProblem(pem, o.alipayRootCert);
    if (problem) return `does not chain to the configured Alipay root (ALIPAY_ROOT_CERT_FILE): ${problem}`;
    known.set(sn, publicKeyPem(pem));
    return null;
  }

  async function resolve(sn: string): Promise<KeyLookup> {
    const stored = o.store ? await o.store.get(sn).catch(() => null) : null;
    if (stored) {
      const problem = accept(sn, stored);
      if (!problem) {
        o.onRotation?.({ sn, outcome: "from_store" });
        o.logger?.info({ alipayCertSn: sn }, "Alipay certificate rotation: using the new Alipay certificate another replica downloaded");
        return { ok: true, key: known.get(sn)!, sn };
      }
    }
    const last = failedAt.get(sn);
    if (last && now() - last.at < (o.retryAfterMs ?? 60_000)) return { ok: false, reason: last.reason };
    const fetched = await o.download(sn);
    const problem = fetched.ok ? accept(sn, fetched.pem) : `download failed: ${fetched.reason}`;
    if (problem) {
      const reason = `alipay_cert: answer signed by unknown Alipay certificate ${sn}: ${problem}`;
      failedAt.set(sn, { at: now(), reason });
      o.onRotation?.({ sn, outcome: fetched.ok ? "rejected" : "download_failed", detail: problem });
      o.logger?.error({ alipayCertSn: sn, problem }, "Alipay certificate rotation FAILED: answers and notifies signed by the new certificate cannot be verified; check ALIPAY_ROOT_CERT_FILE and the network to Alipay");
      return { ok: false, reason };
    }
    const pem = (fetched as { pem: string }).pem;
    const info = certInfo(pem);
    await o.store?.put({ sn, pem, notAfter: info.notAfter }).catch((err: Error) =>
      o.logger?.warn({ alipayCertSn: sn, err: err.message }, "new Alipay certificate verified but not stored; other replicas will download it themselves"),
    );
    o.onRotation?.({ sn, outcome: "downloaded" });
    o.logger?.warn(
      { alipayCertSn: sn, previousSn: configuredSn, notAfter: info.notAfter.toISOString(), subject: info.subject },
      `Alipay certificate rotation: Alipay now signs with certificate ${sn} (valid until ${info.notAfter.toISOString().slice(0, 10)}); downloaded, checked against the root, stored for all replicas. Replace ALIPAY_CERT_FILE with it at the next deploy.`,
    );
    return { ok: true, key: known.get(sn)!, sn };
  }

  return {
    configuredSn,
    /** The key for an alipay_cert_sn; absent SN → the configured certificate. */
    async keyFor(sn: string | undefined | null): Promise<KeyLookup> {
      if (!sn) return { ok: true, key: known.get(configuredSn)!, sn: configuredSn };
      const hit = known.get(sn);
      if (hit) return { ok: true, key: hit, sn };
      if (!/^[0-9a-f]{32}$/.test(sn)) return { ok: false, reason: `alipay_cert: alipay_cert_sn ${JSON.stringify(sn.slice(0, 40))} is not a certificate SN` };
      let p = inFlight.get(sn);
      if (!p) {
        p = resolve(sn).finally(() => inFlight.delete(sn));
        inFlight.set(sn, p);
      }
      return p;
    },
    /** Certificates trusted right now (configured first). */
    knownSns: () => [...known.keys()],
  };
}

export type AlipayCertBook = ReturnType<typeof createAlipayCertBook>;
