// Browser test (issue 11): an operator refunds part of a paid order from the order page in the admin
// (退款: amount + reason); the buyer's "我的订单" then shows 部分退款 and the refunded amount.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { startStack, type Stack } from "../support/index.ts";
import { createStaff, startAdmin, type AdminUnderTest, type TestStaff } from "../integration/admin/support.ts";
import { paidOrder, waitForRefund } from "../integration/refunds/helpers.ts";

const ARTIFACTS = process.env.COURSEPAY_ARTIFACTS_DIR ?? path.resolve(import.meta.dirname, "../../test-artifacts");
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let stack: Stack;
let admin: AdminUnderTest;
let browser: Browser;
let operator: TestStaff;

before(async () => {
  stack = await startStack({ name: "refund-e2e", env: { RECONCILE_INTERVAL_SECONDS: "1", REFUND_QUERY_DELAY_SECONDS: "1" } });
  admin = await startAdmin({ name: "refund-e2e", stack });
  operator = await createStaff(admin.prisma, "operator");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});
after(async () => {
  await browser?.close();
  await admin?.close();
  await stack?.close();
});

test("staff refund part of a paid order from the order page; the buyer's 我的订单 shows 部分退款 and the refunded amount", { skip: !existsSync(CHROMIUM) && "no chromium", timeout: 90_000 }, async () => {
  const order = await paidOrder(stack, 19_900);

  const staff = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  staff.setDefaultTimeout(20_000);
  const page = await staff.newPage();
  await page.goto(`${admin.url}/admin/login`);
  await page.fill("input[name=email]", operator.email);
  await page.fill("input[name=password]", operator.password);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${admin.url}/admin`);
  await page.goto(`${admin.url}/admin/resources/Order/records/${order.id}/show`);
  await page.getByText(order.outTradeNo).first().waitFor();
  await page.getByText("退款", { exact: true }).first().click();
  await page.getByTestId("command-refund").waitFor();
  await page.fill("#command-amount", "50.00");
  await page.fill("#command-reason", "课程部分内容未开放");
  await page.getByTestId("command-confirm").click();
  await page.getByTestId("order-refunds").waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, "refund-1-admin-order.png") });
  const refund = await admin.prisma.refund.findFirstOrThrow({ where: { orderId: order.id } });
  assert.equal(refund.amountFen, 5000);
  assert.equal(refund.requestedBy, operator.email);
  await waitForRefund(stack, refund.id, "SUCCEEDED");
  await stack.waitForStatus(order.id, "PARTIALLY_REFUNDED");
  await staff.close();

  const buyer = await browser.newContext({ locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  buyer.setDefaultTimeout(20_000);
  const session = JSON.stringify({ token: order.buyer.token, expiresAt: new Date(Date.now() + 3600_000).toISOString(), email: order.buyer.email });
  await buyer.addInitScript((s) => localStorage.setItem("coursepay.session", s), session);
  const mine = await buyer.newPage();
  await mine.goto(`${stack.apiUrl}/orders`);
  const row = mine.locator(`#orders-body tr[data-out-trade-no="${order.outTradeNo}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-status"), "PARTIALLY_REFUNDED");
  assert.equal(await row.locator(".status").textContent(), "部分退款");
  assert.equal(await row.locator(".refunded-amount").textContent(), "已退款 ¥50.00");
  await mine.screenshot({ path: path.join(ARTIFACTS, "refund-2-my-orders.png") });
  await buyer.close();
});
