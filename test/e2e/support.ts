// What the browser tests share: Debian's chromium (playwright-core, never `playwright install`), a
// staff login, and the back office on the payment stack with a payment whose notifies were all lost.
// Each file gets a database of its own first (useOwnDatabase): no file sees another's rows.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startStack, useOwnDatabase, type Stack, type StackOptions, type TestBuyer } from "../support/index.ts";
import { createStaff, startAdmin, type AdminUnderTest, type TestStaff } from "../integration/admin/support.ts";

export { useOwnDatabase };

export const CHROMIUM = "/usr/bin/chromium";
/** For `{ skip }`: why a browser test cannot run here, or false. */
export const noChromium: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium)`;
/** Screenshots go here (git-ignored). */
export const ARTIFACTS = path.resolve(process.env.COURSEPAY_ARTIFACTS_DIR ?? path.join(import.meta.dirname, "../../test-artifacts"));

/**
 * How long a browser step may wait for its condition before the test calls the page broken. Steps
 * wait for what they expect (a URL, an element); this is only a ceiling, generous because on the
 * loaded 2-core machine AdminJS's first page load alone has taken more than 15 s.
 */
export const BROWSER_STEP_CEILING_MS = 60_000;

export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export interface ContextOptions {
  viewport?: { width: number; height: number };
  /** The browser's own zone (the admin shows times in DISPLAY_TIME_ZONE whatever it is). */
  timezoneId?: string;
  /** Called with the page before it loads anything (to watch requests or the console). */
  watch?: (page: Page) => void;
}

export async function newPage(browser: Browser, o: ContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: o.viewport ?? { width: 1600, height: 1000 }, locale: "zh-CN", timezoneId: o.timezoneId ?? "Asia/Shanghai" });
  context.setDefaultTimeout(BROWSER_STEP_CEILING_MS);
  const page = await context.newPage();
  o.watch?.(page);
  return { context, page };
}

/** A new browser context, signed in to the admin as `staff` (zh-CN), on the dashboard. */
export async function logIn(browser: Browser, adminUrl: string, staff: { email: string; password: string }, o: ContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await newPage(browser, o);
  await page.goto(`${adminUrl}/admin/login`);
  await page.fill("input[name=email]", staff.email);
  await page.fill("input[name=password]", staff.password);
  // AdminJS's login button has no type=submit (see prisma/dmmf-generator.cjs): select it by its text.
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${adminUrl}/admin`);
  return { context, page };
}

export interface BackOffice {
  stack: Stack;
  admin: AdminUnderTest;
  operator: TestStaff;
  viewer: TestStaff;
  close(): Promise<void>;
}

/** The payment stack (sandbox gateway + api, no worker unless asked) and the admin on it, with an operator and a viewer. */
export async function startBackOffice(name: string, options: Omit<StackOptions, "name"> = { worker: false }): Promise<BackOffice> {
  const stack = await startStack({ name, ...options });
  try {
    const admin = await startAdmin({ name, stack });
    const operator = await createStaff(admin.prisma, "operator");
    const viewer = await createStaff(admin.prisma, "viewer");
    return {
      stack,
      admin,
      operator,
      viewer,
      async close() {
        await admin.close();
        await stack.close();
      },
    };
  } catch (e) {
    await stack.close();
    throw e;
  }
}

/**
 * An order paid at Alipay whose notifies are all dropped: the api never hears of it (no inbox row),
 * so only a query (a command, reconciliation or the bill) can tell the shop. Resolves once the
 * sandbox has dropped the first one.
 */
export async function paidWithNotifiesLost(stack: Stack, priceFen: number, buyer?: TestBuyer) {
  buyer ??= await stack.newBuyer();
  const course = await stack.newCourse(priceFen);
  const placed = await stack.placeOrder(buyer, [course.id]);
  const { outTradeNo } = placed.order;
  await stack.control.addFaults({ outTradeNo, faults: [{ kind: "dropNotify", times: 1000 }] });
  await stack.payAtSandbox(outTradeNo, placed.payUrl);
  await stack.control.waitForNotifies(outTradeNo, (l) => l.some((n) => n.attempts.some((a) => a.faults.includes("dropped"))));
  return { order: placed.order, course, buyer };
}
