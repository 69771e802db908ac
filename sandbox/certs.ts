import crypto from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import forge from "node-forge";
import { certificates, certSerialNumber, generateRsaKeyPair, publicKeyPem, rootCertSerialNumber } from "../core/alipay/keys.ts";

// Certificate mode (公钥证书模式, docs/alipay-protocol.md §1.1) of the local gateway: its own test CA,
// built like Alipay's so the merchant's certificate code meets the same shapes:
//
//   alipayRootCert.crt              the root bundle: an RSA root AND an ECDSA-signed root. Alipay's real
//                                   bundle holds an SM2-signed root beside the RSA ones, and
//                                   alipay_root_cert_sn must skip every certificate that is not
//                                   RSA-signed; the ECDSA root stands in for it (no SM2 in Node).
//   alipayCertPublicKey_RSA2.crt    Alipay's signing certificate followed by the intermediate CA that
//                                   issued it (the order of Alipay's file), so the chain check needs the
//                                   intermediate from this file.
//   appCertPublicKey_<appid>.crt    the merchant app's certificate, issued for the merchant public key
//                                   by the same intermediate.
//
// Everything is generated on first start and kept in <dataDir>/certs/ (state.json, 0600, holds the
// CA and signing keys; the three .crt files are what a merchant points ALIPAY_*_CERT_FILE at). Alipay's
// certificate can be rotated: a new key and certificate become the signer, the previous ones stay
// downloadable (alipay.open.app.alipaycert.download answers every SN Alipay ever issued to the app).
// The certificates are created with node-forge (RSA) and, for the ECDSA root, a TBS built with forge's
// ASN.1 and signed by node:crypto: no OpenSSL binary is needed.

export const ROOT_CERT_FILE = "alipayRootCert.crt";
export const ALIPAY_CERT_FILE = "alipayCertPublicKey_RSA2.crt";
export const appCertFileName = (appId: string) => `appCertPublicKey_${appId}.crt`;
const STATE_FILE = "state.json";

/** One generation of Alipay's signing certificate. */
export interface AlipayCertGeneration {
  sn: string;
  /** leaf + intermediate, PEM: the content of alipayCertPublicKey_RSA2.crt and of the download answer */
  chainPem: string;
  privateKeyPem: string;
  publicKeyPem: string;
  createdAt: number;
}

interface CaState {
  version: 1;
  rootKeyPem: string;
  rootCertPem: string;
  ecRootCertPem: string;
  intermediateKeyPem: string;
  intermediateCertPem: string;
  appCertPem: string;
  /** oldest first; the last one signs */
  alipayCerts: AlipayCertGeneration[];
}

const DAY_MS = 86_400_000;

// ---- certificate building ----

type Name = { C?: string; O?: string; OU?: string; CN: string };

function nameAttrs(n: Name): forge.pki.CertificateField[] {
  // Certificate order C, O, OU, CN, like Alipay's CAs; the SN joins them reversed (keys.ts certSerialNumber).
  const out: forge.pki.CertificateField[] = [];
  if (n.C) out.push({ shortName: "C", value: n.C });
  if (n.O) out.push({ shortName: "O", value: n.O });
  if (n.OU) out.push({ shortName: "OU", value: n.OU });
  out.push({ shortName: "CN", value: n.CN });
  return out;
}

/** A positive serial number in hex (first nibble 1-7: no sign byte, no leading zero to disagree about). */
function serialHex(): string {
  const b = crypto.randomBytes(16);
  b[0] = (b[0]! & 0x6f) | 0x10;
  return b.toString("hex");
}

interface IssueOptions {
  subject: Name;
  /** SPKI PEM of the certified key */
  publicKeyPem: string;
  issuer: { name: Name; privateKeyPem: string } | "self";
  /** self-signed: the key's own private key */
  selfPrivateKeyPem?: string;
  ca: boolean;
  /** validity: from a day ago (or notBefore) for `days` days */
  days: number;
  notBefore?: Date;
}

