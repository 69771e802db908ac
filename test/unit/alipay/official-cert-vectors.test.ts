// The official Node SDK's published certificate fixtures (test/fixtures/alipay-sdk-certs/README.md) as
// test vectors: core/alipay computes the serial numbers the SDK's own tests expect, and the root SN
// counts exactly the RSA-signed certificates of Alipay's real root bundle (SM2 and ECDSA roots skipped).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { chainProblem, certRequestParams } from "../../../core/alipay/certs.ts";
import { certificates, certSerialNumber, publicKeyBase64, rootCertSerialNumber, signatureAlgorithmOid } from "../../../core/alipay/keys.ts";

const dir = join(import.meta.dirname, "../../fixtures/alipay-sdk-certs");
const read = (f: string) => readFileSync(join(dir, f), "utf8");
const appCert = read("appCertPublicKey_2021001161683774.crt");
const alipayCert = read("alipayCertPublicKey_RSA2.crt");
const rootBundle = read("alipayRootCert.crt");

// Expected values: alipay-sdk-nodejs-all test/antcertutil.test.ts (appCertSnVal, alipayPublicCertSnVal, rootCertSnVal, publicKeyVal).
const APP_CERT_SN = "866efef280dec9137a87d047ac446315";
const ALIPAY_CERT_SN = "7513daaaa48aa3ba2e4018d84402479c";
const ROOT_CERT_SN = "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6";
const ALIPAY_PUBLIC_KEY =
  "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAhoVesfcGvUv1XvUndmX0rmSZ/2posJBCooySbSVFpV79RtHMzrVz2aKkC3WvOXeT5iNeQK4mK8gp3vNkWrHTkQGx5BcmkeO1WS384CQde7dAS0gmxeFs5bs+cCQqV2A2c2R9/5rJMtFtp1Ot/rIiMBUn6Ei0UoztM7AneavqQEzSwYlCKNhPFFtHCiz7u4O5R9CIyvUmYr+zpem2HXBN9ygPAZ0aXBQipGbc45+G07ZCNsmY4hV/Igya1aBf+Ye8p10Ew8uBBri0sIknhSC2LqKKy2IH1fO6q1d1jhN240QRHvbpRNv60kAfZsEulBASBrCMBi49NiJyr5nre7SNywIDAQAB";

test("app_cert_sn of the SDK's app certificate is the SDK's expected value", () => {
  assert.equal(certSerialNumber(appCert), APP_CERT_SN);
});

test("alipay_cert_sn of the SDK's Alipay certificate is the SDK's expected value, and its key is the SDK's", () => {
  assert.equal(certSerialNumber(alipayCert), ALIPAY_CERT_SN);
  assert.equal(publicKeyBase64(alipayCert), ALIPAY_PUBLIC_KEY);
});

test("alipay_root_cert_sn of the SDK's root bundle: the two RSA-signed roots of four, in file order", () => {
  assert.equal(rootCertSerialNumber(rootBundle), ROOT_CERT_SN);
  const bundle = certificates(rootBundle);
  assert.equal(bundle.length, 4);
  const rsa = bundle.filter((c) => signatureAlgorithmOid(c.raw).startsWith("1.2.840.113549.1.1."));
  assert.equal(rsa.length, 2);
  assert.deepEqual(rsa.map((c) => certSerialNumber(c)).join("_"), ROOT_CERT_SN);
  // Counting every certificate (the SM2 and ECDSA roots too) gives a different, wrong value.
  assert.notEqual(bundle.map((c) => certSerialNumber(c)).join("_"), ROOT_CERT_SN);
  assert.ok(bundle.some((c) => signatureAlgorithmOid(c.raw) === "1.2.156.10197.1.501"), "the bundle has an SM2-signed root");
});

test("the request parameters a certificate-mode client sends", () => {
  assert.deepEqual(certRequestParams({ appCert, alipayRootCert: rootBundle }), { appCertSn: APP_CERT_SN, alipayRootCertSn: ROOT_CERT_SN });
});

test("the SDK's Alipay certificate alone (no intermediate) does not chain to the root bundle, and the check says why", () => {
  assert.match(chainProblem(alipayCert, rootBundle) ?? "", /not issued by any certificate of the root bundle \(issuer "CN=Ant Financial Certification Authority Class 2 R1/);
});
