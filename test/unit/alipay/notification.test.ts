import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { decodePassbackParams, parsePaymentNotification } from "../../../core/alipay/notification.ts";
import { checkMerchant, isPaidTradeStatus, TRADE_STATUSES } from "../../../core/alipay/protocol.ts";
import { formatBeijingTime, parseBeijingTime } from "../../../core/alipay/time.ts";
import { loadVectors } from "./helpers.ts";

const yuque = loadVectors().find((v) => v.id === "node-notify-yuque-trade-success-rsa2")!.params!;

test("a real TRADE_SUCCESS notify parses into typed fields (fen, Beijing times)", () => {
  const r = parsePaymentNotification(yuque);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  const f = r.fields;
  assert.equal(f.tradeStatus, "TRADE_SUCCESS");
  assert.equal(f.outTradeNo, "20190815155618536-564-57");
  assert.equal(f.tradeNo, "2019081522001468450512505578");
  assert.equal(f.totalFen, 10);
  assert.equal(f.receiptFen, 10);
  assert.equal(f.pointFen, 0);
  assert.equal(f.refundFen, null);
  assert.equal(f.sellerId, "2088531891668739");
  assert.equal(f.appId, "2019073166072302");
  assert.equal(f.notifyId, "2019081500222155624068450559358070");
  assert.equal(f.gmtPayment?.toISOString(), "2019-08-15T07:56:24.000Z");
  assert.equal(f.fundBillList, '[{"amount":"0.10","fundChannel":"ALIPAYACCOUNT"}]');
  assert.equal(f.body, null);
});

test("refund notification fields: refund_fee, out_biz_no, gmt_refund with milliseconds", () => {
  const r = parsePaymentNotification({ ...yuque, refund_fee: "0.05", out_biz_no: "R1", gmt_refund: "2019-08-16 10:00:00.123" });
  assert.ok(r.ok);
  assert.equal(r.fields.refundFen, 5);
  assert.equal(r.fields.outBizNo, "R1");
  assert.equal(r.fields.gmtRefund?.toISOString(), "2019-08-16T02:00:00.123Z");
});

test("empty optional values are treated as absent", () => {
  const r = parsePaymentNotification({ ...yuque, body: "", refund_fee: "", gmt_close: "" });
  assert.ok(r.ok);
  assert.equal(r.fields.body, null);
  assert.equal(r.fields.refundFen, null);
  assert.equal(r.fields.gmtClose, null);
});

test("what Alipay would not send is an error result naming the field", () => {
  const errors = (params: unknown) => {
    const r = parsePaymentNotification(params);
    assert.equal(r.ok, false);
    return (r as { errors: string[] }).errors.join("\n");
  };
  assert.match(errors({ ...yuque, trade_status: "PAID" }), /trade_status/);
  assert.match(errors({ ...yuque, total_amount: "0.001" }), /total_amount: not a yuan amount/);
  assert.match(errors({ ...yuque, total_amount: "-1.00" }), /total_amount/);
  assert.match(errors({ ...yuque, total_amount: "1e3" }), /total_amount/);
  assert.match(errors({ ...yuque, gmt_payment: "2019-02-30 10:00:00" }), /gmt_payment/);
  assert.match(errors({ ...yuque, out_trade_no: "x".repeat(65) }), /out_trade_no/);
  assert.match(errors({ ...yuque, total_amount: 0.1 }), /total_amount/);
  const { notify_id: _n, ...noId } = yuque;
  assert.match(errors(noId), /notify_id/);
});

test("never throws on hostile input", () => {
  const hostile: unknown[] = [
    null,
    undefined,
    "trade_status=TRADE_SUCCESS",
    42,
    [],
    [yuque],
    Object.create(null),
    { ...yuque, subject: { toString: () => "x" } },
    new Proxy({}, { get: () => { throw new Error("trap"); }, ownKeys: () => { throw new Error("trap"); } }),
    { get trade_status(): string { throw new Error("getter"); } },
  ];
  for (const input of hostile) assert.equal(parsePaymentNotification(input).ok, false);
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.anything())), (junk) => {
      const r = parsePaymentNotification({ ...yuque, ...junk });
      assert.ok(typeof r.ok === "boolean");
    }),
    { numRuns: 200 },
  );
});

test("isPaidTradeStatus: only TRADE_SUCCESS and TRADE_FINISHED", () => {
  assert.deepEqual(TRADE_STATUSES.map(isPaidTradeStatus), [false, false, true, true]);
});

test("checkMerchant reports app_id and seller_id mismatches", () => {
  const r = parsePaymentNotification(yuque);
  assert.ok(r.ok);
  assert.deepEqual(checkMerchant(r.fields, { appId: "2019073166072302", sellerId: "2088531891668739" }), []);
  assert.deepEqual(checkMerchant(r.fields, { appId: "2019073166072302" }), []);
  assert.equal(checkMerchant(r.fields, { appId: "other", sellerId: "2088000000000000" }).length, 2);
  // One rule for every kind of evidence: a field this kind of message does not carry (undefined) is
  // not checked (query answers carry neither); a field that is there but empty (null) is a mismatch.
  assert.deepEqual(checkMerchant({}, { appId: "other", sellerId: "2088000000000000" }), []);
  assert.equal(checkMerchant({ appId: "other", sellerId: null }, { appId: "other", sellerId: "2088000000000000" }).length, 1);
});

test("a notification without seller_id is refused by the parser, so the seller check always runs on notifies", () => {
  const { seller_id: _dropped, ...withoutSeller } = yuque as Record<string, string>;
  const r = parsePaymentNotification(withoutSeller);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.errors.some((e) => e.startsWith("seller_id")), JSON.stringify(r));
});

test("decodePassbackParams undoes the client's single encode; malformed → null", () => {
  assert.equal(decodePassbackParams(encodeURIComponent("order=1&x=中")), "order=1&x=中");
  assert.equal(decodePassbackParams("%E4%B8"), null);
  assert.equal(decodePassbackParams(null), null);
});

test("Beijing wire times: format and parse are inverse and timezone-independent", () => {
  const d = new Date("2024-02-29T16:30:05.000Z");
  assert.equal(formatBeijingTime(d), "2024-03-01 00:30:05");
  assert.equal(parseBeijingTime("2024-03-01 00:30:05")?.toISOString(), d.toISOString());
  for (const bad of ["2024-03-01T00:30:05", "2024-3-1 00:30:05", "2023-02-29 00:00:00", "2024-01-01 24:00:00", "", "2024-01-01 00:00:60"]) {
    assert.equal(parseBeijingTime(bad), null, bad);
  }
  assert.throws(() => formatBeijingTime(new Date(Number.NaN)), RangeError);
});