const OID_SHA256_RSA = "1.2.840.113549.1.1.11";
const OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2";

/**
 * The DER of an X.509 v3 certificate. forge lays out the TBSCertificate (names, validity, extensions);
 * the subject key and the signature algorithm are swapped in and node:crypto signs, because forge
 * signs RSA in JavaScript (seconds per certificate on a loaded machine) and cannot sign with EC keys.
 */
function buildCertificate(o: { subject: Name; issuer: Name; spkiDer: Buffer; ca: boolean; notBefore: Date; notAfter: Date; signer: crypto.KeyObject }): string {
  const asn1 = forge.asn1;
  const cert = forge.pki.createCertificate();
  cert.publicKey = PLACEHOLDER_KEY;
  cert.serialNumber = serialHex();
  cert.validity.notBefore = o.notBefore;
  cert.validity.notAfter = o.notAfter;
  cert.setSubject(nameAttrs(o.subject));
  cert.setIssuer(nameAttrs(o.issuer));
  cert.setExtensions(o.ca
    ? [{ name: "basicConstraints", cA: true, critical: true }, { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true }]
    : [{ name: "basicConstraints", cA: false }, { name: "keyUsage", digitalSignature: true, nonRepudiation: true, critical: true }]);
  const rsa = o.signer.asymmetricKeyType === "rsa";
  const algorithm = () =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(rsa ? OID_SHA256_RSA : OID_ECDSA_SHA256).getBytes()),
      // RSA algorithm identifiers carry NULL parameters; ECDSA ones carry none (RFC 5758).
      ...(rsa ? [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, "")] : []),
    ]);
  (cert as unknown as { siginfo: { algorithmOid: string } }).siginfo.algorithmOid = OID_SHA256_RSA;
  // getTBSCertificate is exported by node-forge (lib/x509.js) but missing from @types/node-forge.
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const parts = tbs.value as forge.asn1.Asn1[];
  // TBSCertificate: [0] version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, [3] extensions
  parts[2] = algorithm();
  parts[6] = asn1.fromDer(forge.util.createBuffer(o.spkiDer.toString("binary")));
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), "binary");
  const signature = crypto.sign("sha256", tbsDer, o.signer);
  const certAsn1 = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithm(),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, "\u0000" + signature.toString("binary")),
  ]);
  const der = Buffer.from(asn1.toDer(certAsn1).getBytes(), "binary");
  return new crypto.X509Certificate(der).toString().replace(/\r\n/g, "\n");
}

// Only there so forge can lay out a TBS; replaced by the real subject key before signing.
const PLACEHOLDER_KEY = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger("65537"), new forge.jsbn.BigInteger("65537"));

/** An RSA-signed (sha256WithRSAEncryption) X.509 v3 certificate for an RSA key, PEM. */
export function issueCertificate(o: IssueOptions): string {
  const notBefore = o.notBefore ?? new Date(Date.now() - DAY_MS);
  const signer = crypto.createPrivateKey(o.issuer === "self" ? o.selfPrivateKeyPem! : o.issuer.privateKeyPem);
  return buildCertificate({
    subject: o.subject,
    issuer: o.issuer === "self" ? o.subject : o.issuer.name,
    spkiDer: crypto.createPublicKey(o.publicKeyPem).export({ type: "spki", format: "der" }),
    ca: o.ca,
    notBefore,
    notAfter: new Date(notBefore.getTime() + o.days * DAY_MS),
    signer,
  });
}

/** A self-signed ECDSA P-256 root (signature OID 1.2.840.10045.4.3.2), PEM. */
function ecdsaRootCertificate(subject: Name, days: number): string {
  const ec = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return buildCertificate({
    subject,
    issuer: subject,
    spkiDer: ec.publicKey.export({ type: "spki", format: "der" }),
    ca: true,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + days * DAY_MS),
    signer: ec.privateKey,
  });
}

