// Response extraction and verification (docs/alipay-protocol.md §1.6) on bodies signed with the test Alipay key.
import assert from "node:assert/strict";
import { test } from "node:test";
import { extractResponseNode, responseKeyFor } from "../../../core/alipay/response.ts";
import { reasonCode, signContent, verifyResponse } from "../../../core/alipay/signature.ts";
import { keys } from "./helpers.ts";

const METHOD = "alipay.trade.query";
const KEY = responseKeyFor(METHOD);
// The data contains everything a naive extractor trips on: a "sign" key, braces and quotes inside
// strings, escaped quotes and backslashes, `\/` and `\u` escapes, nested objects and arrays.
const NODE =
  '{"code":"10000","msg":"Success","sign":"not-the-sign","subject":"a } { \\" ] [ \\\\","url":"https:\\/\\/qr.alipay.com\\/x","name":"\\u8bfe\\u7a0b","fund_bill_list":[{"amount":"0.01","fund_channel":"ALIPAYACCOUNT"}],"total_amount":"0.01"}';
const SIGN = signContent(NODE, keys.alipayPrivate);

function check(body: string, expectValid = true): ReturnType<typeof verifyResponse> {
  const r = verifyResponse(body, METHOD, keys.alipayPublic);
  assert.equal(r.valid, expectValid, r.reason);
  return r;
}

test("responseKeyFor replaces every dot", () => {
  assert.equal(KEY, "alipay_trade_query_response");
  assert.equal(responseKeyFor("alipay.trade.fastpay.refund.query"), "alipay_trade_fastpay_refund_query_response");
});

test("sign after the node (Alipay's usual layout)", () => {
  const r = check(`{"${KEY}":${NODE},"sign":"${SIGN}"}`);
  assert.equal(r.signedContent, NODE);
  assert.equal((r.node as { sign: string }).sign, "not-the-sign");
  assert.equal((r.node as { url: string }).url, "https://qr.alipay.com/x");
});

test("sign before the node (the Node SDK's getSignStr fails this)", () => {
  assert.equal(check(`{"sign":"${SIGN}","${KEY}":${NODE}}`).signedContent, NODE);
});

test("whitespace and newlines around keys, colons and the node; cert-mode alipay_cert_sn", () => {
  const body = `\n {\r\n  "${KEY}" :\t${NODE} ,\n  "alipay_cert_sn" : "abc",\n  "sign" : "${SIGN}"\n}\n`;
  assert.equal(check(body).signedContent, NODE);
});

test("the sign string itself may be JSON-escaped (\\/) as PHP json_encode writes it", () => {
  assert.ok(SIGN.includes("/") || SIGN.includes("+"));
  check(`{"${KEY}":${NODE},"sign":"${SIGN.replaceAll("/", "\\/")}"}`);
});

test("escapes are kept byte-exact; a signature over the unescaped text verifies via the Java \\/ retry", () => {
  // Signed over the node as sent (with \/): verifies on the first candidate.
  assert.equal(check(`{"${KEY}":${NODE},"sign":"${SIGN}"}`).signedContent, NODE);
  // Signed over "https://…" while the body says "https:\/\/…": the retry finds it.
  const unescaped = NODE.replaceAll("\\/", "/");
  const r = check(`{"${KEY}":${NODE},"sign":"${signContent(unescaped, keys.alipayPrivate)}"}`);
  assert.equal(r.signedContent, unescaped);
  // Re-serialising the node (what JSON.parse + JSON.stringify would do) must NOT verify.
  const reserialised = JSON.stringify(JSON.parse(NODE));
  assert.notEqual(reserialised, NODE);
  check(`{"${KEY}":${reserialised},"sign":"${SIGN}"}`, false);
});

test("pretty-printed node: the signed text includes its inner whitespace", () => {
  const pretty = JSON.stringify(JSON.parse(NODE), null, 2);
  const body = `{"${KEY}": ${pretty}, "sign": "${signContent(pretty, keys.alipayPrivate)}"}`;
  assert.equal(check(body).signedContent, pretty);
});

