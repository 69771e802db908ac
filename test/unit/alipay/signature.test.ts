import assert from "node:assert/strict";
import crypto from "node:crypto";
import { test } from "node:test";
import {
  buildSignContent,
  reasonCode,
  signContent,
  signParams,
  verifyCallback,
  verifyRequest,
} from "../../../core/alipay/signature.ts";
import { keys, vector } from "./helpers.ts";

const notify = {
  notify_id: "n1",
  app_id: "9021000000000001",
  out_trade_no: "CP_1",
  total_amount: "12.30",
  subject: "课程 A+B",
  charset: "utf-8",
  sign_type: "RSA2",
};

test("buildSignContent: byte-order sort, raw values, excludes, empty keys always dropped", () => {
  const params = { b: "2", a: "x y&z=%20", B: "upper", _: "u", "": "no-key", empty: "" };
  assert.equal(buildSignContent(params), "B=upper&_=u&a=x y&z=%20&b=2");
  assert.equal(buildSignContent(params, { dropEmpty: false }), "B=upper&_=u&a=x y&z=%20&b=2&empty=");
  assert.equal(buildSignContent(params, { exclude: ["a", "b"] }), "B=upper&_=u");
});

test("signParams request rule keeps sign_type, V1 drops it; both drop sign and empties", () => {
  const params = { ...notify, sign: "old", body: "" };
  const pub = crypto.createPublicKey(keys.alipayPrivate);
  const verify = (content: string, sig: string) => crypto.verify("sha256", Buffer.from(content), pub, Buffer.from(sig, "base64"));
  const requestSig = signParams(params, keys.alipayPrivate);
  assert.ok(verify(buildSignContent(params, { exclude: ["sign"] }), requestSig));
  assert.ok(buildSignContent(params, { exclude: ["sign"] }).includes("sign_type=RSA2"));
  const v1Sig = signParams(params, keys.alipayPrivate, "RSA2", "V1");
  assert.ok(verify(buildSignContent(params, { exclude: ["sign", "sign_type"] }), v1Sig));
  assert.notEqual(requestSig, v1Sig);
});

test("signContent is deterministic PKCS#1 v1.5; RSA uses SHA-1", () => {
  const a = signContent("a=1", keys.appPrivate);
  assert.equal(a, signContent("a=1", keys.appPrivate, "RSA2"));
  assert.equal(Buffer.from(a, "base64").length, 256);
  const sha1 = signContent("a=1", keys.appPrivate, "RSA");
  assert.ok(crypto.verify("sha1", Buffer.from("a=1"), keys.appPublic, Buffer.from(sha1, "base64")));
  assert.throws(() => signContent("a=1", keys.appPrivate, "MD5" as never), TypeError);
});

test("verifyCallback: a V1-signed notify verifies; RSA (SHA-1) follows sign_type", () => {
  const signed = { ...notify, sign: signParams(notify, keys.alipayPrivate, "RSA2", "V1") };
  const r = verifyCallback(signed, keys.alipayPublic);
  assert.deepEqual(r, { valid: true, reason: "ok", signedContent: buildSignContent(notify, { exclude: ["sign_type"] }) });

  const rsa = { ...notify, sign_type: "RSA" };
  assert.equal(verifyCallback({ ...rsa, sign: signParams(rsa, keys.alipayPrivate, "RSA", "V1") }, keys.alipayPublic).valid, true);
  // Signed SHA-256 but labelled RSA: fails.
  assert.equal(verifyCallback({ ...rsa, sign: signParams(rsa, keys.alipayPrivate, "RSA2", "V1") }, keys.alipayPublic).valid, false);
});

test("verifyCallback: empty values verify whether the signer dropped them (Java) or kept them (Node/PHP)", () => {
  const params = { ...notify, body: "" };
  const dropped = signContent(buildSignContent(params, { exclude: ["sign", "sign_type"], dropEmpty: true }), keys.alipayPrivate);
  const kept = signContent(buildSignContent(params, { exclude: ["sign", "sign_type"], dropEmpty: false }), keys.alipayPrivate);
  assert.notEqual(dropped, kept);
  const a = verifyCallback({ ...params, sign: dropped }, keys.alipayPublic);
  const b = verifyCallback({ ...params, sign: kept }, keys.alipayPublic);
  assert.equal(a.valid, true);
  assert.equal(b.valid, true);
  assert.ok(b.signedContent.includes("body=&"));
});

test("verifyCallback: V2 (sign_type kept) only with allowV2", () => {
  const signed = { ...notify, sign: signParams(notify, keys.alipayPrivate, "RSA2", "request") };
  assert.equal(reasonCode(verifyCallback(signed, keys.alipayPublic).reason), "wrong_key_or_tampered");
  const r = verifyCallback(signed, keys.alipayPublic, { allowV2: true });
  assert.equal(r.valid, true);
  assert.ok(r.signedContent.includes("sign_type=RSA2"));
});

