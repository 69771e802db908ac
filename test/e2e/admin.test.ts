// The back office in a real browser (Debian's chromium through playwright-core): log in, filter the
// orders, open one (lines + timeline), recover an order whose Alipay notifies were all lost with
// "Query Alipay now", check that a viewer is offered no command and is refused one over HTTP, log
// out. Screenshots go to COURSEPAY_ARTIFACTS_DIR (test-artifacts/).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, launchChromium, logIn, paidWithNotifiesLost, startBackOffice, useOwnDatabase, type BackOffice } from "./support.ts";

let office: BackOffice;
let browser: Browser;
let lost: { id: number; outTradeNo: string; courseTitle: string };
let unpaid: { id: number; outTradeNo: string };

before(async () => {
  await useOwnDatabase("admin-e2e");
  office = await startBackOffice("admin-e2e");
  const { stack, admin } = office;
  // Paid at Alipay, every notify dropped: only a query can tell us.
  const { order, course, buyer } = await paidWithNotifiesLost(stack, 12_300);
  lost = { id: order.id, outTradeNo: order.outTradeNo, courseTitle: course.title };
  const other = await stack.placeOrder(buyer, [course.id]);
  unpaid = { id: other.order.id, outTradeNo: other.order.outTradeNo };
  assert.equal(await admin.prisma.paymentNotification.count({ where: { outTradeNo: lost.outTradeNo } }), 0, "no notify reached the api");
  assert.equal((await admin.prisma.order.findUniqueOrThrow({ where: { id: lost.id } })).status, "UNPAID");

  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await office?.close();
});

const loggedIn = (staff: { email: string; password: string }) => logIn(browser, office.admin.url, staff);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `admin-${name}.png`) });

describe("back office in a browser", () => {
  test("an operator logs in, filters orders, opens one, and 'Query Alipay now' turns it PAID", async () => {
    const { admin, operator } = office;
    const { context, page } = await loggedIn(operator);
    try {
      await page.getByTestId("dashboard").waitFor();
      // This file's database holds this file's two unpaid orders and nothing else.
      assert.equal(await page.getByTestId("dash-unpaid").locator("h2").innerText(), "2");
      await shot(page, "1-dashboard");

      // The list, filtered with the search box (any identifier).
      await page.goto(`${admin.url}/admin/resources/Order`);
      await page.getByText(unpaid.outTradeNo).waitFor();
      await page.locator('[data-css="Order-filter-button"]').click();
      await page.fill('input[name="filter-q"]', lost.outTradeNo);
      await page.getByRole("button", { name: "应用更改" }).click();
      await page.waitForURL(/filters\.q=/);
      await page.getByText(unpaid.outTradeNo).waitFor({ state: "detached" });
      // The list re-renders after the URL changes: wait until it shows the filtered result (one row).
      const rows = page.locator("table tbody tr");
      await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 1);
      assert.equal(await rows.count(), 1);
      await rows.first().getByText(lost.outTradeNo).waitFor();
      await shot(page, "2-orders-filtered");

      // Its page: lines and timeline.
      await rows.first().getByText(lost.outTradeNo).click();
      await page.waitForURL(new RegExp(`/admin/resources/Order/records/${lost.id}/show`));
      await page.getByTestId("order-courses").getByText(lost.courseTitle).waitFor();
      await page.getByTestId("order-courses").getByText("¥123.00").first().waitFor();
      const timeline = page.getByTestId("order-timeline");
      await timeline.getByText("创建订单").waitFor();
      await page.getByText("未支付").first().waitFor();
      await shot(page, "3-order-unpaid");

      // The command.
      await page.getByText("立即查询支付宝", { exact: true }).click();
      await page.getByTestId("command-confirm").click();
      await page.getByText("订单已支付").first().waitFor();
      await timeline.locator('[data-event-type="paid"]').waitFor();
      const paidEntry = timeline.locator('[data-event-type="paid"]');
      await paidEntry.getByText(operator.email).waitFor();
      await page.getByText("已支付").first().waitFor();
      await paidEntry.scrollIntoViewIfNeeded();
      await shot(page, "4-order-paid-by-operator");

      const order = await admin.prisma.order.findUniqueOrThrow({ where: { id: lost.id } });
      assert.equal(order.status, "PAID");
      const event = await admin.prisma.orderEvent.findFirstOrThrow({ where: { orderId: lost.id, type: "paid" } });
      assert.equal(event.actor, operator.email);
      assert.equal(event.source, "staff");
    } finally {
      await context.close();
    }
  });

  test("a viewer is offered no command, and a direct POST to one is refused", async () => {
    const { admin, viewer } = office;
    const { context, page } = await loggedIn(viewer);
    try {
      await page.goto(`${admin.url}/admin/resources/Order/records/${unpaid.id}/show`);
      await page.getByTestId("order-timeline").waitFor();
      assert.equal(await page.getByText("立即查询支付宝", { exact: true }).count(), 0);
      assert.equal(await page.getByText("关闭订单", { exact: true }).count(), 0);
      await shot(page, "5-viewer-order");

      const res = await page.request.post(`${admin.url}/admin/api/resources/Order/records/${unpaid.id}/checkPayment`, { data: {} });
      assert.equal(res.status(), 403);
      assert.equal(await admin.prisma.orderEvent.count({ where: { orderId: unpaid.id, source: "staff" } }), 0);
      assert.equal((await admin.prisma.order.findUniqueOrThrow({ where: { id: unpaid.id } })).status, "UNPAID");
    } finally {
      await context.close();
    }
  });

  test("logging out ends the session", async () => {
    const { admin, viewer } = office;
    const { context, page } = await loggedIn(viewer);
    try {
      await page.getByText(viewer.email).click();
      await page.getByText("登出").click();
      await page.waitForURL(`${admin.url}/admin/login`);
      await shot(page, "6-logged-out");
      await page.goto(`${admin.url}/admin/resources/Order`);
      await page.waitForURL(`${admin.url}/admin/login`);
      const api = await page.request.get(`${admin.url}/admin/api/resources/Order/actions/list`);
      assert.equal(api.status(), 401);
    } finally {
      await context.close();
    }
  });

  test("English with ?lang=en or the language selector; the choice sticks", async () => {
    const { admin, viewer } = office;
    const { context, page } = await loggedIn(viewer);
    try {
      await page.goto(`${admin.url}/admin/resources/Order?lang=en`);
      await page.getByText("Out trade no.").first().waitFor();
      await page.goto(`${admin.url}/admin/resources/Order`);
      await page.getByText("Out trade no.").first().waitFor();
      await page.getByText("Unpaid", { exact: true }).first().waitFor();
      await shot(page, "7-orders-english");

      // AdminJS's own selector, back to Chinese: it writes the same cookie the server reads.
      await page.getByRole("button", { name: "English" }).click();
      await page.getByText("简体中文", { exact: true }).click();
      await page.getByText("商户订单号").first().waitFor();
      await page.reload();
      await page.getByText("商户订单号").first().waitFor();
      assert.equal((await context.cookies()).find((c) => c.name === "coursepay_lang")?.value, "zh-CN");
    } finally {
      await context.close();
    }
  });
});