test("error_response is the fallback node, and is verified too", () => {
  const err = '{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id","sub_msg":"无效的AppID参数"}';
  const r = check(`{"error_response":${err},"sign":"${signContent(err, keys.alipayPrivate)}"}`);
  assert.deepEqual(r.node, JSON.parse(err));
  // When both are present the method node wins.
  const both = `{"error_response":${err},"${KEY}":${NODE},"sign":"${SIGN}"}`;
  assert.equal(check(both).signedContent, NODE);
});

test("business errors are signed like successes", () => {
  const node = '{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}';
  check(`{"${KEY}":${node},"sign":"${signContent(node, keys.alipayPrivate)}"}`);
});

test("failures carry a reason code", () => {
  const code = (body: string) => reasonCode(verifyResponse(body, METHOD, keys.alipayPublic).reason);
  assert.equal(code(`{"${KEY}":${NODE}}`), "missing_sign");
  assert.equal(code(`{"${KEY}":${NODE},"sign":null}`), "missing_sign");
  assert.equal(code(`{"${KEY}":${NODE.replace("0.01", "9.99")},"sign":"${SIGN}"}`), "wrong_key_or_tampered");
  assert.equal(code(`{"alipay_trade_close_response":${NODE},"sign":"${SIGN}"}`), "response_node_not_found");
  assert.equal(code(`{"${KEY}":"${"x".repeat(10)}","sign":"${SIGN}"}`), "wrong_key_or_tampered");
  assert.equal(code(`{"${KEY}":[1],"sign":"${SIGN}"}`), "response_node_not_found");
  assert.equal(code(`{"${KEY}":${NODE},"sign":"${SIGN}"`), "malformed_json");
  assert.equal(code(`<html>502 Bad Gateway</html>`), "malformed_json");
  assert.equal(code(`[{"${KEY}":${NODE}}]`), "malformed_json");
  assert.equal(code(""), "malformed_json");
  // Duplicated root node: JSON.parse keeps the last, a signature may cover the first (EasySDK rejects).
  const forged = '{"code":"10000","msg":"Success","trade_status":"TRADE_SUCCESS"}';
  assert.equal(code(`{"${KEY}":${NODE},"${KEY}":${forged},"sign":"${SIGN}"}`), "duplicate_node");
  assert.equal(code(`{"${KEY}":${NODE},"sign":"${SIGN}","sign":"${SIGN}"}`), "duplicate_node");
  // A key that only looks like the node key once decoded counts as the node key.
  assert.equal(code(`{"${KEY}":${NODE},"alipay_trade_query\\u005fresponse":${forged},"sign":"${SIGN}"}`), "duplicate_node");
  assert.equal(reasonCode(verifyResponse(`{"${KEY}":${NODE},"sign":"${SIGN}"}`, METHOD, "junk").reason), "bad_key");
});

test("RSA (SHA-1) responses with signType RSA", () => {
  const body = `{"${KEY}":${NODE},"sign":"${signContent(NODE, keys.alipayPrivate, "RSA")}"}`;
  assert.equal(verifyResponse(body, METHOD, keys.alipayPublic, { signType: "RSA" }).valid, true);
  assert.equal(verifyResponse(body, METHOD, keys.alipayPublic).valid, false);
});

test("encrypted (AES) node: the signed text is the string's content", () => {
  const cipher = "3q2+7w==";
  const r = verifyResponse(`{"${KEY}":"${cipher}","sign":"${signContent(cipher, keys.alipayPrivate)}"}`, METHOD, keys.alipayPublic);
  assert.equal(r.valid, true, r.reason);
  assert.equal(r.node, cipher);
});

test("extractResponseNode returns the exact substring", () => {
  const body = `{"sign":"${SIGN}",  "${KEY}":${NODE}  }`;
  const e = extractResponseNode(body, METHOD);
  assert.ok(e.ok);
  assert.equal(e.nodeKey, KEY);
  assert.equal(e.nodeText, NODE);
  assert.equal(body.indexOf(e.nodeText), body.indexOf(NODE));
  assert.equal(e.sign, SIGN);
});
