// Browser test (issue 11): an operator refunds part of a paid order from the order page in the admin
// (退款: amount + reason); the buyer's "我的订单" then shows 部分退款 and the refunded amount.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { Browser } from "playwright-core";
import { paidOrder, waitForRefund } from "../integration/refunds/helpers.ts";
import { ARTIFACTS, launchChromium, logIn, newPage, noChromium, startBackOffice, useOwnDatabase, type BackOffice } from "./support.ts";

let office: BackOffice;
let browser: Browser;

before(async () => {
  await useOwnDatabase("refund-e2e");
  office = await startBackOffice("refund-e2e", { env: { RECONCILE_INTERVAL_SECONDS: "1", REFUND_QUERY_DELAY_SECONDS: "1" } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await office?.close();
});

test("staff refund part of a paid order from the order page; the buyer's 我的订单 shows 部分退款 and the refunded amount", { skip: noChromium }, async () => {
  const { stack, admin, operator } = office;
  const order = await paidOrder(stack, 19_900);

  const { context: staff, page } = await logIn(browser, admin.url, operator);
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

  const { context: buyer, page: mine } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  const session = JSON.stringify({ token: order.buyer.token, expiresAt: new Date(Date.now() + 3600_000).toISOString(), email: order.buyer.email });
  await mine.addInitScript((s) => localStorage.setItem("coursepay.session", s), session);
  await mine.goto(`${stack.apiUrl}/orders`);
  const row = mine.locator(`#orders-body tr[data-out-trade-no="${order.outTradeNo}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-status"), "PARTIALLY_REFUNDED");
  assert.equal(await row.locator(".status").textContent(), "部分退款");
  assert.equal(await row.locator(".refunded-amount").textContent(), "已退款 ¥50.00");
  await mine.screenshot({ path: path.join(ARTIFACTS, "refund-2-my-orders.png") });
  await buyer.close();
});

test("the buyer asks for a refund with the form on 我的订单: reason required; inside the window it reaches staff; outside, a clear refusal", { skip: noChromium }, async () => {
  const { stack } = office;
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