test("verifyCallback: each failure says why", () => {
  const sign = signParams(notify, keys.alipayPrivate, "RSA2", "V1");
  const code = (params: Record<string, string>, key = keys.alipayPublic) => reasonCode(verifyCallback(params, key).reason);

  assert.equal(code(notify), "missing_sign");
  assert.equal(code({ ...notify, sign: "" }), "missing_sign");
  assert.equal(code({ ...notify, sign, sign_type: "SM2" }), "unsupported_sign_type");
  // '+' turned into ' ' by a second URL-decode: the reason says so.
  const spaced = verifyCallback({ ...notify, sign: sign.replaceAll("+", " ").replaceAll("/", " ") }, keys.alipayPublic);
  assert.equal(reasonCode(spaced.reason), "bad_base64");
  assert.match(spaced.reason, /second URL-decode/);
  assert.equal(code({ ...notify, sign: sign.replaceAll("+", "-").replaceAll("/", "_") }), "bad_base64");
  assert.equal(code({ ...notify, sign: sign.slice(0, -4) }), "sign_length_mismatch");
  // A 1024-bit key cannot have made a 256-byte signature: wrong key, said plainly.
  assert.equal(code({ ...notify, sign }, vector("chloerei-request-page-pay-url-rsa2-1024").public_key_pem), "sign_length_mismatch");
  assert.equal(code({ ...notify, sign }, keys.appPublic), "wrong_key_or_tampered");
  assert.equal(code({ ...notify, sign, total_amount: "12.31" }), "wrong_key_or_tampered");
  assert.equal(code({ ...notify, sign }, "not a key"), "bad_key");
  assert.equal(code({ ...notify, sign }, keys.alipayPrivate), "bad_key");
  // A charset we cannot encode the string-to-sign in: the reason names the charset.
  assert.equal(code({ ...notify, sign, charset: "big5" }), "charset");
  // GBK apps: the signature covers the GBK bytes of the string-to-sign.
  const gbk = { ...notify, subject: "课程 进阶", charset: "GBK" };
  const gbkSign = signContent(buildSignContent(gbk, { exclude: ["sign", "sign_type"] }), keys.alipayPrivate, "RSA2", "gbk");
  assert.equal(verifyCallback({ ...gbk, sign: gbkSign }, keys.alipayPublic).valid, true);
  assert.equal(code({ ...gbk, sign: signParams(gbk, keys.alipayPrivate, "RSA2", "V1") }), "wrong_key_or_tampered", "UTF-8 bytes signed, GBK declared");
  assert.equal(code({ ...gbk, sign: gbkSign, total_amount: "1.00" }), "wrong_key_or_tampered");
});

test("verifyCallback: the failure carries the canonical string-to-sign for support", () => {
  const r = verifyCallback({ ...notify, sign: signParams(notify, keys.appPrivate, "RSA2", "V1") }, keys.alipayPublic);
  assert.equal(r.valid, false);
  assert.equal(r.signedContent, buildSignContent(notify, { exclude: ["sign_type"] }));
  assert.match(r.reason, /^wrong_key_or_tampered: /);
});

test("verifyCallback: a missing sign_type defaults to RSA2 (callers sometimes strip it)", () => {
  const { sign_type: _t, ...withoutType } = notify;
  assert.equal(verifyCallback({ ...withoutType, sign: signParams(notify, keys.alipayPrivate, "RSA2", "V1") }, keys.alipayPublic).valid, true);
});

test("verifyCallback never throws on hostile input", () => {
  for (const params of [null, undefined, 42, "x", [], { sign: 5 }, { sign: "%%%" }, { ["__proto__"]: "x", sign: "AAAA" }]) {
    const r = verifyCallback(params as never, keys.alipayPublic);
    assert.equal(r.valid, false);
  }
});

test("verifyRequest checks the merchant request rule (what the gateway does)", () => {
  const req = { app_id: "1", method: "alipay.trade.query", sign_type: "RSA2", biz_content: '{"out_trade_no":"A"}', timestamp: "2024-01-01 00:00:00" };
  const sign = signParams(req, keys.appPrivate);
  assert.equal(verifyRequest({ ...req, sign }, keys.appPublic).valid, true);
  assert.equal(verifyRequest({ ...req, sign, sign_type: "RSA" }, keys.appPublic).valid, false);
  assert.equal(reasonCode(verifyRequest({ ...req, sign, sign_type: "" }, keys.appPublic).reason), "missing_field");
  assert.equal(verifyRequest({ ...req, sign, biz_content: '{"out_trade_no":"B"}' }, keys.appPublic).valid, false);
});
