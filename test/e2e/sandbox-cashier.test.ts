// Browser test of the sandbox cashier with Debian's chromium (playwright-core, never `playwright install`):
// a page-pay URL made by core/alipay's createAlipayClient → the cashier's login (creates the trade) → Pay → the browser lands on
// return_url with parameters that verify (rule V1), and the async notify reaches the merchant and
// verifies too. Cancel leaves the trade unpaid. Screenshots go to test-artifacts/ (git-ignored).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { parseQueryString } from "../../core/alipay/form.ts";
import { verifyCallback } from "../../core/alipay/signature.ts";
import { ARTIFACTS as artifacts, launchChromium, noChromium as skip } from "./support.ts";
import { alipayKeyPair, coreClient, newOutTradeNo, sandboxAndReceiverPerFile, type Receiver, type TestSandbox } from "../integration/sandbox/helpers.ts";


let t: TestSandbox;
let rcv: Receiver;
let browser: Browser;

sandboxAndReceiverPerFile({ timeFactor: 0.001 }, (s, r) => {
  t = s;
  rcv = r;
});
before(async () => {
  if (skip) return;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

function payUrl(outTradeNo: string, subject: string, totalFen: number): string {
  return coreClient(t.gatewayUrl).pagePayUrl({
    outTradeNo,
    totalFen,
    subject,
    expiresAt: new Date(Date.now() + 15 * 60_000),
    returnUrl: rcv.returnUrl,
    notifyUrl: rcv.notifyUrl,
    passbackParams: "coupon=A&b",
  });
}

describe("sandbox cashier in a real browser", { skip }, () => {
  test("pay: cashier → return_url with verified params; the notify arrives and verifies", async () => {
    const outTradeNo = newOutTradeNo("E2E");
    const page = await browser.newPage();
    try {
      const res = await page.goto(payUrl(outTradeNo, "TypeScript 全栈课程", 19900));
      assert.equal(res?.status(), 200);
      assert.equal(await page.textContent("#subject"), "TypeScript 全栈课程");
      assert.equal(await page.textContent("#amount"), "¥199.00");
      // Step 1 is the login; until the buyer logs in there is no trade at Alipay.
      assert.ok(await page.$("#login-form"));
      assert.equal(await page.$("#pay"), null);
      assert.equal((await t.control.listTrades()).some((x) => x.outTradeNo === outTradeNo), false);
      await Promise.all([page.waitForSelector("#pay"), page.click("#login")]);
      assert.equal((await t.control.getTrade(outTradeNo)).status, "WAIT_BUYER_PAY");
      assert.equal(await page.textContent("#buyer-logon-id"), "sandbox-buyer@example.com");
      await page.screenshot({ path: join(artifacts, "sandbox-cashier-1-cashier.png"), fullPage: true });

      await Promise.all([page.waitForURL((u) => u.href.startsWith(rcv.returnUrl)), page.click("#pay")]);
      assert.equal(await page.textContent("#merchant-return"), "Back at the shop");
      await page.screenshot({ path: join(artifacts, "sandbox-cashier-2-return.png"), fullPage: true });

      const ret = parseQueryString(page.url());
      assert.equal(ret.method, "alipay.trade.page.pay.return");
      assert.equal(ret.out_trade_no, outTradeNo);
      assert.equal(ret.total_amount, "199.00");
      const rv = verifyCallback(ret, alipayKeyPair().publicKeyPem);
      assert.equal(rv.valid, true, rv.reason);

      const notify = await (async () => {
        const deadline = Date.now() + 5000;
        for (;;) {
          const n = rcv.notifies.find((x) => x.params.out_trade_no === outTradeNo);
          if (n) return n;
          if (Date.now() > deadline) throw new Error("notify did not arrive");
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const nv = verifyCallback(notify.params, alipayKeyPair().publicKeyPem);
      assert.equal(nv.valid, true, nv.reason);
      assert.equal(notify.params.trade_status, "TRADE_SUCCESS");
      assert.equal(notify.params.trade_no, ret.trade_no);
      assert.equal(notify.params.passback_params, encodeURIComponent("coupon=A&b"));

      // Reloading the cashier now shows the paid state instead of a second Pay button.
      await page.goto(`${t.url}/sandbox/cashier/${ret.trade_no}`);
      assert.equal(await page.getAttribute("#status", "data-trade-status"), "TRADE_SUCCESS");
      assert.equal(await page.$("#pay"), null);
    } finally {
      await page.close();
    }
  });

  test("cancel: the buyer leaves; the trade stays WAIT_BUYER_PAY and nothing is notified", async () => {
    const outTradeNo = newOutTradeNo("E2E");
    const page = await browser.newPage();
    try {
      await page.goto(payUrl(outTradeNo, "Go 并发编程", 5000));
      await Promise.all([page.waitForSelector("#pay"), page.click("#login")]);
      await Promise.all([page.waitForSelector("#back-to-cashier"), page.click("#cancel")]);
      await page.screenshot({ path: join(artifacts, "sandbox-cashier-3-cancelled.png"), fullPage: true });
      assert.equal(await page.getAttribute("#status", "data-trade-status"), "WAIT_BUYER_PAY");
      assert.equal((await t.control.getTrade(outTradeNo)).status, "WAIT_BUYER_PAY");
      // back to the cashier and it can still be paid
      await page.click("#back-to-cashier");
      assert.ok(await page.$("#pay"));
      // Cancelling changes nothing at Alipay, so no notification exists for the trade (the sandbox
      // creates one synchronously with every change it notifies), and none reached the merchant.
      assert.deepEqual(await t.control.notifies(outTradeNo), []);
      assert.equal(rcv.notifies.filter((n) => n.params.out_trade_no === outTradeNo).length, 0);
    } finally {
      await page.close();
    }
  });
});
