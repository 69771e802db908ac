// A phone buyer pays by wap pay, in a real browser (Debian's chromium via playwright-core) with a phone's
// viewport, touch and User-Agent: the checkout offers the phone cashier (with a visible switch to the
// computer one), the order's pay URL is alipay.trade.wap.pay, the sandbox's phone cashier fits the
// screen, login creates the trade, Pay returns to the shop, and the notify turns the order PAID. A second
// order is left with the cashier's "quit", which leads back to that order in My orders.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { parseQueryString } from "../../core/alipay/form.ts";
import { startStack, waitFor, type Stack } from "../support/index.ts";
import { ARTIFACTS as artifacts, BROWSER_STEP_CEILING_MS, launchChromium, noChromium as skip, useOwnDatabase } from "./support.ts";

const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
  userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
};

let stack: Stack;
let browser: Browser;
let phone: BrowserContext;
let courseId = 0;
const pageProblems: string[] = [];

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `wap-pay-${name}.png`), fullPage: true });
}

/** The page is laid out for the phone: nothing wider than the screen. */
async function fitsTheScreen(page: Page): Promise<void> {
  const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  assert.ok(scroll <= inner, `page is ${scroll}px wide on a ${inner}px screen`);
}

before(async () => {
  if (skip) return;
  await useOwnDatabase("e2e-wap-pay");
  stack = await startStack({ name: "wap-pay-e2e" });
  courseId = (await stack.prisma.course.create({ data: { title: "手机上学 Node.js", description: "在手机上买课，用支付宝付款。", priceFen: 6600 } })).id;
  browser = await launchChromium();
  phone = await browser.newContext({ ...PHONE, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  phone.setDefaultTimeout(BROWSER_STEP_CEILING_MS);
  await phone.route("**/*", (route) => (new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort()));
  phone.on("page", (page) => {
    page.on("pageerror", (e) => pageProblems.push(`${page.url()}: ${e.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error" && page.url().startsWith(stack.apiUrl)) pageProblems.push(`${page.url()}: ${msg.text()}`);
    });
  });
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

describe("wap pay on a phone", { skip }, () => {
  let outTradeNo = "";

  test("a phone buyer checks out, pays on the phone cashier, and the order turns PAID", async () => {
    const page = await phone.newPage();
    await page.goto(`${stack.apiUrl}/checkout?course=${courseId}`);
    // Chosen by the User-Agent, with the switch to the computer cashier in view.
    assert.equal(await page.getAttribute("#pay-with", "data-channel"), "wap");
    assert.equal(await page.getAttribute("#pay-with-switch", "data-channel"), "page");
    assert.ok(await page.isVisible("#pay-with-switch"));
    await fitsTheScreen(page);
    // Switching and switching back: the choice is shown (and remembered).
    await page.click("#pay-with-switch");
    await page.waitForURL(/pay=page/);
    assert.equal(await page.getAttribute("#pay-with", "data-channel"), "page");
    await page.click("#pay-with-switch");
    await page.waitForURL(/pay=wap/);
    assert.equal(await page.getAttribute("#pay-with", "data-channel"), "wap");

    // Not signed in: sign up on the way, back to the checkout.
    const checkoutUrl = page.url();
    await page.click("#pay");
    await page.waitForURL(/\/signin\?next=/);
    await page.fill("#register-form input[name=email]", `phone-${Date.now()}@example.com`);
    await page.fill("#register-form input[name=password]", "correct horse battery");
    await page.click("#register-submit");
    await page.waitForURL(checkoutUrl);
    await shot(page, "1-checkout");

    await Promise.all([page.waitForURL((u) => u.href.startsWith(stack.sandboxUrl)), page.click("#pay")]);
    const payUrl = parseQueryString(new URL(page.url()).search);
    assert.equal(payUrl.method, "alipay.trade.wap.pay");
    assert.equal((JSON.parse(payUrl.biz_content!) as { product_code: string }).product_code, "QUICK_WAP_WAY");
    // The phone cashier, sized for the phone; no trade at Alipay before the login.
    assert.equal(await page.getAttribute("body", "class"), "phone");
    outTradeNo = (await page.textContent("#out-trade-no"))!;
    assert.equal(await page.textContent("#amount"), "¥66.00");
    await fitsTheScreen(page);
    assert.ok(await page.isVisible("#quit"));
    assert.equal((await stack.control.listTrades()).some((t) => t.outTradeNo === outTradeNo), false);
    await shot(page, "2-cashier-login");

    await Promise.all([page.waitForSelector("#pay"), page.tap("#login")]);
    assert.equal((await stack.control.getTrade(outTradeNo)).productCode, "QUICK_WAP_WAY");
    await fitsTheScreen(page);
    await shot(page, "3-cashier-pay");

    await Promise.all([page.waitForURL((u) => u.href.startsWith(stack.apiUrl)), page.tap("#pay")]);
    await page.waitForSelector('#result[data-state="paid"]');
    assert.equal(await page.getAttribute("#result-status", "data-status"), "PAID");
    await fitsTheScreen(page);
    await shot(page, "4-result-paid");
    const order = await stack.prisma.order.findUniqueOrThrow({ where: { outTradeNo } });
    assert.equal(order.status, "PAID");
    // Paid once, by whichever verified evidence came first: the notify, or the check the return
    // prompts (then the notify is a duplicate of it).
    const notify = await waitFor("the notify in the inbox, processed", () =>
      stack.prisma.paymentNotification.findFirst({ where: { orderId: order.id, kind: "notify", outcome: { in: ["applied", "duplicate"] } } }), { timeoutMs: BROWSER_STEP_CEILING_MS });
    assert.equal(notify.verified, true);
    const paid = await stack.prisma.orderEvent.count({ where: { orderId: order.id, toStatus: "PAID" } });
    assert.equal(paid, 1, "one transition to PAID");
    await page.close();
  });

  test("quitting the phone cashier leads back to the order in My orders, still payable", async () => {
    assert.ok(outTradeNo, "the first test signed the buyer in");
    const page = await phone.newPage();
    await page.goto(`${stack.apiUrl}/checkout?course=${courseId}`);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(stack.sandboxUrl)), page.click("#pay")]);
    const second = (await page.textContent("#out-trade-no"))!;
    assert.notEqual(second, outTradeNo);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(`${stack.apiUrl}/orders?order=`)), page.tap("#quit")]);
    const row = page.locator(`#orders-body tr[data-out-trade-no="${second}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute("class"), "focused");
    assert.equal(await row.getAttribute("data-status"), "UNPAID");
    assert.equal(await page.getAttribute("#pay-with", "data-channel"), "wap");
    await shot(page, "5-quit-back-to-orders");
    // "Pay now" opens the phone cashier again for the same order.
    await Promise.all([page.waitForURL((u) => u.href.startsWith(stack.sandboxUrl)), row.locator(".pay-again").tap()]);
    assert.equal(parseQueryString(new URL(page.url()).search).method, "alipay.trade.wap.pay");
    assert.equal(await page.textContent("#out-trade-no"), second);
    await page.close();
    assert.deepEqual(pageProblems, []);
  });
});
