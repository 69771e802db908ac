// Answers real Alipay gives that a kind emulator would not (issue 13 point 4), produced by the sandbox
// and handled by core/alipay's client: aop.-prefixed sub_codes, unsigned refusals (no "sign", or
// "sign":""), GBK answers, buyer_open_id, TRADE_FINISHED.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { evidenceFromQuery } from "../../../core/orders/evidence.ts";
import { coreClient, newOutTradeNo, officialSdk, openTrade, startReceiver, startSandbox, type Receiver, type TestSandbox } from "./helpers.ts";

let t: TestSandbox;
let rcv: Receiver;
before(async () => {
  t = await startSandbox();
  rcv = await startReceiver();
});
after(async () => {
  await t.close();
  await rcv.close();
});

describe("real-Alipay answers", () => {
  test("aop.ACQ.TRADE_NOT_EXIST means ACQ.TRADE_NOT_EXIST (the reconciler stops re-checking)", async () => {
    const outTradeNo = newOutTradeNo();
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "aopSubCodes" }] });
    const r = await coreClient(t.gatewayUrl).queryTrade(outTradeNo);
    assert.ok(r.kind === "business_error", JSON.stringify(r));
    assert.equal(r.subCode, "ACQ.TRADE_NOT_EXIST");
    assert.deepEqual(evidenceFromQuery(r), { kind: "trade_not_exist" });
    // The fault really prefixed the wire value: the official SDK (which passes sub_code through) sees it.
    const sdk = await officialSdk(t.gatewayUrl).exec("alipay.trade.query", { bizContent: { out_trade_no: outTradeNo } });
    assert.equal(sdk.subCode, "aop.ACQ.TRADE_NOT_EXIST");
    await t.control.clearFaults(outTradeNo);
  });

  test("aop.ACQ.SYSTEM_ERROR is an unknown outcome, like ACQ.SYSTEM_ERROR", async () => {
    const { outTradeNo } = await openTrade(t, rcv);
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "gatewayError", error: "aop.ACQ.SYSTEM_ERROR", times: 1 }] });
    const r = await coreClient(t.gatewayUrl).queryTrade(outTradeNo);
    assert.equal(r.kind, "unknown", JSON.stringify(r));
    assert.match((r as { reason: string }).reason, /ACQ\.SYSTEM_ERROR/);
  });

  test("wrong app id: unsigned 40002 isv.invalid-app-id, reported with a hint, never evidence", async () => {
    const r = await coreClient(t.gatewayUrl, { appId: "2021000000009999" }).queryTrade(newOutTradeNo());
    assert.equal(r.kind, "unknown");
    const reason = (r as { reason: string }).reason;
    assert.match(reason, /^Alipay refused the call: 40002 isv\.invalid-app-id \(unsigned answer\)/);
    assert.match(reason, /hint: ALIPAY_APP_ID/);
    assert.deepEqual(evidenceFromQuery(r).kind, "unknown");
    // On the wire: no sign at all.
    const res = await fetch(`${t.gatewayUrl}?method=alipay.trade.query&app_id=2021000000009999&sign_type=RSA2&timestamp=2024-01-01%2000:00:00&version=1.0&sign=AAAA&charset=utf-8`);
    const body = await res.text();
    assert.match(body, /"sub_code":"isv\.invalid-app-id"/);
    assert.doesNotMatch(body, /"sign"/);
  });

  test("wrong app key: \"sign\":\"\" isv.invalid-signature, reported as a refusal with the key hint", async () => {
    const r = await coreClient(t.gatewayUrl, { appPrivateKey: generateRsaKeyPair().privateKeyPem }).queryTrade(newOutTradeNo());
    assert.equal(r.kind, "unknown");
    assert.match((r as { reason: string }).reason, /^Alipay refused the call: 40002 isv\.invalid-signature \(unsigned answer\).*hint: the app public key/);
  });

  test("unsignedError fault: either form, on a trade that exists, is still not evidence", async () => {
    const { outTradeNo } = await openTrade(t, rcv);
    await t.control.pay(outTradeNo);
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "unsignedError", error: "isv.missing-signature-config", emptySign: true, times: 1 }] });
    const r = await coreClient(t.gatewayUrl).queryTrade(outTradeNo);
    assert.equal(r.kind, "unknown");
    assert.match((r as { reason: string }).reason, /^Alipay refused the call: 40003 isv\.missing-signature-config \(unsigned answer\)/);
    const again = await coreClient(t.gatewayUrl).queryTrade(outTradeNo);
    assert.equal(again.kind, "ok");
  });

  test("GBK answer: decoded by its declared charset and verified over the GBK bytes", async () => {
    const outTradeNo = newOutTradeNo();
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "gbkCharset", times: 1 }] });
    const r = await coreClient(t.gatewayUrl).queryTrade(outTradeNo);
    assert.ok(r.kind === "business_error", JSON.stringify(r));
    assert.equal(r.subMsg, "交易不存在", "Chinese text survives the GBK round trip");
    assert.equal((await t.control.listTrades()).some((x) => x.outTradeNo === outTradeNo), false);
  });

  test("buyer_open_id instead of buyer_user_id: query and notify carry it", async () => {
    const { outTradeNo } = await openTrade(t, rcv);
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "buyerOpenId" }] });
    await t.control.pay(outTradeNo);
    const r = await coreClient(t.gatewayUrl).queryTrade(outTradeNo);
    assert.ok(r.kind === "ok", JSON.stringify(r));
    assert.match(r.buyerId ?? "", /^074[A-Za-z0-9]{44}$/);
    const [n] = await t.control.waitForNotifies(outTradeNo, (l) => l.length > 0);
    assert.equal(n!.params.buyer_open_id, r.buyerId);
    assert.equal(n!.params.buyer_id, undefined);
  });

  test("TRADE_FINISHED after the refund window: query says so, a notify goes out, refunds are refused", async () => {
    const { outTradeNo } = await openTrade(t, rcv);
    await t.control.pay(outTradeNo);
    const finished = await t.control.finish(outTradeNo);
    assert.equal(finished.status, "TRADE_FINISHED");
    const client = coreClient(t.gatewayUrl);
    const q = await client.queryTrade(outTradeNo);
    assert.ok(q.kind === "ok" && q.tradeStatus === "TRADE_FINISHED");
    const notes = await t.control.waitForNotifies(outTradeNo, (l) => l.some((x) => x.tradeStatus === "TRADE_FINISHED"));
    assert.ok(notes.some((x) => x.params.trade_status === "TRADE_FINISHED"));
    const refund = await client.refund({ outTradeNo, refundFen: 1, outRequestNo: "R1" });
    assert.ok(refund.kind === "business_error" && refund.subCode === "ACQ.TRADE_HAS_FINISHED");
  });
});
