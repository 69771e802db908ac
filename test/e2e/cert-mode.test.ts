// The buyer's flow in a real browser (Debian chromium + playwright-core) with coursepay and the
// sandbox both in certificate mode (公钥证书模式): the roles are configured with ALIPAY_APP_CERT_FILE /
// ALIPAY_CERT_FILE / ALIPAY_ROOT_CERT_FILE only. A buyer signs up, buys a course, pays at the cashier
// and the result page turns to paid on the verified notify; then Alipay rotates its certificate and a
// second purchase in the same browser still ends paid, the new certificate downloaded and stored once.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startStack, waitFor, type Stack } from "../support/index.ts";
import { ARTIFACTS as artifacts, BROWSER_STEP_CEILING_MS, launchChromium, noChromium as skip, useOwnDatabase } from "./support.ts";

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
const pageProblems: string[] = [];
let courseId = 0;

before(async () => {
  if (skip) return;
  await useOwnDatabase("e2e-cert-mode");
  stack = await startStack({ name: "e2e-cert-mode", certMode: true });
  courseId = (await stack.prisma.course.create({ data: { title: "证书模式 / Certificate mode", description: "公钥证书模式下的完整购买流程。", priceFen: 16800 } })).id;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  context.setDefaultTimeout(BROWSER_STEP_CEILING_MS);
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.protocol === "data:") return route.continue();
    pageProblems.push(`off-machine request: ${url.href}`);
    return route.abort();
  });
  context.on("page", (page) => page.on("pageerror", (e) => pageProblems.push(`${page.url()}: ${e.message}`)));
});

after(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
});

/** Catalog → checkout → cashier → pay → result page; returns the out_trade_no once the page says paid. */
async function buyAndPay(page: Page, shotPrefix: string): Promise<string> {
  await page.goto(`${stack.apiUrl}/`);
  await page.click(`[data-course-id="${courseId}"] .buy-now`);
  await page.waitForURL(/\/checkout\?course=/);
  assert.equal(await page.textContent("#checkout-total"), "¥168.00");
  await Promise.all([page.waitForURL((u) => u.href.startsWith(stack.sandboxUrl)), page.click("#pay")]);
  const outTradeNo = (await page.textContent("#out-trade-no"))!;
  // The notify comes after the buyer is back: the result page must wait for verified evidence.
  await stack.control.addFaults({ outTradeNo, faults: [{ kind: "delayNotify", ms: 1000 }] });
  // The cashier's login step creates the trade at Alipay.
  await Promise.all([page.waitForSelector("#pay"), page.click("#login")]);
  await page.screenshot({ path: join(artifacts, `cert-mode-${shotPrefix}-cashier.png`), fullPage: true });
  await Promise.all([page.waitForURL((u) => u.href.startsWith(`${stack.apiUrl}/`)), page.click("#pay")]);
  await page.waitForSelector('#result[data-state="paid"]');
  assert.equal(await page.getAttribute("#result-status", "data-status"), "PAID");
  await page.screenshot({ path: join(artifacts, `cert-mode-${shotPrefix}-result.png`), fullPage: true });
  return outTradeNo;
}

/** The trade's notifies once the first has been delivered. */
const deliveredNotifies = (outTradeNo: string) =>
  stack.control.waitForNotifies(outTradeNo, (n) => n.length >= 1 && n[0]!.state === "delivered", { timeoutMs: BROWSER_STEP_CEILING_MS });

describe("certificate mode: the buyer's flow in a browser", { skip }, () => {
  test("a buyer signs up, buys a course and pays; the notify is verified by the certificate it names", async () => {
    assert.ok(stack.config.alipay.certs, "the roles run in certificate mode");
    const page = await context.newPage();
    await page.goto(`${stack.apiUrl}/signin`);
    await page.fill("#register-form input[name=email]", `cert-buyer-${Date.now()}@example.com`);
    await page.fill("#register-form input[name=password]", "correct horse battery");
    await page.click("#register-submit");
    await page.waitForURL(`${stack.apiUrl}/`);

    const outTradeNo = await buyAndPay(page, "1");
    const order = await stack.prisma.order.findUniqueOrThrow({ where: { outTradeNo } });
    assert.equal(order.status, "PAID");
    // The page may turn paid by the check the return prompts, before the (delayed) notify arrives:
    // wait for the notify itself.
    const sent = await deliveredNotifies(outTradeNo);
    const inbox = await waitFor("the notify in the inbox", async () => {
      const rows = await stack.prisma.paymentNotification.findMany({ where: { outTradeNo, kind: "notify" } });
      return rows.length >= 1 ? rows : null;
    }, { timeoutMs: BROWSER_STEP_CEILING_MS });
    assert.ok(inbox.every((n) => n.verified), JSON.stringify(inbox.map((n) => n.reason)));
    const certs = await stack.control.certs();
    assert.equal(sent[0]!.attempts.at(-1)!.sentParams?.alipay_cert_sn, certs.alipayCertSn);
  });

  test("after Alipay rotates its certificate, the next purchase still ends paid; the new certificate is stored once", async () => {
    const { sn } = await stack.control.rotateAlipayCert();
    const page = await context.newPage();
    const outTradeNo = await buyAndPay(page, "2-after-rotation");
    assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { outTradeNo } })).status, "PAID");
    const stored = await stack.prisma.alipayCert.findMany();
    assert.deepEqual(stored.map((c) => c.sn), [sn]);
    const sent = await deliveredNotifies(outTradeNo);
    assert.equal(sent[0]!.attempts.at(-1)!.sentParams?.alipay_cert_sn, sn);
  });

  test("the pages ran without script errors or requests off the machine", () => {
    assert.deepEqual(pageProblems, []);
  });
});
