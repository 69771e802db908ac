import assert from "node:assert/strict";
import crypto from "node:crypto";
import { test } from "node:test";
import { AlipaySdk } from "alipay-sdk";
import {
  KeyError,
  certSerialNumber,
  generateRsaKeyPair,
  privateKeyPem,
  publicKeyBase64,
  publicKeyPem,
  rootCertSerialNumber,
  toPrivateKey,
  toPublicKey,
} from "../../../core/alipay/keys.ts";
import { signParams, verifyCallback } from "../../../core/alipay/signature.ts";
import { keys } from "./helpers.ts";

const spki = (input: string) => toPublicKey(input).export({ type: "spki", format: "der" }).toString("base64");
const bare = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");

test("public key: SPKI PEM, PKCS#1 PEM, bare base64, CRLF/indented PEM and certificates are the same key", () => {
  const expected = bare(keys.alipayPublic);
  const pkcs1Pem = crypto.createPublicKey(keys.alipayPublic).export({ type: "pkcs1", format: "pem" }).toString();
  const certDer = bare(keys.alipayPublicCert);
  const variants = {
    spkiPem: keys.alipayPublic,
    pkcs1Pem,
    pkcs1Bare: bare(pkcs1Pem),
    bareBase64: keys.alipayPublicBare,
    bareWithLineBreaks: keys.alipayPublicBare.replace(/(.{64})/g, "$1\n"),
    crlfIndented: keys.alipayPublic.split("\n").map((l) => `  ${l}`).join("\r\n"),
    certPem: keys.alipayPublicCert,
    certBareDer: certDer,
    certWithTextBefore: `subject=CN = alipay\n${keys.alipayPublicCert}`,
  };
  for (const [name, input] of Object.entries(variants)) assert.equal(spki(input), expected, name);
  assert.equal(publicKeyBase64(keys.alipayPublicCert), keys.alipayPublicBare);
  assert.equal(publicKeyPem(keys.alipayPublicBare), keys.alipayPublic);
});

test("public key: an SPKI key mislabelled 'BEGIN PRIVATE KEY' (seen in merchants' configs) is still read", () => {
  const mislabelled = `-----BEGIN PRIVATE KEY-----\n${keys.alipayPublicBare}\n-----END PRIVATE KEY-----\n`;
  assert.match(mislabelled, /BEGIN PRIVATE KEY/);
  assert.equal(toPublicKey(mislabelled).asymmetricKeyDetails?.modulusLength, 2048);
});

test("public key: refuses private keys, garbage and non-RSA keys with a KeyError saying why", () => {
  assert.throws(() => toPublicKey(keys.appPrivate), (e: unknown) => e instanceof KeyError && /private key/.test(e.message) && e.code === "bad_key");
  assert.throws(() => toPublicKey(bare(keys.alipayPrivate)), /private key/);
  assert.throws(() => toPublicKey(""), /empty/);
  assert.throws(() => toPublicKey("hello world!"), KeyError);
  assert.throws(() => toPublicKey("-----BEGIN PUBLIC KEY-----\nMIIB"), /armour/);
  assert.throws(() => toPublicKey(keys.alipayPublicBare.slice(0, 100)), KeyError);
  const ec = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "pem" }).toString();
  assert.throws(() => toPublicKey(ec), /RSA/);
});

test("private key: PKCS#8 and PKCS#1, PEM or bare base64", () => {
  const pkcs1 = crypto.createPrivateKey(keys.appPrivate).export({ type: "pkcs1", format: "pem" }).toString();
  const expected = privateKeyPem(keys.appPrivate);
  for (const input of [keys.appPrivate, pkcs1, bare(keys.appPrivate), bare(pkcs1), keys.alipayPrivate]) {
    assert.equal(toPrivateKey(input).asymmetricKeyType, "rsa");
  }
  assert.equal(privateKeyPem(bare(pkcs1)), expected);
  assert.throws(() => toPrivateKey(keys.appPublic), /public key/);
  assert.throws(() => toPrivateKey(keys.alipayPublicCert), /public key or certificate/);
  const encrypted = crypto.createPrivateKey(keys.appPrivate).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "x" }).toString();
  assert.throws(() => toPrivateKey(encrypted), /encrypted/);
});

test("a notify verifies with the Alipay key given as PEM, bare base64 or certificate", () => {
  const params = { out_trade_no: "A1", total_amount: "1.00", sign_type: "RSA2" };
  const sign = signParams(params, keys.alipayPrivate, "RSA2", "V1");
  for (const k of [keys.alipayPublic, keys.alipayPublicBare, keys.alipayPublicCert]) {
    assert.equal(verifyCallback({ ...params, sign }, k).valid, true);
  }
});

test("generateRsaKeyPair makes a working 2048-bit pair", () => {
  const { privateKeyPem: priv, publicKeyPem: pub } = generateRsaKeyPair();
  assert.match(priv, /^-----BEGIN PRIVATE KEY-----/);
  assert.match(pub, /^-----BEGIN PUBLIC KEY-----/);
  assert.equal(toPublicKey(pub).asymmetricKeyDetails?.modulusLength, 2048);
  const params = { a: "1", sign_type: "RSA2" };
  assert.equal(verifyCallback({ ...params, sign: signParams(params, priv, "RSA2", "V1") }, pub).valid, true);
});

test("certificate SNs match what the official SDK computes (app_cert_sn, alipay_root_cert_sn)", () => {
  const sdk = new AlipaySdk({
    appId: "2021000000000000",
    privateKey: keys.appPrivate,
    keyType: "PKCS8",
    appCertContent: keys.appPublicCert,
    alipayPublicCertContent: keys.alipayPublicCert,
    alipayRootCertContent: keys.alipayRootCert,
  });
  assert.match(certSerialNumber(keys.appPublicCert), /^[0-9a-f]{32}$/);
  assert.equal(certSerialNumber(keys.appPublicCert), sdk.config.appCertSn);
  assert.equal(certSerialNumber(keys.alipayPublicCert), sdk.config.alipayCertSn);
  assert.equal(rootCertSerialNumber(keys.alipayRootCert), sdk.config.alipayRootCertSn);
  // The chain holds an RSA root and an EC root: only the RSA-signed one counts.
  assert.equal(rootCertSerialNumber(keys.alipayRootCert).split("_").length, 1);
  // The same algorithm by hand: md5(issuer DN reversed to RFC 2253 order + decimal serial).
  const cert = new crypto.X509Certificate(keys.alipayPublicCert);
  const dn = "CN=Coursepay Test Root Class 2 R1,OU=Certification Authority,O=Coursepay Test CA,C=CN";
  const serial = BigInt("0x020230818001").toString(10);
  assert.equal(cert.serialNumber.toLowerCase(), "020230818001");
  assert.equal(certSerialNumber(keys.alipayPublicCert), crypto.createHash("md5").update(dn + serial).digest("hex"));
});

test("a doubled root chain yields two SNs joined with _", () => {
  const rsaRoot = keys.alipayRootCert.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!;
  const sn = certSerialNumber(rsaRoot);
  assert.equal(rootCertSerialNumber(rsaRoot + rsaRoot), `${sn}_${sn}`);
  assert.throws(() => certSerialNumber("nothing here"), KeyError);
});
