// Property tests through the sandbox's real notify delivery (the pure sign/verify round trip is covered
// by test/unit/alipay/signature.property.test.ts): hostile subjects, bodies and passback_params go into
// a page-pay request, the sandbox delivers the notify over HTTP, and the body the receiver got must
// verify with core/alipay's verifyCallback — and stop verifying after any one-character change.
// Also: buildSignedNotify (the forging helper for benches) with arbitrary overrides, empty values included.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { FormParseError, parseFormBody } from "../../../core/alipay/form.ts";
import { verifyCallback } from "../../../core/alipay/signature.ts";
import { fenToYuan } from "../../../core/money/index.ts";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { alipayKeyPair, APP_ID, newOutTradeNo, officialSdk, SELLER_ID, sandboxAndReceiverPerFile, type Receiver, type TestSandbox } from "./helpers.ts";

const PUB = () => alipayKeyPair().publicKeyPem;

let t: TestSandbox;
let rcv: Receiver;
sandboxAndReceiverPerFile({}, (s, r) => {
  t = s;
  rcv = r;
});

const tricky = fc.constantFrom("+", "%", "&", "=", " ", "%20", "%2B", "%%", "?", "#", "\n", "中", "文", "😀", "\"", "\\", "/", "é", "<", "'");
const unit = fc.oneof({ weight: 3, arbitrary: tricky }, { weight: 4, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) });
const text = (min: number, max: number) => fc.string({ unit, minLength: min, maxLength: max });
const subject = fc.oneof({ weight: 4, arbitrary: text(1, 30) }, { weight: 1, arbitrary: text(100, 150) }).filter((s) => s.length <= 256 && s.trim() !== "");
const optional = (max: number) => fc.option(text(0, max).filter((s) => s.length <= max * 2), { nil: undefined });

/** Replace one character of one signed value (or key) with a different one. */
function mutateOne(params: Record<string, string>, pick: number, pos: number, replacement: string): Record<string, string> | null {
  const keys = Object.keys(params).filter((k) => k !== "sign" && k !== "sign_type" && params[k] !== "");
  const key = keys[pick % keys.length]!;
  const value = params[key]!;
  const chars = [...value];
  const i = pos % chars.length;
  if (chars[i] === replacement) return null;
  chars[i] = replacement;
  return { ...params, [key]: chars.join("") };
}

/** Flip one byte of the raw form body; returns the re-parsed params, or null if it no longer parses. */
function mutateRawByte(raw: string, index: number, byte: number): Record<string, string> | null {
  const bytes = Buffer.from(raw, "utf8");
  const i = index % bytes.length;
  if (bytes[i] === byte) return null;
  bytes[i] = byte;
  try {
    return parseFormBody(bytes);
  } catch (e) {
    if (e instanceof FormParseError) return null;
    throw e;
  }
}

// What rule V1 signs: non-empty values, without sign_type (a missing sign_type means RSA2). A flipped
// byte that only breaks "sign_type=RSA2" or renames an empty parameter changes nothing signed.
const signedView = (p: Record<string, string>) =>
  Object.fromEntries(Object.entries(p).filter(([k, v]) => v !== "" && k !== "sign_type").sort(([x], [y]) => (x < y ? -1 : 1)));
const sameParams = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(signedView(a)) === JSON.stringify(signedView(b));

