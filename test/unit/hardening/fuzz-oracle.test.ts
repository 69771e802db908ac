// The fuzz test's oracle (test/integration/fuzz/notify-cases.ts mayPayWith) must never be stricter
// than a correct server: whenever the signature of a received notify verifies, the content it covers
// is what was signed, so a payment of the exact amount to our app and seller may pay. An oracle that
// says otherwise fails the fuzz test on a correct server (it once did, for lone surrogates: signed
// and sent as the UTF-8 of U+FFFD, read back as "\uFFFD").
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import fc from "fast-check";
import { parseFormBody } from "../../../core/alipay/form.ts";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { verifyCallback } from "../../../core/alipay/signature.ts";
import { basePairs, encodePairs, hostileString, mayPayWith, sign, type Encoding } from "../../integration/fuzz/notify-cases.ts";

const keys = generateRsaKeyPair();
const publicKey = createPublicKey(keys.privateKeyPem).export({ type: "spki", format: "pem" }).toString();
const merchant = { appId: "2021000000000001", sellerId: "2088000000000001", privateKey: keys.privateKeyPem };
const order = { outTradeNo: "cp_0123456789abcdef0123456789abcdef", totalFen: 12_345 };
const orders = new Map([[order.outTradeNo, order]]);

/** A genuine payment notify for `order` whose descriptive fields carry hostile text, signed. */
function signedWith(subject: string, passback: string) {
  const pairs = basePairs(order, merchant).map(([k, v]) => [k, k === "subject" ? subject : v] as [string, string]);
  return sign([...pairs, ["passback_params", passback]], merchant.privateKey);
}

const serverVerifies = (body: Buffer) => {
  try {
    return verifyCallback(parseFormBody(body), publicKey).valid;
  } catch {
    return false; // unparseable: the server refuses it
  }
};

test("whenever the server's signature check passes on an untouched signed payment, the oracle lets it pay", () => {
  fc.assert(
    fc.property(hostileString, hostileString, fc.constantFrom<Encoding>("standard", "plus", "lowerHex", "encodeAll", "rawUtf8"), (subject, passback, encoding) => {
      const signed = signedWith(subject, passback);
      const body = encodePairs(signed, encoding);
      if (serverVerifies(body)) assert.equal(mayPayWith(signed, body, orders, merchant), order.outTradeNo, `body ${JSON.stringify(body.toString("latin1").slice(0, 200))}`);
    }),
    { numRuns: 300 },
  );
});

test("a lone surrogate in a signed value: the server verifies it and the oracle agrees it may pay", () => {
  const signed = signedWith("a\uD800b", "\uDFFF x");
  const body = encodePairs(signed, "standard");
  assert.equal(serverVerifies(body), true);
  assert.equal(parseFormBody(body).subject, "a\uFFFDb");
  assert.equal(mayPayWith(signed, body, orders, merchant), order.outTradeNo);
});

test("content changed after signing: the server refuses it and the oracle says it cannot pay", () => {
  const signed = signedWith("course", "x");
  const tampered = signed.map(([k, v]) => [k, k === "subject" ? "course!" : v] as [string, string]);
  const body = encodePairs(tampered, "standard");
  assert.equal(serverVerifies(body), false);
  assert.equal(mayPayWith(signed, body, orders, merchant), null);
});

test("a signed TRADE_CLOSED with a refund total for the exact amount may pay: the refund proves the payment (refund_without_payment)", () => {
  const pairs = basePairs(order, merchant).map(([k, v]) => [k, k === "trade_status" ? "TRADE_CLOSED" : v] as [string, string]);
  const signed = sign([...pairs, ["refund_fee", "0.01"]], merchant.privateKey);
  const body = encodePairs(signed, "standard");
  assert.equal(serverVerifies(body), true);
  assert.equal(mayPayWith(signed, body, orders, merchant), order.outTradeNo);
  const unrefunded = sign(pairs, merchant.privateKey);
  assert.equal(mayPayWith(unrefunded, encodePairs(unrefunded, "standard"), orders, merchant), null, "a closed trade without a refund never pays");
});