const ROOT_NAME: Name = { C: "CN", O: "coursepay sandbox", OU: "Certification Authority", CN: "Sandbox Alipay Root Class 2 R1" };
const EC_ROOT_NAME: Name = { C: "CN", O: "coursepay sandbox", OU: "Certification Authority", CN: "Sandbox Alipay Root EC (stands in for the SM2 root)" };
const INTERMEDIATE_NAME: Name = { C: "CN", O: "coursepay sandbox", OU: "Certification Authority", CN: "Sandbox Alipay Certification Authority Class 2 R1" };
const alipayName = (n: number): Name => ({ C: "CN", O: "coursepay sandbox", OU: "Alipay", CN: `Sandbox Alipay signing certificate ${n}` });
const appName = (appId: string): Name => ({ C: "CN", O: "coursepay sandbox merchant", OU: "Alipay", CN: appId });

function newAlipayGeneration(state: Pick<CaState, "intermediateKeyPem" | "intermediateCertPem">, n: number, keys?: { privateKeyPem: string; publicKeyPem: string }): AlipayCertGeneration {
  const pair = keys ?? generateRsaKeyPair();
  const leaf = issueCertificate({
    subject: alipayName(n),
    publicKeyPem: publicKeyPem(pair.publicKeyPem),
    issuer: { name: INTERMEDIATE_NAME, privateKeyPem: state.intermediateKeyPem },
    ca: false,
    days: 730,
  });
  return { sn: certSerialNumber(leaf), chainPem: leaf + state.intermediateCertPem, privateKeyPem: pair.privateKeyPem, publicKeyPem: publicKeyPem(pair.publicKeyPem), createdAt: Date.now() };
}

function newCaState(appId: string, merchantPublicKeyPem: string, alipayKeys?: { privateKeyPem: string; publicKeyPem: string }): CaState {
  const root = generateRsaKeyPair();
  const rootCertPem = issueCertificate({ subject: ROOT_NAME, publicKeyPem: root.publicKeyPem, issuer: "self", selfPrivateKeyPem: root.privateKeyPem, ca: true, days: 36500 });
  const inter = generateRsaKeyPair();
  const intermediateCertPem = issueCertificate({
    subject: INTERMEDIATE_NAME,
    publicKeyPem: inter.publicKeyPem,
    issuer: { name: ROOT_NAME, privateKeyPem: root.privateKeyPem },
    ca: true,
    days: 3650,
  });
  const base = { intermediateKeyPem: inter.privateKeyPem, intermediateCertPem };
  return {
    version: 1,
    rootKeyPem: root.privateKeyPem,
    rootCertPem,
    ecRootCertPem: ecdsaRootCertificate(EC_ROOT_NAME, 36500),
    ...base,
    appCertPem: issueAppCert(base, appId, merchantPublicKeyPem),
    alipayCerts: [newAlipayGeneration(base, 1, alipayKeys)],
  };
}

function issueAppCert(state: Pick<CaState, "intermediateKeyPem">, appId: string, merchantPublicKeyPem: string): string {
  return issueCertificate({
    subject: appName(appId),
    publicKeyPem: publicKeyPem(merchantPublicKeyPem),
    issuer: { name: INTERMEDIATE_NAME, privateKeyPem: state.intermediateKeyPem },
    ca: false,
    days: 730,
  });
}

// ---- the authority ----

export interface SandboxCertFilesInfo {
  /** paths of the three files a merchant configures (null when the sandbox keeps nothing on disk) */
  appCertFile: string | null;
  alipayCertFile: string | null;
  alipayRootCertFile: string | null;
}

export interface SandboxCertAuthorityOptions {
  appId: string;
  merchantPublicKey: string;
  /** null: in memory only */
  dataDir: string | null;
  /** the first Alipay certificate certifies this key pair (the sandbox's key-mode Alipay key) */
  alipayKeys?: { privateKeyPem: string; publicKeyPem: string };
}

