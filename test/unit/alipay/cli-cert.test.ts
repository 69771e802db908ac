// scripts/alipay-cli.ts certificate commands as a child process: `cert sn` against the official Node
// SDK's published vectors (its own test asserts these values: test/fixtures/alipay-sdk-certs/README.md),
// certificates accepted by `sign request` (certificate mode adds and signs the two SNs) and `verify`.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { encodeFormBody, parseQueryString } from "../../../core/alipay/form.ts";
import { certSerialNumber, rootCertSerialNumber } from "../../../core/alipay/keys.ts";
import { signParams, verifyRequest } from "../../../core/alipay/signature.ts";
import { keys, keysDir, repoRoot, runCli, tempFile } from "./helpers.ts";

const official = path.join(repoRoot, "test/fixtures/alipay-sdk-certs");
const appCert = path.join(keysDir, "app_public_cert.crt");
const alipayCert = path.join(keysDir, "alipay_public_cert.crt");
const rootCert = path.join(keysDir, "alipay_root_cert.crt");
const appPrivate = path.join(keysDir, "app_private_key.pem");
const alipayPem = path.join(keysDir, "alipay_public_key.pem");

const sn = (stdout: string) => (JSON.parse(stdout.trim()) as { sn: string }).sn;

test("cert sn --cert: the official SDK's app and Alipay certificate vectors", async () => {
  const app = await runCli(["cert", "sn", "--cert", path.join(official, "appCertPublicKey_2021001161683774.crt")]);
  assert.equal(app.code, 0, app.stderr);
  assert.deepEqual(JSON.parse(app.stdout), { sn: "866efef280dec9137a87d047ac446315" });
  const alipay = await runCli(["cert", "sn", "--cert", path.join(official, "alipayCertPublicKey_RSA2.crt")]);
  assert.equal(alipay.code, 0, alipay.stderr);
  assert.equal(sn(alipay.stdout), "7513daaaa48aa3ba2e4018d84402479c");
});

test("cert sn --root: md5 of issuer+serial of every RSA-signed root, joined by _ (official vector)", async () => {
  const r = await runCli(["cert", "sn", "--root", path.join(official, "alipayRootCert.crt")]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sn(r.stdout), "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6");
  // our own test bundle: one RSA root and one EC root (skipped)
  const own = await runCli(["cert", "sn", "--root", rootCert]);
  assert.equal(sn(own.stdout), rootCertSerialNumber(keys.alipayRootCert));
  assert.doesNotMatch(sn(own.stdout), /_/);
});

test("cert sn: usage errors exit 2 with a message and no stack trace", async () => {
  for (const args of [["cert", "sn"], ["cert", "sn", "--cert", appCert, "--root", rootCert]]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, /exactly one of --cert FILE/);
  }
  const notCert = await runCli(["cert", "sn", "--cert", alipayPem]);
  assert.equal(notCert.code, 2);
  assert.match(notCert.stderr, /alipay_public_key\.pem: no X\.509 certificate/);
  assert.doesNotMatch(notCert.stderr, /\n\s+at /);
  const missing = await runCli(["cert", "sn", "--cert", "/nonexistent.crt"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read cert file \/nonexistent\.crt: ENOENT/);
  // a bundle without an RSA-signed certificate is not Alipay's root bundle
  const ecOnly = tempFile("ec-root.crt", keys.alipayRootCert.slice(keys.alipayRootCert.indexOf("-----END CERTIFICATE-----") + 26));
  const noRsa = await runCli(["cert", "sn", "--root", ecOnly]);
  assert.equal(noRsa.code, 2);
  assert.match(noRsa.stderr, /no RSA-signed certificate/);
});

test("sign request with --app-cert/--root-cert: both SNs are added and signed; the app cert must certify the key", async () => {
  const params = { app_id: "2021000000000001", method: "alipay.trade.query", charset: "utf-8", sign_type: "RSA2", timestamp: "2026-12-02 10:00:00", version: "1.0", biz_content: '{"out_trade_no":"CP_1"}' };
  const r = await runCli(["sign", "request", "--app-private-key", appPrivate, "--app-cert", appCert, "--root-cert", rootCert], JSON.stringify(params));
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, string>;
  assert.equal(out.app_cert_sn, certSerialNumber(keys.appPublicCert));
  assert.equal(out.alipay_root_cert_sn, rootCertSerialNumber(keys.alipayRootCert));
  assert.equal(verifyRequest(out, keys.appPublic).valid, true, "the sign covers the SNs");
  const { app_cert_sn: _a, ...withoutSn } = out;
  assert.equal(verifyRequest(withoutSn, keys.appPublic).valid, false);
  // key mode is unchanged: the sign alone
  const plain = await runCli(["sign", "request", "--app-private-key", appPrivate], JSON.stringify(params));
  assert.equal(plain.stdout.trim(), signParams(params, keys.appPrivate, "RSA2", "request"));

  const wrongCert = await runCli(["sign", "request", "--app-private-key", appPrivate, "--app-cert", alipayCert, "--root-cert", rootCert], JSON.stringify(params));
  assert.equal(wrongCert.code, 2);
  assert.match(wrongCert.stderr, /does not certify the key/);
  const half = await runCli(["sign", "request", "--app-private-key", appPrivate, "--app-cert", appCert], JSON.stringify(params));
  assert.equal(half.code, 2);
  assert.match(half.stderr, /needs both --app-cert FILE and --root-cert FILE/);
});

test("verify notify / return with --alipay-cert (Alipay's public-key certificate)", async () => {
  const notify = { notify_id: "n1", out_trade_no: "CP_1", total_amount: "1.00", sign_type: "RSA2", alipay_cert_sn: certSerialNumber(keys.alipayPublicCert) };
  const body = encodeFormBody({ ...notify, sign: signParams(notify, keys.alipayPrivate, "RSA2", "V1") });
  const ok = await runCli(["verify", "notify", "--alipay-cert", alipayCert], body);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const ret = await runCli(["verify", "return", "--alipay-cert", alipayCert], `https://shop.example/alipay/return?${body}`);
  assert.equal(ret.code, 0, ret.stdout + ret.stderr);
  assert.equal(parseQueryString(body).out_trade_no, "CP_1");
  // the app's certificate is not Alipay's: invalid
  const wrong = await runCli(["verify", "notify", "--alipay-cert", appCert], body);
  assert.equal(wrong.code, 1);
  const notCert = await runCli(["verify", "notify", "--alipay-cert", alipayPem], body);
  assert.equal(notCert.code, 2);
  assert.match(notCert.stderr, /no X\.509 certificate/);
  const both = await runCli(["verify", "notify", "--alipay-cert", alipayCert, "--alipay-public-key", alipayPem], body);
  assert.equal(both.code, 2);
});
