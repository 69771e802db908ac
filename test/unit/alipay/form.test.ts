import assert from "node:assert/strict";
import { test } from "node:test";
import { FormParseError, encodeFormBody, parseFormBody, parseQueryString, tryParseFormBody } from "../../../core/alipay/form.ts";

test("each value is decoded exactly once: + is space, %2B is +, %25 stays a single %", () => {
  assert.deepEqual(parseFormBody("a=x+y&b=1%2B1&c=100%25&d=%E4%B8%AD%E6%96%87&e=a%20b"), {
    a: "x y",
    b: "1+1",
    c: "100%",
    d: "中文",
    e: "a b",
  });
});

test("passback_params stays URL-encoded after the one decode (alipay-sdk-nodejs-all#45)", () => {
  // The merchant sent encodeURIComponent("a=1&b=中"); the form encodes it again on the wire.
  const passback = encodeURIComponent("a=1&b=中");
  const body = `passback_params=${encodeURIComponent(passback)}&x=1`;
  assert.equal(parseFormBody(body).passback_params, passback);
});

test("keys are decoded too; empty segments skipped; a bare key has an empty value", () => {
  assert.deepEqual(parseFormBody("&a%5Fb=1&&flag&c=&"), { a_b: "1", flag: "", c: "" });
  assert.deepEqual(parseFormBody(""), {});
  assert.deepEqual(parseFormBody("a==b"), { a: "=b" });
});

test("Buffer input; raw UTF-8 bytes are accepted as UTF-8", () => {
  assert.deepEqual(parseFormBody(Buffer.from("s=课程&t=%F0%9F%98%80")), { s: "课程", t: "😀" });
});

test("a __proto__ parameter is an ordinary own parameter", () => {
  const p = parseFormBody("__proto__=x&constructor=y");
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.deepEqual(Object.keys(p), ["__proto__", "constructor"]);
  assert.equal(Object.getOwnPropertyDescriptor(p, "__proto__")?.value, "x");
});

test("duplicated keys are a typed error listing them, with a best-effort parse", () => {
  const err = (() => {
    try {
      parseFormBody("sign=A&out_trade_no=1&total_amount=0.01&total_amount=9999&sign=B");
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.ok(err instanceof FormParseError);
  assert.equal(err.code, "duplicate_key");
  assert.deepEqual(err.duplicates, ["total_amount", "sign"]);
  assert.equal(err.params.total_amount, "0.01");
  // Same key spelled differently on the wire is still a duplicate.
  assert.throws(() => parseFormBody("a=1&%61=2"), (e: unknown) => e instanceof FormParseError && e.duplicates[0] === "a");
});

test("broken percent-encoding and non-UTF-8 bytes are refused, not guessed", () => {
  for (const body of ["a=%", "a=%2", "a=%zz", "a=1%g0", "%=1"]) {
    assert.throws(() => parseFormBody(body), (e: unknown) => e instanceof FormParseError && e.code === "bad_percent_encoding", body);
  }
  // GBK "中" is D6 D0; a lone continuation byte; an overlong encoding.
  for (const body of ["a=%D6%D0", "a=%80", "a=%C0%AF"]) {
    assert.throws(() => parseFormBody(body), (e: unknown) => e instanceof FormParseError && e.code === "invalid_utf8", body);
  }
  assert.throws(() => parseFormBody(Buffer.from([0x61, 0x3d, 0xff])), /not UTF-8/);
});

test("tryParseFormBody returns the error instead of throwing", () => {
  assert.deepEqual(tryParseFormBody("a=1"), { ok: true, params: { a: "1" } });
  const r = tryParseFormBody("a=1&a=1");
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.error.code, "duplicate_key");
});

test("parseQueryString: raw, leading ?, request target or a whole URL (fragment dropped)", () => {
  const expected = { a: "1 2", b: "x" };
  assert.deepEqual(parseQueryString("a=1+2&b=x"), expected);
  assert.deepEqual(parseQueryString("?a=1+2&b=x"), expected);
  assert.deepEqual(parseQueryString("  ?a=1+2&b=x\n"), expected);
  assert.deepEqual(parseQueryString("https://shop.example/alipay/return?a=1+2&b=x#top"), expected);
  assert.deepEqual(parseQueryString("https://shop.example/alipay/return"), {});
  assert.deepEqual(parseQueryString("/alipay/return?a=1+2&b=x"), expected);
  // A '?' inside a raw query is just a character.
  assert.deepEqual(parseQueryString("a=what?&b=x"), { a: "what?", b: "x" });
});

test("encodeFormBody round-trips through parseFormBody", () => {
  const params = { "k&=": "v +%&=?#\n中😀", sign: "a+b/c==" };
  assert.deepEqual(parseFormBody(encodeFormBody(params)), params);
});