describe("notify signatures through real delivery", () => {
  test("hostile subject / body / passback_params: the delivered body verifies; any change fails", { timeout: 25_000 }, async () => {
    const sdk = officialSdk(t.gatewayUrl);
    await fc.assert(
      fc.asyncProperty(
        subject,
        optional(60),
        optional(200),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.nat(),
        fc.nat(),
        fc.oneof(tricky, fc.constantFrom("a", "0", "Z")),
        fc.nat(),
        fc.integer({ min: 0x20, max: 0x7e }),
        async (subj, body, passback, fen, pick, pos, replacement, byteIndex, byte) => {
          const outTradeNo = newOutTradeNo("P");
          const url = sdk.pageExecute("alipay.trade.page.pay", "GET", {
            bizContent: {
              outTradeNo,
              productCode: "FAST_INSTANT_TRADE_PAY",
              totalAmount: fenToYuan(fen),
              subject: subj,
              ...(body !== undefined ? { body: body.slice(0, 128) } : {}),
              ...(passback !== undefined ? { passbackParams: passback.slice(0, 512) } : {}),
            },
            notifyUrl: rcv.notifyUrl,
          });
          // open and log in at the cashier: only the login creates the trade
          await t.control.openCashier(url);
          await t.control.pay(outTradeNo);
          const deadline = Date.now() + 3000;
          let got = rcv.notifies.find((n) => n.params.out_trade_no === outTradeNo);
          while (!got) {
            if (Date.now() > deadline) throw new Error("notify not received");
            await new Promise((r) => setTimeout(r, 5));
            got = rcv.notifies.find((n) => n.params.out_trade_no === outTradeNo);
          }
          const p = got.params;
          // values survive the trip exactly (a present empty value is simply not sent)
          assert.equal(p.subject, subj);
          if (body) assert.equal(p.body, body.slice(0, 128));
          if (passback) assert.equal(p.passback_params, passback.slice(0, 512));
          assert.equal(p.total_amount, fenToYuan(fen));
          const ok = verifyCallback(p, PUB());
          assert.equal(ok.valid, true, ok.reason);

          const changed = mutateOne(p, pick, pos, replacement);
          if (changed) assert.equal(verifyCallback(changed, PUB()).valid, false, "one changed character must fail");

          const flipped = mutateRawByte(got.raw, byteIndex, byte);
          if (flipped && !sameParams(flipped, p)) {
            assert.equal(verifyCallback(flipped, PUB()).valid, false, "one changed byte must fail unless it decodes the same");
          }
        },
      ),
      { numRuns: 100, interruptAfterTimeLimit: 15_000 },
    );
  });
});

describe("buildSignedNotify", () => {
  const key = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), text(1, 6)).filter((k) => k !== "sign" && k.trim() !== "" && k !== "__proto__");
  const value = fc.oneof({ weight: 1, arbitrary: fc.constant("") }, { weight: 6, arbitrary: text(0, 40) }, { weight: 1, arbitrary: text(300, 600) });

  test("arbitrary overrides (empty values included) verify; any one-character change fails", () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 8 }), fc.nat(), fc.nat(), fc.constantFrom("x", "+", " ", "中"), (overrides, pick, pos, replacement) => {
        const params = buildSignedNotify(
          { outTradeNo: "BENCH_1", appId: APP_ID, sellerId: SELLER_ID, totalFen: 1230, subject: "课程" },
          { ...overrides, sign_type: "RSA2" },
          { privateKey: alipayKeyPair().privateKeyPem },
        );
        const ok = verifyCallback(params, PUB());
        assert.equal(ok.valid, true, ok.reason);
        const changed = mutateOne(params, pick, pos, replacement);
        if (changed) assert.equal(verifyCallback(changed, PUB()).valid, false);
      }),
      { numRuns: 150 },
    );
  });

  test("a null override removes a field; events shape the notify", () => {
    const base = { outTradeNo: "BENCH_2", appId: APP_ID, sellerId: SELLER_ID, totalAmount: "10.00" };
    const privateKey = alipayKeyPair().privateKeyPem;
    const paid = buildSignedNotify(base, { passback_params: null, seller_email: null }, { privateKey });
    assert.equal(paid.trade_status, "TRADE_SUCCESS");
    assert.equal(paid.seller_email, undefined);
    assert.ok(paid.gmt_payment && paid.fund_bill_list);
    const partial = buildSignedNotify(base, {}, { privateKey, refund: { outRequestNo: "R1", refundFen: 300 } });
    assert.equal(partial.trade_status, "TRADE_SUCCESS");
    assert.equal(partial.refund_fee, "3.00");
    assert.equal(partial.out_biz_no, "R1");
    const full = buildSignedNotify(base, {}, { privateKey, refund: { outRequestNo: "R2", refundFen: 1000 } });
    assert.equal(full.trade_status, "TRADE_CLOSED");
    const closed = buildSignedNotify({ ...base, status: "TRADE_CLOSED" }, {}, { privateKey });
    assert.equal(closed.trade_status, "TRADE_CLOSED");
    assert.equal(closed.gmt_payment, undefined);
    for (const p of [paid, partial, full, closed]) assert.equal(verifyCallback(p, PUB()).valid, true);
  });
});
