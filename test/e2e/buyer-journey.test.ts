// The buyer's journey in a real browser (Debian chromium + playwright-core) on the real stack: the
// sandbox gateway, the api with its buyer pages, a worker with its reconciliation ticks, the admin —
// against the run's PostgreSQL and Redis (scripts/test.ts).
//
//   buyer B  signs up, starts a checkout, leaves the cashier, sees the order unpaid with "pay now"
//            (which reopens the same trade); Alipay's close notifications are dropped for B's trade,
//            so only reconciliation can close it once it expires (ORDER_EXPIRY_MINUTES=1).
//   buyer A  picks two courses, is sent to sign up on the way, pays at the cashier, lands on the
//            result page, which says "confirming" until the payment is applied and then "paid";
//            sees it in My orders (in both languages).
//   buyer C  orders a course whose title holds markup, sees it as text, and cancels it in My orders.
//   staff    logs in to the admin and sees both orders with their statuses and timelines.
//
// Each test sets up what it needs through the fixtures below (abandonedCheckout, paidCheckout,
// closedByReconciliation): a fixture runs its browser steps once, with their assertions, for whichever
// test needs it first, so any test runs alone (--test-name-pattern) or in any order. B's checkout goes
// first in the file so the one slow thing — B's order expiring — overlaps everything else.
// Screenshots of each step go to COURSEPAY_ARTIFACTS_DIR; SAVE_README_SCREENSHOTS=1 also writes the
// README's (docs/screenshots/).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer, type RequestListener } from "node:http";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createAdminApp } from "../../admin/app.ts";
import { hashPassword } from "../../core/auth/password.ts";
import { loadConfig } from "../../core/config/index.ts";
import { createRedis } from "../../core/redis/index.ts";
import { RoleLifecycle, closeServer, listen } from "../../core/runtime/index.ts";
import { startStack, type Stack } from "../support/index.ts";
import { ARTIFACTS as artifacts, BROWSER_STEP_CEILING_MS, launchChromium, noChromium as skip, useOwnDatabase } from "./support.ts";

const root = resolve(import.meta.dirname, "../..");
const readmeShots = process.env.SAVE_README_SCREENSHOTS === "1" ? join(root, "docs/screenshots") : null;
const VIEWPORT = { width: 1280, height: 800 };
const PASSWORD = "correct horse battery";

let stack: Stack;
let admin: { url: string; close(): Promise<void> };
let browser: Browser;
/** Console errors (CSP violations, script errors) and off-machine requests seen on the buyer pages. */
const pageProblems: string[] = [];

// ---- helpers --------------------------------------------------------------------------------

let shotNo = 0;
async function shot(page: Page, name: string, readmeName?: string): Promise<void> {
  shotNo++;
  await page.screenshot({ path: join(artifacts, `buyer-journey-${String(shotNo).padStart(2, "0")}-${name}.png`), fullPage: true });
  if (readmeShots && readmeName) await page.screenshot({ path: join(readmeShots, `${readmeName}.png`) });
}

/** A fresh browser context: nothing may leave the machine; problems on the api's pages are recorded. */
async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: VIEWPORT, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  context.setDefaultTimeout(BROWSER_STEP_CEILING_MS);
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.protocol === "data:") return route.continue();
    // AdminJS asks for web fonts; the buyer pages must ask for nothing at all.
    if (route.request().frame().url().startsWith(stack.apiUrl)) pageProblems.push(`off-machine request: ${url.href}`);
    return route.abort();
  });
  context.on("page", watch);
  return context;
}

