// The back office as a new member of staff sees it, in a real browser whose own zone is Berlin (the
// shop's is Asia/Shanghai): nothing fetched from third parties, a favicon, headings and tab titles that
// name the record, one-line order numbers and emails, one time format with its zone, reasons and
// trade statuses in the page's language, buyers by email, a command page without the order list
// flashing behind it, a dashboard whose headers, legend and today's bar read well, and logout by POST.
// Screenshots go to COURSEPAY_ARTIFACTS_DIR (test-artifacts/admin-ux-*.png).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createStaff, seedOrders, startAdmin, type AdminUnderTest, type TestStaff } from "../integration/admin/support.ts";
import { ARTIFACTS, launchChromium, logIn, useOwnDatabase } from "./support.ts";

let admin: AdminUnderTest;
let browser: Browser;
let operator: TestStaff;
let seeded: Awaited<ReturnType<typeof seedOrders>>;
const CREATED = new Date("2026-11-27T16:30:05Z"); // 2026-11-28 00:30:05 in Beijing, 17:30:05 in Berlin

before(async () => {
  await useOwnDatabase("admin-ux-e2e");
  admin = await startAdmin({ name: "admin-ux-e2e" });
  operator = await createStaff(admin.prisma, "operator");
  seeded = await seedOrders(admin.prisma, [
    // Alipay's trade numbers are 28 digits.
    { status: "PAID", createdAt: CREATED, tradeNo: "2026112822001404330000121536" },
    { status: "UNPAID" },
  ]);
  const paid = seeded.orders[0];
  await admin.prisma.orderEvent.create({ data: { orderId: paid.id, type: "created", toStatus: "UNPAID", source: "buyer", actor: `buyer:${seeded.buyer.id}`, createdAt: CREATED } });
  await admin.prisma.orderEvent.create({ data: { orderId: paid.id, type: "paid", fromStatus: "UNPAID", toStatus: "PAID", source: "notify", payload: { reason: "TRADE_SUCCESS" } } });
  await admin.prisma.orderEvent.create({ data: { orderId: paid.id, type: "payment_checked", source: "staff", actor: operator.email, payload: { reason: "already PAID (TRADE_SUCCESS)" } } });
  await admin.prisma.paymentNotification.create({ data: { rawBody: "a=b", outTradeNo: paid.outTradeNo, orderId: paid.id, verified: true, outcome: "applied", tradeStatus: "TRADE_SUCCESS", totalFen: 9900 } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await admin?.close();
});

interface Session { context: BrowserContext; page: Page; requests: string[]; cspErrors: string[] }

/** Signed in, in a browser whose own zone is Berlin and whose window is a laptop's. */
async function loggedIn(staff: TestStaff): Promise<Session> {
  const requests: string[] = [];
  const cspErrors: string[] = [];
  const { context, page } = await logIn(browser, admin.url, staff, {
    viewport: { width: 1400, height: 900 },
    timezoneId: "Europe/Berlin",
    watch: (p) => {
      p.on("request", (r) => requests.push(r.url()));
      p.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
    },
  });
  return { context, page, requests, cspErrors };
}

const shot = (page: Page, name: string, fullPage = false) => page.screenshot({ path: path.join(ARTIFACTS, `admin-ux-${name}.png`), fullPage });

/**
 * How many lines the text of an element takes on screen: the line boxes of its text nodes (one
 * client rect per line fragment), grouped by their vertical position. Element boxes are left out:
 * an inline-block link or a block wrapper has a box whose top differs from its text's by a pixel or
 * a half, which rounding turned into a second "line" (this test's earlier measure did that).
 */
const lines = (page: Page, selector: string) =>
  page.locator(selector).first().evaluate((el) => {
    const tops: number[] = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) if (r.width > 0) tops.push(r.top);
    }
    const half = parseFloat(getComputedStyle(el).fontSize) / 2;
    return tops.sort((a, b) => a - b).filter((t, i, all) => i === 0 || t - all[i - 1] > half).length;
  });

