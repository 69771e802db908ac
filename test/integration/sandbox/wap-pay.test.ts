// Wap pay (alipay.trade.wap.pay, the phone-browser product) and the cashier's login step, against the
// sandbox over real HTTP: core's client signs a wap-pay URL with product QUICK_WAP_WAY and quit_url; the
// gateway accepts it and shows its phone cashier; opening the URL creates no trade (query →
// ACQ.TRADE_NOT_EXIST, as at Alipay) until the buyer logs in; pay → signed return (wap.pay.return) and
// signed notify, both verified with the sandbox's Alipay key.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseQueryString } from "../../../core/alipay/form.ts";
import { verifyCallback, verifyRequest } from "../../../core/alipay/signature.ts";
import { APP_ID, coreClient, merchantKeyPair, newOutTradeNo, officialSdk, sandboxAndReceiverPerFile, type Receiver, type TestSandbox } from "./helpers.ts";

let t: TestSandbox;
let rcv: Receiver;

sandboxAndReceiverPerFile({}, (s, r) => {
  t = s;
  rcv = r;
});

const QUIT_URL = "https://shop.example/orders?order=back";

function wapUrl(outTradeNo: string, totalFen = 2990): string {
  return coreClient(t.gatewayUrl).wapPayUrl({
    outTradeNo,
    totalFen,
    subject: "手机上买的课",
    expiresAt: new Date(Date.now() + 30 * 60_000),
    returnUrl: rcv.returnUrl,
    notifyUrl: rcv.notifyUrl,
    quitUrl: QUIT_URL,
  });
}