function watch(page: Page): void {
  page.on("pageerror", (e) => pageProblems.push(`${page.url()}: ${e.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && page.url().startsWith(stack.apiUrl)) pageProblems.push(`${page.url()}: ${msg.text()}`);
  });
}

/** The admin role on port 0, the way admin/main.ts builds it, sharing the stack's database and Redis prefix. */
async function startAdmin(s: Stack): Promise<{ url: string; close(): Promise<void> }> {
  let handler: RequestListener | null = null;
  const server = createServer((req, res) => (handler ? handler(req, res) : res.writeHead(503).end("starting")));
  const url = `http://127.0.0.1:${await listen(server, 0, "127.0.0.1")}`;
  const config = loadConfig({ ...s.env, ADMIN_PUBLIC_URL: url });
  const redis = createRedis(config.redisUrl);
  redis.on("error", () => {});
  const logger = s.logger.child({ role: "admin" });
  const lifecycle = new RoleLifecycle("admin", logger);
  handler = await createAdminApp({ role: "admin", config, logger, prisma: s.prisma, redis, lifecycle });
  return {
    url,
    async close() {
      const closed = closeServer(server);
      server.closeAllConnections();
      await closed;
      await lifecycle.shutdown();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

async function registerViaPage(page: Page, email: string): Promise<void> {
  await page.fill("#register-form input[name=email]", email);
  await page.fill("#register-form input[name=password]", PASSWORD);
  await page.click("#register-submit");
}

const rowOf = (page: Page, outTradeNo: string) => page.locator(`#orders-body tr[data-out-trade-no="${outTradeNo}"]`);

async function orderByOutTradeNo(outTradeNo: string) {
  return stack.prisma.order.findUniqueOrThrow({ where: { outTradeNo } });
}

/** Runs `make` once, for the first test that asks; later callers share its result (or its failure). */
function fixture<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () => (made ??= make());
}

/** Script errors, CSP violations and off-machine requests on the buyer pages since the last call: none allowed. */
function assertNoPageProblems(): void {
  assert.deepEqual(pageProblems.splice(0), [], "the buyer pages ran without script errors, CSP violations or requests off the machine");
}

async function eventTypes(orderId: number): Promise<string[]> {
  const events = await stack.prisma.orderEvent.findMany({ where: { orderId }, orderBy: { id: "asc" } });
  return events.map((e) => e.type);
}

// ---- the stack ------------------------------------------------------------------------------

const courses = {
  python: { title: "Python 入门 / Python for Beginners", description: "从零开始学 Python：语法、数据结构、写一个小工具。", priceFen: 9900 },
  payments: { title: "支付系统 / Building Payment Systems", description: "幂等、对账、回调验签：把钱算对。", priceFen: 39900 },
  typescript: { title: "TypeScript 全栈 / Full-stack TypeScript", description: "Node、express、Prisma，从接口到页面。", priceFen: 29900 },
  database: { title: "数据库设计 / Database Design", description: "PostgreSQL：建模、索引与事务。", priceFen: 12800 },
};
const ids: Record<keyof typeof courses, number> = { python: 0, payments: 0, typescript: 0, database: 0 };

before(async () => {
  if (skip) return;
  await useOwnDatabase("buyer-journey");
  if (readmeShots) mkdirSync(readmeShots, { recursive: true });
  stack = await startStack({
    name: "buyer-journey",
    // The shortest payment window the configuration allows, and a reconciliation tick every second.
    worker: { ticks: true },
    env: { ORDER_EXPIRY_MINUTES: "1", RECONCILE_INTERVAL_SECONDS: "1", RECONCILE_FIRST_CHECK_SECONDS: "2" },
  });
  for (const key of Object.keys(courses) as (keyof typeof courses)[]) {
    ids[key] = (await stack.prisma.course.create({ data: courses[key] })).id;
  }
  admin = await startAdmin(stack);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await admin?.close();
  await stack?.close();
});

// ---- the journey ----------------------------------------------------------------------------

/** Buyer B signs up, starts a checkout, leaves the cashier; the order stays unpaid and can be paid from My orders. */
const abandonedCheckout = fixture(async (): Promise<{ buyerB: BrowserContext; abandoned: string }> => {
  const buyerB = await newContext();
  const page = await buyerB.newPage();
  await page.goto(`${stack.apiUrl}/signin`);
  await registerViaPage(page, `buyer-b-${Date.now()}@example.com`);
  await page.waitForURL(`${stack.apiUrl}/`);

  await page.click(`[data-course-id="${ids.python}"] .buy-now`);
  await page.waitForURL(/\/checkout\?course=/);
  assert.equal(await page.textContent("#checkout-total"), "¥99.00");
  await Promise.all([page.waitForURL((u) => u.href.startsWith(stack.sandboxUrl)), page.click("#pay")]);
  const abandoned = (await page.textContent("#out-trade-no"))!;
  // Alipay's own notifications about this trade are lost: when it expires, only our reconciliation
  // (asking Alipay with trade.query, then closing) can find out.
  await stack.control.addFaults({ outTradeNo: abandoned, faults: [{ kind: "dropNotify", times: 100 }] });
  // The cashier's login step: only now does Alipay have a trade.
  await Promise.all([page.waitForSelector("#pay"), page.click("#login")]);
  await shot(page, "b-cashier");

  await page.click("#cancel");
  await page.click("#back-to-merchant");
  await page.waitForURL(`${stack.apiUrl}/`);
  await page.click("#nav-orders");
  const row = rowOf(page, abandoned);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-status"), "UNPAID");
  assert.equal(await row.locator(".status").textContent(), "未支付");
  assert.equal(await row.locator(".amount").textContent(), "¥99.00");
  assert.equal(await page.isVisible("#orders-more"), false, "one order: nothing older to show");
  await shot(page, "b-orders-unpaid");

  // "Pay now" reopens the cashier for the same trade, with a freshly signed URL.
  await Promise.all([page.waitForURL((u) => u.href.startsWith(stack.sandboxUrl)), row.locator(".pay-again").click()]);
  assert.equal(await page.textContent("#out-trade-no"), abandoned);
  assert.equal(await page.textContent("#amount"), "¥99.00");
  await page.close();
  assert.equal((await orderByOutTradeNo(abandoned)).status, "UNPAID");
  return { buyerB, abandoned };
});

/** Buyer A picks two courses, signs up on the way, pays; the result page says "confirming", then "paid". */
const paidCheckout = fixture(async (): Promise<{ buyerA: BrowserContext; paid: string }> => {
  const buyerA = await newContext();
  const page = await buyerA.newPage();
  await page.goto(`${stack.apiUrl}/`);
  await page.waitForSelector(`[data-course-id="${ids.payments}"]`);
  await shot(page, "a-catalog", "catalog");

  await page.check(`[data-course-id="${ids.python}"] input[name=course]`);
  await page.check(`[data-course-id="${ids.payments}"] input[name=course]`);
  assert.equal(await page.textContent("#selected-summary"), "已选 2 门 · ¥498.00");
  await page.click("#buy-selected");
  await page.waitForURL(/\/checkout\?/);
  assert.equal(await page.textContent("#checkout-total"), "¥498.00");
  assert.equal(await page.locator("#checkout-lines tbody tr").count(), 2);

  // Not signed in: paying sends the buyer to sign up, and back to this checkout afterwards.
  const checkoutUrl = page.url();
  await page.click("#pay");
  await page.waitForURL(/\/signin\?next=/);
  const email = `buyer-a-${Date.now()}@example.com`;
  await registerViaPage(page, email);
  await page.waitForURL(checkoutUrl);
  assert.equal(await page.textContent("#signed-in-as"), `已登录：${email}`);
  await shot(page, "a-checkout");

  await Promise.all([page.waitForURL((u) => u.href.startsWith(stack.sandboxUrl)), page.click("#pay")]);
  const paid = (await page.textContent("#out-trade-no"))!;
  assert.equal(await page.textContent("#amount"), "¥498.00");
  await Promise.all([page.waitForSelector("#pay"), page.click("#login")]);
  const order = await orderByOutTradeNo(paid);
  assert.equal(order.totalFen, 49_800);
  assert.equal(order.status, "UNPAID");
  // Alipay's notify is late: the buyer is back before it, so the page must wait for the evidence.
  await stack.control.addFaults({ outTradeNo: paid, faults: [{ kind: "delayNotify", ms: 1500 }] });
  await shot(page, "a-cashier", "cashier");

  const returned = page.waitForResponse((r) => r.url().startsWith(`${stack.apiUrl}/alipay/return?`));
  await page.click("#pay");
  const html = await (await returned).text();
  const answeredAt = Date.now();
  // The return alone proves nothing: the page it renders says "confirming" — unless a payment check
  // (the sweep's, every second here) paid the order before the buyer was back. Then, and only then,
  // it may say "paid": the PAID transition was already recorded when the page was answered.
  const state = /data-state="(\w+)"/.exec(html)?.[1];
  if (state === "paid") {
    const paidEvent = await stack.prisma.orderEvent.findFirst({ where: { orderId: order.id, toStatus: "PAID" } });
    assert.ok(paidEvent && paidEvent.createdAt.getTime() <= answeredAt, "a paid result page only for an order already paid by verified evidence");
  } else {
    assert.equal(state, "confirming");
    assert.match(html, /正在确认支付/);
  }
  await page.waitForSelector('#result[data-state="paid"]');
  assert.equal(await page.textContent("#result-title"), "支付成功");
  assert.equal(await page.getAttribute("#result-status", "data-status"), "PAID");
  assert.equal(await page.textContent("#result-amount"), "¥498.00");
  assert.equal((await orderByOutTradeNo(paid)).status, "PAID");
  await shot(page, "a-result-paid", "result");
  await page.close();
  return { buyerA, paid };
});

/** B's abandoned order, closed by reconciliation once it expired (Alipay's notifications for it are dropped). */
const closedByReconciliation = fixture(async () => {
  const { abandoned } = await abandonedCheckout();
  const order = await orderByOutTradeNo(abandoned);
  await stack.waitForStatus(order.id, "CLOSED", Math.max(0, order.expiresAt.getTime() - Date.now()) + BROWSER_STEP_CEILING_MS);
  return order;
});

describe("the buyer's journey in a browser", { skip }, () => {
  test("buyer B starts a checkout, leaves the cashier, and can still pay from My orders", async () => {
    await abandonedCheckout();
    assertNoPageProblems();
  });

  test("buyer A buys two courses, signs up on the way, pays, and the result page turns to paid", async () => {
    await paidCheckout();
    assertNoPageProblems();
  });

  test("buyer A sees the paid order in My orders, in Chinese and in English", async () => {
    const { buyerA, paid } = await paidCheckout();
    const page = await buyerA.newPage();
    await page.goto(`${stack.apiUrl}/orders`);
    const row = rowOf(page, paid);
    await row.waitFor();
    assert.equal(await row.getAttribute("data-status"), "PAID");
    assert.equal(await row.locator(".status").textContent(), "已支付");
    assert.equal(await row.locator(".amount").textContent(), "¥498.00");
    assert.equal(await row.locator("button.pay-again, button.cancel").count(), 0, "a paid order offers neither pay nor cancel");
    assert.equal(await row.locator("button.request-refund").count(), 1, "within the refund window it offers 申请退款");
    assert.match((await row.locator(".subject").textContent())!, /Python 入门.*支付系统/);

    await page.click("#lang-switch");
    await page.waitForURL(/lang=en/);
    await rowOf(page, paid).waitFor();
    assert.equal(await page.getAttribute("html", "lang"), "en");
    assert.equal(await rowOf(page, paid).locator(".status").textContent(), "Paid");
    await shot(page, "a-orders-en");
    // Remembered: the next page comes out in English without ?lang.
    await page.goto(`${stack.apiUrl}/`);
    assert.equal(await page.textContent("h1"), "All courses");
    await page.goto(`${stack.apiUrl}/?lang=zh-CN`);
    assert.equal(await page.textContent("h1"), "全部课程");
    await page.close();
    assertNoPageProblems();
  });

  test("a buyer orders a course whose title holds markup, sees it as text, and cancels it", async () => {
    // A buyer of its own, signed up on the sign-in page.
    const buyer = await newContext();
    const signup = await buyer.newPage();
    await signup.goto(`${stack.apiUrl}/signin`);
    await registerViaPage(signup, `buyer-c-${Date.now()}@example.com`);
    await signup.waitForURL(`${stack.apiUrl}/`);
    await signup.close();
    const hostile = `<img src=x onerror="document.title='owned'"> 安全编码 & "XSS"`;
    const course = await stack.prisma.course.create({ data: { title: hostile, description: "<b>not bold</b>", priceFen: 100 } });
    const page = await buyer.newPage();
    try {
      await page.goto(`${stack.apiUrl}/`);
      const card = page.locator(`[data-course-id="${course.id}"]`);
      assert.equal(await card.locator(".course-title").textContent(), hostile);
      assert.equal(await card.locator("img, b").count(), 0);

      await card.locator(".buy-now").click();
      await Promise.all([page.waitForURL((u) => u.href.startsWith(stack.sandboxUrl)), page.click("#pay")]);
      const cancelled = (await page.textContent("#out-trade-no"))!;
      // logged in at the cashier: the trade exists at Alipay, so cancelling must close it there
      await Promise.all([page.waitForSelector("#pay"), page.click("#login")]);

      await page.goto(`${stack.apiUrl}/orders`);
      const row = rowOf(page, cancelled);
      await row.waitFor();
      assert.equal(await row.locator(".subject").textContent(), hostile);
      assert.equal(await page.locator("#orders-body img").count(), 0);
      page.once("dialog", (d) => void d.accept());
      await row.locator(".cancel").click();
      await page.waitForSelector(`#orders-body tr[data-out-trade-no="${cancelled}"][data-status="CANCELLED"]`);
      assert.equal(await rowOf(page, cancelled).locator(".status").textContent(), "已取消");
      assert.notEqual(await page.title(), "owned");
      await shot(page, "a-orders-cancelled");
      assert.equal((await orderByOutTradeNo(cancelled)).status, "CANCELLED");
      // Closed at Alipay first, so it can no longer be paid there.
      assert.equal((await stack.control.getTrade(cancelled)).status, "TRADE_CLOSED");
    } finally {
      await buyer.close();
      await stack.prisma.course.update({ where: { id: course.id }, data: { active: false } });
    }
    assertNoPageProblems();
  });

  test("buyer B's abandoned order is closed by reconciliation after it expires", async () => {
    const { buyerB, abandoned } = await abandonedCheckout();
    const order = await closedByReconciliation();
    const closed = await stack.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, toStatus: "CLOSED" } });
    assert.ok(closed.createdAt.getTime() >= order.expiresAt.getTime(), "closed only after its expiry");
    assert.ok(["expiry", "reconcile"].includes(closed.source), `closed by ${closed.source}`);
    assert.equal(await stack.prisma.paymentNotification.count({ where: { outTradeNo: abandoned, kind: "notify" } }), 0,
      "no notification reached the shop: reconciliation alone closed it");

    const page = await buyerB.newPage();
    await page.goto(`${stack.apiUrl}/orders`);
    const row = rowOf(page, abandoned);
    await row.waitFor();
    assert.equal(await row.getAttribute("data-status"), "CLOSED");
    assert.equal(await row.locator(".status").textContent(), "超时取消");
    assert.equal(await row.locator(".pay-again").count(), 0);
    await shot(page, "b-orders-closed");
    await page.close();
    assertNoPageProblems();
  });

  test("staff log in to the admin and see both orders with their statuses and timelines", async () => {
    const { paid } = await paidCheckout();
    const { abandoned } = await abandonedCheckout();
    await closedByReconciliation();
    const email = `staff-${Date.now()}@example.com`;
    await stack.prisma.staffUser.create({ data: { email, role: "operator", passwordHash: await hashPassword(PASSWORD) } });
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${admin.url}/admin/login`);
    await page.fill("input[name=email]", email);
    await page.fill("input[name=password]", PASSWORD);
    await shot(page, "staff-login");
    // AdminJS's login button has no type=submit: found by its text.
    await Promise.all([page.waitForURL((u) => !u.pathname.endsWith("/login")), page.getByRole("button", { name: "登录" }).click()]);

    await page.goto(`${admin.url}/admin/resources/Order`);
    const paidRow = page.locator("tr", { hasText: paid });
    const closedRow = page.locator("tr", { hasText: abandoned });
    await paidRow.waitFor();
    assert.match((await paidRow.textContent())!, /已支付/);
    assert.match((await closedRow.textContent())!, /超时取消/);
    await shot(page, "staff-orders");

    const timeline = async (outTradeNo: string) => {
      const order = await orderByOutTradeNo(outTradeNo);
      await page.goto(`${admin.url}/admin/resources/Order/records/${order.id}/show`);
      await page.waitForSelector('[data-testid="order-timeline"] li');
      const shown = await page.locator('[data-testid="order-timeline"] li').evaluateAll((lis) => lis.map((li) => li.getAttribute("data-event-type")));
      // The page shows the order's whole history, as recorded.
      assert.deepEqual(shown, await eventTypes(order.id));
      return shown;
    };
    const paidEvents = await timeline(paid);
    assert.equal(paidEvents[0], "created");
    assert.ok(paidEvents.includes("paid"), paidEvents.join(","));
    // The README's picture is about the timeline: bring all of it into the 1280×800 view.
    await page.locator('[data-testid="order-timeline"]').evaluate((el) => el.scrollIntoView({ block: "end" }));
    await shot(page, "staff-order-paid", "admin-order");
    const closedEvents = await timeline(abandoned);
    assert.equal(closedEvents[0], "created");
    assert.ok(closedEvents.includes("closed"), closedEvents.join(","));
    await shot(page, "staff-order-closed");
    await context.close();
  });
});