export class SandboxCertAuthority {
  private state: CaState;
  private readonly dir: string | null;

  constructor(private readonly o: SandboxCertAuthorityOptions) {
    this.dir = o.dataDir ? join(o.dataDir, "certs") : null;
    const loaded = this.dir ? readState(join(this.dir, STATE_FILE)) : null;
    const merchantKey = publicKeyPem(o.merchantPublicKey);
    if (loaded) {
      this.state = loaded;
      // A new merchant key (the launcher made new keys): the app certificate is issued again for it.
      if (publicKeyPem(this.state.appCertPem) !== merchantKey) this.state.appCertPem = issueAppCert(this.state, o.appId, merchantKey);
    } else {
      this.state = newCaState(o.appId, merchantKey, o.alipayKeys);
    }
    this.save();
  }

  /** Root bundle: the RSA root, then the ECDSA root (alipay_root_cert_sn must skip it). */
  get rootBundlePem(): string {
    return this.state.rootCertPem + this.state.ecRootCertPem;
  }

  get appCertPem(): string {
    return this.state.appCertPem;
  }

  get appCertSn(): string {
    return certSerialNumber(this.state.appCertPem);
  }

  /** alipay_root_cert_sn as the official SDKs compute it: the RSA-signed certificates of the bundle only. */
  get rootCertSn(): string {
    return rootCertSerialNumber(this.rootBundlePem);
  }

  /** The certificate that signs answers and notifies now. */
  get current(): AlipayCertGeneration {
    return this.state.alipayCerts.at(-1)!;
  }

  /** Every Alipay certificate ever issued here, oldest first. */
  get generations(): readonly AlipayCertGeneration[] {
    return this.state.alipayCerts;
  }

  bySn(sn: string): AlipayCertGeneration | undefined {
    return this.state.alipayCerts.find((g) => g.sn === sn);
  }

  /** Alipay rotates its certificate: a new key and certificate sign from now on. The old ones stay downloadable. */
  rotate(): { previousSn: string; sn: string; generation: AlipayCertGeneration } {
    const previousSn = this.current.sn;
    const generation = newAlipayGeneration(this.state, this.state.alipayCerts.length + 1);
    this.state.alipayCerts.push(generation);
    this.save();
    return { previousSn, sn: generation.sn, generation };
  }

  files(): SandboxCertFilesInfo {
    return this.dir
      ? { appCertFile: join(this.dir, appCertFileName(this.o.appId)), alipayCertFile: join(this.dir, ALIPAY_CERT_FILE), alipayRootCertFile: join(this.dir, ROOT_CERT_FILE) }
      : { appCertFile: null, alipayCertFile: null, alipayRootCertFile: null };
  }

  private save(): void {
    if (!this.dir) return;
    mkdirSync(this.dir, { recursive: true });
    writeAtomically(join(this.dir, STATE_FILE), JSON.stringify(this.state, null, 2), 0o600);
    writeAtomically(join(this.dir, ROOT_CERT_FILE), this.rootBundlePem, 0o644);
    writeAtomically(join(this.dir, ALIPAY_CERT_FILE), this.current.chainPem, 0o644);
    writeAtomically(join(this.dir, appCertFileName(this.o.appId)), this.state.appCertPem, 0o644);
  }
}

function writeAtomically(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

function readState(path: string): CaState | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  const s = JSON.parse(text) as CaState;
  if (s.version !== 1 || !Array.isArray(s.alipayCerts) || s.alipayCerts.length === 0) throw new Error(`${path}: not a sandbox certificate state file (delete the certs directory to start over)`);
  // Parse everything once, so a damaged file fails at start.
  certificates(s.rootCertPem + s.ecRootCertPem + s.intermediateCertPem + s.appCertPem);
  return s;
}