describe("the back office reads well", () => {
  test("login and dashboard: own origin only, favicon, headers on one line, legend inside the chart, today's bar dated", async () => {
    const { context, page, requests, cspErrors } = await loggedIn(operator);
    try {
      await page.getByTestId("dashboard").waitFor();
      await page.getByTestId("dash-queues").locator("th").first().waitFor();
      assert.deepEqual(requests.filter((u) => !u.startsWith(admin.url)), [], "nothing from third parties");
      assert.ok(requests.some((u) => u.endsWith("/favicon.png")), "the favicon is asked for");
      assert.deepEqual(cspErrors, []);
      assert.equal(await page.title(), "今日概览 · coursepay");

      for (const th of await page.getByTestId("dash-queues").locator("th").all()) {
        const box = (await th.boundingBox())!;
        const lineHeight = await th.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.5);
        assert.ok(box.height < 2 * lineHeight + 12, `queue header "${await th.textContent()}" on one line (${box.height}px)`);
      }
      const legend = await page.getByTestId("chart-legend").evaluate((g) => {
        const svg = (g as SVGGraphicsElement).ownerSVGElement!;
        const b = (g as SVGGraphicsElement).getBBox();
        return { top: b.y, bottom: b.y + b.height, height: svg.viewBox.baseVal.height };
      });
      assert.ok(legend.top >= 0 && legend.bottom <= legend.height, `legend inside the chart (${JSON.stringify(legend)})`);
      const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date()).slice(5);
      assert.equal(await page.getByTestId("chart-today").textContent(), `今天 ${today}`);
      assert.match(await page.getByText(/^数据时间 /).textContent() ?? "", /^数据时间 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+8$/);
      await shot(page, "1-dashboard", true);
    } finally {
      await context.close();
    }
  });

  test("order list: heading and tab name the resource; numbers and emails on one line; times in Beijing time with the zone; the row fits a laptop's window", async () => {
    const { context, page } = await loggedIn(operator);
    try {
      await page.goto(`${admin.url}/admin/resources/Order`);
      const paid = seeded.orders[0];
      await page.getByText(paid.outTradeNo).waitFor();
      assert.match(await page.getByTestId("page-heading").first().innerText(), /^订单\s*2$/, "the resource and its count");
      assert.equal(await page.title(), "订单 · coursepay");
      assert.equal(await lines(page, `tr[data-id="${paid.id}"] td[data-property-name="outTradeNo"]`), 1);
      assert.equal(await lines(page, `tr[data-id="${paid.id}"] td[data-property-name="buyer"]`), 1);
      // Alipay's 28-digit trade number is on the order page and found by the search box: a column of it
      // pushed the row (and its actions menu) past the window's edge.
      assert.equal(await page.locator('td[data-property-name="tradeNo"]').count(), 0);
      assert.equal(await page.locator(`tr[data-id="${paid.id}"] td[data-property-name="createdAt"]`).innerText(), "2026-11-28 00:30:05 UTC+8");
      const last = page.locator(`tr[data-id="${paid.id}"] td`).last();
      await last.getByTestId("actions-dropdown").waitFor();
      const box = (await last.boundingBox())!;
      assert.ok(box.x + box.width <= 1400, `the row, with its actions menu, fits the window (ends at ${box.x + box.width}px)`);
      await shot(page, "2-orders");
    } finally {
      await context.close();
    }
  });

  test("order page: the order number as heading and tab title; reasons, statuses and actors in Chinese; one time format", async () => {
    const { context, page } = await loggedIn(operator);
    try {
      const paid = seeded.orders[0];
      await page.goto(`${admin.url}/admin/resources/Order/records/${paid.id}/show`);
      const timeline = page.getByTestId("order-timeline");
      await timeline.waitFor();
      assert.equal(await page.getByTestId("page-heading").innerText(), paid.outTradeNo);
      assert.equal(await page.title(), `${paid.outTradeNo} · 订单 · coursepay`);
      const text = await timeline.innerText();
      assert.match(text, /交易成功/);
      assert.match(text, /订单已是“已支付”（支付宝：交易成功）/);
      assert.doesNotMatch(text, /TRADE_SUCCESS|buyer:\d/);
      assert.match(text, new RegExp(`操作人：${seeded.buyer.email.replace(/[.]/g, "\\.")}`));
      assert.match(text, new RegExp(`操作人：${operator.email.replace(/[.]/g, "\\.")}`));
      assert.match(await page.getByTestId("order-notifications").innerText(), /交易成功/);
      const times = (await page.getByTestId("datetime").allInnerTexts()).filter(Boolean); // unset times are blank
      assert.ok(times.length >= 2);
      for (const t of [...times, ...(await timeline.locator("li span").allInnerTexts()).filter((s) => /^\d{4}/.test(s))]) {
        assert.match(t, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+8$/, `"${t}"`);
      }
      assert.ok(times.includes("2026-11-28 00:30:05 UTC+8"));
      await shot(page, "3-order", true);
    } finally {
      await context.close();
    }
  });

  test("a command opens on its own page: the order list never shows behind it", async () => {
    const { context, page } = await loggedIn(operator);
    try {
      const unpaid = seeded.orders[1];
      await page.goto(`${admin.url}/admin/resources/Order/records/${unpaid.id}/show`);
      await page.getByTestId("order-timeline").or(page.getByText("暂无事件")).first().waitFor();
      await page.evaluate(() => {
        const w = window as unknown as { sawList: boolean };
        w.sawList = false;
        new MutationObserver(() => {
          if (document.querySelector('[data-css="Order-table-row"], tr[data-id]')) w.sawList = true;
        }).observe(document.body, { childList: true, subtree: true });
      });
      await page.getByText("立即查询支付宝", { exact: true }).click();
      await page.getByTestId("command-confirm").waitFor();
      assert.equal(await page.getByTestId("page-heading").innerText(), `立即查询支付宝: ${unpaid.outTradeNo}`);
      await shot(page, "4-command");
      await page.getByTestId("command-confirm").click();
      await page.waitForURL(new RegExp(`/records/${unpaid.id}/show`));
      await page.getByText(/^暂时无法确定支付宝的结果/).first().waitFor();
      assert.equal(await page.evaluate(() => (window as unknown as { sawList: boolean }).sawList), false, "no order list behind the command");
    } finally {
      await context.close();
    }
  });

  test("log out is a POST from the account menu", async () => {
    const { context, page } = await loggedIn(operator);
    try {
      const posted = page.waitForRequest((r) => r.url().endsWith("/admin/logout") && r.method() === "POST");
      await page.getByText(operator.email).click();
      await page.getByText("登出").click();
      await posted;
      await page.waitForURL(`${admin.url}/admin/login`);
      assert.equal((await page.request.get(`${admin.url}/admin/api/resources/Order/actions/list`)).status(), 401);
    } finally {
      await context.close();
    }
  });
});
