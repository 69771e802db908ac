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

test("the buyer asks for a refund with the form on 我的订单: reason required; inside the window it reaches staff; outside, a clear refusal", { skip: !existsSync(CHROMIUM) && "no chromium", timeout: 90_000 }, async () => {
  const inside = await paidOrder(stack, 9_900);
  const outside = await paidOrder(stack, 9_900);
  // Paid 8 days ago (REFUND_WINDOW_DAYS defaults to 7): set up directly, as if time had passed.
  await stack.prisma.order.update({ where: { id: outside.id }, data: { paidAt: new Date(Date.now() - 8 * 86_400_000) } });

  const forBuyer = async (o: typeof inside) => {
    const ctx = await browser.newContext({ locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    ctx.setDefaultTimeout(20_000);
    const session = JSON.stringify({ token: o.buyer.token, expiresAt: new Date(Date.now() + 3600_000).toISOString(), email: o.buyer.email });
    await ctx.addInitScript((s) => localStorage.setItem("coursepay.session", s), session);
    const page = await ctx.newPage();
    await page.goto(`${stack.apiUrl}/orders`);
    const row = page.locator(`#orders-body tr[data-out-trade-no="${o.outTradeNo}"]`);
    await row.waitFor();
    return { ctx, page, row };
  };

  const a = await forBuyer(inside);
  await a.row.locator("button.request-refund").click();
  const form = a.row.locator("form.refund-form");
  await form.waitFor();
  await form.locator("button[type=submit]").click();
  assert.equal(await form.locator(".refund-error").textContent(), "请填写退款原因。", "an empty reason is refused in the page");
  assert.equal(await stack.prisma.refund.count({ where: { orderId: inside.id } }), 0, "nothing sent");
  await form.locator("textarea[name=reason]").fill("重复购买");
  await form.locator("button[type=submit]").click();
  await a.row.locator(".refund-AWAITING_APPROVAL").waitFor();
  const request = await stack.prisma.refund.findFirstOrThrow({ where: { orderId: inside.id } });
  assert.deepEqual([request.source, request.state, request.reason], ["buyer", "AWAITING_APPROVAL", "重复购买"]);
  await a.page.screenshot({ path: path.join(ARTIFACTS, "refund-3-buyer-request.png") });
  await a.ctx.close();

  const b = await forBuyer(outside);
  await b.row.locator("button.request-refund").click();
  await b.row.locator("textarea[name=reason]").fill("不想要了");
  await b.row.locator("form.refund-form button[type=submit]").click();
  const refusal = b.row.locator(".refund-error");
  await refusal.waitFor();
  assert.match((await refusal.textContent()) ?? "", /已超过可申请退款的期限/);
  assert.equal(await stack.prisma.refund.count({ where: { orderId: outside.id } }), 0);
  await b.ctx.close();
});
