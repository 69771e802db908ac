// The official Node SDK (alipay-sdk 4.14), unchanged but for its gateway URL, drives the sandbox over
// real HTTP: page-pay URL → cashier login → trade; query / close / refund / refund query answered with signatures the
// SDK accepts (validateSign: true); the gateway's error shapes for bad requests.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { verifyResponse } from "../../../core/alipay/signature.ts";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { APP_ID, alipayKeyPair, newOutTradeNo, officialSdk, sandboxAndReceiverPerFile, type Receiver, type TestSandbox } from "./helpers.ts";

let t: TestSandbox;
let rcv: Receiver;

sandboxAndReceiverPerFile({}, (s, r) => {
  t = s;
  rcv = r;
});

function pagePayUrl(outTradeNo: string, extra: Record<string, unknown> = {}, sdk = officialSdk(t.gatewayUrl)): string {
  return sdk.pageExecute("alipay.trade.page.pay", "GET", {
    bizContent: { outTradeNo, productCode: "FAST_INSTANT_TRADE_PAY", totalAmount: "88.80", subject: "Node.js 课程 & more", ...extra },
    returnUrl: rcv.returnUrl,
    notifyUrl: rcv.notifyUrl,
  });
}

/** Raw POST like the SDK's exec, to look at the exact body. */
async function rawExec(method: string, bizContent: Record<string, unknown>, sdk = officialSdk(t.gatewayUrl)) {
  const query = new URLSearchParams(sdk.sdkExecute(method, { bizContent }));
  const url = new URL(t.gatewayUrl);
  const body = new URLSearchParams();
  for (const [k, v] of query) (k === "biz_content" || k === "alipay_sdk" ? body : url.searchParams).append(k, v);
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
  return { status: res.status, text: await res.text() };
}