describe("wap pay at the sandbox", () => {
  test("the wap-pay URL is signed and carries method, product_code QUICK_WAP_WAY and quit_url", () => {
    const outTradeNo = newOutTradeNo();
    const params = parseQueryString(new URL(wapUrl(outTradeNo)).search);
    assert.equal(params.method, "alipay.trade.wap.pay");
    assert.equal(params.app_id, APP_ID);
    assert.equal(params.return_url, rcv.returnUrl);
    assert.equal(params.notify_url, rcv.notifyUrl);
    const biz = JSON.parse(params.biz_content!) as Record<string, string>;
    assert.equal(biz.product_code, "QUICK_WAP_WAY");
    assert.equal(biz.quit_url, QUIT_URL);
    assert.equal(biz.out_trade_no, outTradeNo);
    assert.equal(biz.total_amount, "29.90");
    assert.match(biz.time_expire!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const verified = verifyRequest(params, merchantKeyPair().publicKeyPem);
    assert.equal(verified.valid, true, verified.reason);
    // …and a tampered one is not
    assert.equal(verifyRequest({ ...params, biz_content: params.biz_content!.replace("29.90", "0.01") }, merchantKeyPair().publicKeyPem).valid, false);
  });

  test("opening the URL shows the phone cashier's login and creates nothing; the login creates the trade", async () => {
    const outTradeNo = newOutTradeNo();
    const url = wapUrl(outTradeNo);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const loginPage = await res.text();
    assert.match(loginPage, /<body class="phone">/);
    assert.match(loginPage, /手机收银台/);
    assert.match(loginPage, /id="login-form"/);
    assert.match(loginPage, /id="app-handoff"/);
    assert.match(loginPage, new RegExp(`id="quit" href="${QUIT_URL.replaceAll("?", "\\?")}"`));
    assert.match(loginPage, /¥29\.90/);

    const client = coreClient(t.gatewayUrl);
    const before = await client.queryTrade(outTradeNo);
    assert.equal(before.kind, "business_error", JSON.stringify(before));
    assert.equal(before.kind === "business_error" && before.subCode, "ACQ.TRADE_NOT_EXIST");
    // opening it again still creates nothing
    await t.control.openPayUrl(url);
    assert.equal((await t.control.listTrades()).some((x) => x.outTradeNo === outTradeNo), false);

    const payPage = await t.control.logIn(loginPage, url);
    assert.match(payPage, /<body class="phone">/);
    assert.match(payPage, /id="pay"/);
    const trade = await t.control.getTrade(outTradeNo);
    assert.equal(trade.status, "WAIT_BUYER_PAY");
    assert.equal(trade.productCode, "QUICK_WAP_WAY");
    assert.equal(trade.quitUrl, QUIT_URL);
    const after = await client.queryTrade(outTradeNo);
    assert.equal(after.kind === "ok" && after.tradeStatus, "WAIT_BUYER_PAY");
  });

  test("an empty password is refused at the login step and creates nothing", async () => {
    const outTradeNo = newOutTradeNo();
    const url = wapUrl(outTradeNo);
    await assert.rejects(t.control.logIn(await t.control.openPayUrl(url), url, { password: "" }), /refused the login/);
    await assert.rejects(t.control.getTrade(outTradeNo), /trade_not_found/);
  });

  test("a login form whose request was tampered with is refused (the signature is checked again)", async () => {
    const outTradeNo = newOutTradeNo();
    const url = wapUrl(outTradeNo);
    const original = await t.control.openPayUrl(url);
    // the hidden request is form-encoded: "total_amount":"29.90" → "0.01"
    const page = original.replace("%2229.90%22", "%220.01%22");
    assert.notEqual(page, original, "the amount was found in the login form");
    await assert.rejects(t.control.logIn(page, url), /isv\.invalid-signature/);
    await assert.rejects(t.control.getTrade(outTradeNo), /trade_not_found/);
  });

  test("pay on the phone cashier → signed wap.pay.return to return_url, signed TRADE_SUCCESS notify", async () => {
    const outTradeNo = newOutTradeNo();
    const url = wapUrl(outTradeNo, 100);
    await t.control.openCashier(url);
    const trade = await t.control.getTrade(outTradeNo);
    // the pay button of the phone cashier, as the browser posts it
    const res = await fetch(`${t.url}/sandbox/cashier/${trade.tradeNo}/pay`, { method: "POST", redirect: "manual" });
    assert.equal(res.status, 303);
    const location = res.headers.get("location")!;
    assert.ok(location.startsWith(rcv.returnUrl), location);
    const ret = parseQueryString(new URL(location).search);
    assert.equal(ret.method, "alipay.trade.wap.pay.return");
    assert.equal(ret.out_trade_no, outTradeNo);
    assert.equal(verifyCallback(ret, t.alipayPublicKeyPem).valid, true);

    const notifies = await t.control.waitForNotifies(outTradeNo, (l) => l[0]?.state === "delivered");
    assert.equal(notifies[0]!.tradeStatus, "TRADE_SUCCESS");
    const got = rcv.notifies.find((n) => n.params.out_trade_no === outTradeNo);
    assert.ok(got, "the receiver got the notify");
    assert.equal(got.params.total_amount, "1.00");
    assert.equal(verifyCallback(got.params, t.alipayPublicKeyPem).valid, true);
  });

  test("the official SDK's wap.pay URL works too; a wrong product_code gets the gateway's error page", async () => {
    const sdk = officialSdk(t.gatewayUrl);
    const outTradeNo = newOutTradeNo();
    const url = sdk.pageExecute("alipay.trade.wap.pay", "GET", {
      bizContent: { outTradeNo, productCode: "QUICK_WAP_WAY", totalAmount: "5.00", subject: "sdk wap", quitUrl: QUIT_URL },
      returnUrl: rcv.returnUrl,
      notifyUrl: rcv.notifyUrl,
    });
    await t.control.openCashier(url);
    assert.equal((await t.control.getTrade(outTradeNo)).productCode, "QUICK_WAP_WAY");

    const wrong = sdk.pageExecute("alipay.trade.wap.pay", "GET", {
      bizContent: { outTradeNo: newOutTradeNo(), productCode: "FAST_INSTANT_TRADE_PAY", totalAmount: "5.00", subject: "sdk wap" },
    });
    const res = await fetch(wrong);
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /data-sub-code="ACQ\.INVALID_PARAMETER"/);
    assert.match(html, /QUICK_WAP_WAY/);
  });
});