describe("official SDK against the sandbox", () => {
  test("page-pay GET URL opens the cashier's login step (HTML 200) and creates nothing; the login creates the trade", async () => {
    const outTradeNo = newOutTradeNo();
    const url = pagePayUrl(outTradeNo);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const loginPage = await res.text();
    assert.match(loginPage, /Node\.js 课程 &amp; more/);
    assert.match(loginPage, /¥88\.80/);
    assert.match(loginPage, /id="login-form"/);
    assert.doesNotMatch(loginPage, /id="pay"/);
    // As at Alipay: no trade until the buyer logs in — the query answers ACQ.TRADE_NOT_EXIST (verified).
    await assert.rejects(t.control.getTrade(outTradeNo), /trade_not_found/);
    const before = await officialSdk(t.gatewayUrl).exec("alipay.trade.query", { bizContent: { outTradeNo } }, { validateSign: true });
    assert.equal(before.subCode, "ACQ.TRADE_NOT_EXIST");
    const html = await t.control.logIn(loginPage, url);
    assert.match(html, /sandbox-buyer@example\.com/);
    assert.match(html, /id="pay"/);
    assert.match(html, /id="cancel"/);
    const trade = await t.control.getTrade(outTradeNo);
    assert.equal(trade.status, "WAIT_BUYER_PAY");
    assert.equal(trade.totalAmount, "88.80");
    assert.equal(trade.notifyUrl, rcv.notifyUrl);
  });

  test("page-pay POST form (the SDK's default) is accepted too", async () => {
    const outTradeNo = newOutTradeNo();
    const html = officialSdk(t.gatewayUrl).pageExecute("alipay.trade.page.pay", "POST", {
      bizContent: { outTradeNo, productCode: "FAST_INSTANT_TRADE_PAY", totalAmount: "1.00", subject: "form post" },
      notifyUrl: rcv.notifyUrl,
    });
    const action = /action="([^"]+)"/.exec(html)![1]!;
    const form = new URLSearchParams();
    for (const m of html.matchAll(/name="([^"]+)" value="([^"]*)"/g)) form.append(m[1]!, m[2]!.replaceAll("&quot;", '"'));
    const res = await fetch(action, { method: "POST", body: form });
    const loginPage = await res.text();
    assert.equal(res.status, 200, loginPage);
    await assert.rejects(t.control.getTrade(outTradeNo), /trade_not_found/);
    await t.control.logIn(loginPage, action);
    assert.equal((await t.control.getTrade(outTradeNo)).status, "WAIT_BUYER_PAY");
  });

  test("query / close / refund / refund.query answer with signatures the SDK verifies", async () => {
    const sdk = officialSdk(t.gatewayUrl);
    const v = { validateSign: true };

    const missing = await sdk.exec("alipay.trade.query", { bizContent: { outTradeNo: "never_opened" } }, v);
    assert.equal(missing.code, "40004");
    assert.equal(missing.subCode, "ACQ.TRADE_NOT_EXIST");
    assert.equal(missing.receiptAmount, "0.00");

    const paidNo = newOutTradeNo();
    await t.control.openCashier(pagePayUrl(paidNo));
    const waiting = await sdk.exec("alipay.trade.query", { bizContent: { outTradeNo: paidNo } }, v);
    assert.equal(waiting.code, "10000");
    assert.equal(waiting.tradeStatus, "WAIT_BUYER_PAY");
    assert.equal(waiting.totalAmount, "88.80");
    assert.equal(waiting.buyerPayAmount, "0.00");

    await t.control.pay(paidNo);
    const paid = await sdk.exec("alipay.trade.query", { bizContent: { outTradeNo: paidNo } }, v);
    assert.equal(paid.tradeStatus, "TRADE_SUCCESS");
    assert.equal(paid.buyerUserId, "2088102000000001");
    assert.equal(paid.buyerLogonId, "san***@example.com");
    assert.match(paid.sendPayDate, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    // trade_no works as well and wins over out_trade_no
    const byTradeNo = await sdk.exec("alipay.trade.query", { bizContent: { tradeNo: paid.tradeNo, outTradeNo: "ignored" } }, v);
    assert.equal(byTradeNo.outTradeNo, paidNo);

    const closePaid = await sdk.exec("alipay.trade.close", { bizContent: { outTradeNo: paidNo } }, v);
    assert.equal(closePaid.subCode, "ACQ.TRADE_STATUS_ERROR");

    const refund = await sdk.exec("alipay.trade.refund", { bizContent: { outTradeNo: paidNo, refundAmount: "8.80", outRequestNo: "r1" } }, v);
    assert.equal(refund.code, "10000");
    assert.equal(refund.refundFee, "8.80");
    assert.equal(refund.fundChange, "Y");
    const replay = await sdk.exec("alipay.trade.refund", { bizContent: { outTradeNo: paidNo, refundAmount: "8.80", outRequestNo: "r1" } }, v);
    assert.equal(replay.fundChange, "N");
    assert.equal(replay.refundFee, "8.80");

    const rq = await sdk.exec("alipay.trade.fastpay.refund.query", { bizContent: { outTradeNo: paidNo, outRequestNo: "r1" } }, v);
    assert.equal(rq.refundStatus, "REFUND_SUCCESS");
    assert.equal(rq.refundAmount, "8.80");
    assert.equal(rq.totalAmount, "88.80");
    const none = await sdk.exec("alipay.trade.fastpay.refund.query", { bizContent: { outTradeNo: paidNo, outRequestNo: "nope" } }, v);
    assert.equal(none.code, "10000");
    assert.equal(none.refundStatus, undefined);

    const openNo = newOutTradeNo();
    await t.control.openCashier(pagePayUrl(openNo));
    const closed = await sdk.exec("alipay.trade.close", { bizContent: { outTradeNo: openNo } }, v);
    assert.equal(closed.code, "10000");
    assert.equal(closed.outTradeNo, openNo);
    const again = await sdk.exec("alipay.trade.close", { bizContent: { outTradeNo: openNo } }, v);
    assert.equal(again.subCode, "ACQ.TRADE_HAS_CLOSE");
    const gone = await sdk.exec("alipay.trade.close", { bizContent: { outTradeNo: "never_opened" } }, v);
    assert.equal(gone.subCode, "ACQ.TRADE_NOT_EXIST");
  });

  test("responses are shaped like the real gateway: node then sign, \\/ escaped, verifiable byte-exact", async () => {
    const outTradeNo = newOutTradeNo();
    await t.control.openCashier(pagePayUrl(outTradeNo));
    const { status, text } = await rawExec("alipay.trade.query", { outTradeNo });
    assert.equal(status, 200);
    assert.match(text, /^\{"alipay_trade_query_response":\{"code":"10000","msg":"Success",.*\},"sign":"[A-Za-z0-9+\\/=]+"\}$/);
    const node = JSON.parse(text).alipay_trade_query_response;
    // keys after code/msg in alphabetical order, as in test/fixtures/alipay-vectors/ys-response-trade-query-trade-success.json
    const keys = Object.keys(node).slice(2);
    assert.deepEqual(keys, [...keys].sort());
    assert.equal(verifyResponse(text, "alipay.trade.query", alipayKeyPair().publicKeyPem).valid, true);
  });

  test("wrong merchant key → unsigned 40002 isv.invalid-signature with the gateway's string-to-sign", async () => {
    const stranger = officialSdk(t.gatewayUrl, generateRsaKeyPair().privateKeyPem);
    // The refusal is not signed ("sign":""), so the SDK's validateSign refuses it, as against Alipay.
    await assert.rejects(stranger.exec("alipay.trade.query", { bizContent: { outTradeNo: "x1" } }, { validateSign: true }), /验签失败/);
    const r = await stranger.exec("alipay.trade.query", { bizContent: { outTradeNo: "x1" } });
    assert.equal(r.code, "40002");
    assert.equal(r.msg, "Invalid Arguments");
    assert.equal(r.subCode, "isv.invalid-signature");
    assert.match(r.subMsg, new RegExp(`网关生成的验签字符串为：app_id=${APP_ID}&amp;biz_content=\\{"out_trade_no":"x1"\\}&amp;charset=utf-8&amp;method=alipay\\.trade\\.query&amp;sign_type=RSA2&amp;timestamp=`));

    // and a page-pay URL signed with the wrong key gets the gateway's error page, not a cashier
    const res = await fetch(pagePayUrl(newOutTradeNo(), {}, stranger));
    assert.equal(res.status, 400);
    assert.match(await res.text(), /data-sub-code="isv\.invalid-signature"/);
  });

  test("tampered parameter → isv.invalid-signature", async () => {
    const url = new URL(pagePayUrl(newOutTradeNo()));
    url.searchParams.set("biz_content", url.searchParams.get("biz_content")!.replace("88.80", "0.01"));
    const res = await fetch(url);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /isv\.invalid-signature/);
  });

  test("missing and invalid public parameters → 40001 / 40002 sub-codes", async () => {
    const sdk = officialSdk(t.gatewayUrl);
    const signed = Object.fromEntries(new URLSearchParams(sdk.sdkExecute("alipay.trade.query", { bizContent: { outTradeNo: "x" } })));
    const post = async (params: Record<string, string>) => {
      const res = await fetch(t.gatewayUrl, { method: "POST", body: new URLSearchParams(params) });
      assert.equal(res.status, 200);
      return JSON.parse(await res.text()) as Record<string, Record<string, string>>;
    };
    const without = (k: string) => Object.fromEntries(Object.entries(signed).filter(([key]) => key !== k));
    const cases: [Record<string, string>, string, string, string][] = [
      [without("method"), "error_response", "40001", "isv.missing-method"],
      [without("app_id"), "alipay_trade_query_response", "40001", "isv.missing-app-id"],
      [without("sign"), "alipay_trade_query_response", "40001", "isv.missing-signature"],
      [without("sign_type"), "alipay_trade_query_response", "40001", "isv.missing-signature-type"],
      [without("timestamp"), "alipay_trade_query_response", "40001", "isv.missing-timestamp"],
      [without("version"), "alipay_trade_query_response", "40001", "isv.missing-version"],
      [{ ...signed, method: "alipay.trade.nope" }, "error_response", "40002", "isv.invalid-method"],
      [{ ...signed, app_id: "2021000000009999" }, "alipay_trade_query_response", "40002", "isv.invalid-app-id"],
      [{ ...signed, sign_type: "MD5" }, "alipay_trade_query_response", "40002", "isv.invalid-signature-type"],
      [{ ...signed, timestamp: "2024/01/01" }, "alipay_trade_query_response", "40002", "isv.invalid-timestamp"],
      [{ ...signed, charset: "GBK" }, "alipay_trade_query_response", "40002", "isv.invalid-charset"],
    ];
    for (const [params, key, code, subCode] of cases) {
      const body = await post(params);
      assert.ok(body[key], `${subCode}: expected ${key} in ${JSON.stringify(body)}`);
      assert.equal(body[key]!.code, code, subCode);
      assert.equal(body[key]!.sub_code, subCode);
      // Error responses are signed too (docs/alipay-protocol.md §1.6), except refusals about who is calling, which
      // Alipay answers without a sign (gateway/errors.ts UnsignedAnswer).
      if (subCode === "isv.missing-app-id" || subCode === "isv.invalid-app-id") assert.equal(body.sign, undefined, subCode);
      else assert.equal(typeof body.sign, "string", subCode);
    }
  });

  test("biz_content problems → 40004 ACQ.INVALID_PARAMETER", async () => {
    const sdk = officialSdk(t.gatewayUrl);
    const noRef = await sdk.exec("alipay.trade.query", { bizContent: {} }, { validateSign: true });
    assert.equal(noRef.subCode, "ACQ.INVALID_PARAMETER");
    const badAmount = await sdk.exec("alipay.trade.refund", { bizContent: { outTradeNo: "x", refundAmount: "1.234" } }, { validateSign: true });
    assert.equal(badAmount.subCode, "ACQ.INVALID_PARAMETER");
    const badPage = await fetch(pagePayUrl(newOutTradeNo(), { productCode: "QUICK_MSECURITY_PAY" }));
    assert.equal(badPage.status, 400);
    assert.match(await badPage.text(), /ACQ\.INVALID_PARAMETER/);
  });

  test("re-opening a page-pay URL: same trade; changed amount or paid trade → error page", async () => {
    const outTradeNo = newOutTradeNo();
    await t.control.openCashier(pagePayUrl(outTradeNo));
    const first = await t.control.getTrade(outTradeNo);
    await t.control.openCashier(pagePayUrl(outTradeNo));
    assert.equal((await t.control.getTrade(outTradeNo)).tradeNo, first.tradeNo);
    const changed = await fetch(pagePayUrl(outTradeNo, { totalAmount: "1.00" }));
    assert.match(await changed.text(), /ACQ\.CONTEXT_INCONSISTENT/);
    await t.control.pay(outTradeNo);
    const paid = await fetch(pagePayUrl(outTradeNo));
    assert.match(await paid.text(), /ACQ\.TRADE_HAS_SUCCESS/);
  });

  test("app id mismatch between SDK and sandbox → isv.invalid-app-id", async () => {
    const sdk = officialSdk(t.gatewayUrl);
    sdk.config.appId = "2021009999999999";
    // Unsigned, as at Alipay: validateSign cannot accept it; without it the SDK shows the refusal.
    await assert.rejects(sdk.exec("alipay.trade.query", { bizContent: { outTradeNo: "x" } }, { validateSign: true }));
    const r = await sdk.exec("alipay.trade.query", { bizContent: { outTradeNo: "x" } });
    assert.equal(r.subCode, "isv.invalid-app-id");
    assert.notEqual(APP_ID, sdk.config.appId);
  });
});
