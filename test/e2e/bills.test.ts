// A staff member resolves a bill difference in a real browser: yesterday-ish's bill shows a payment
// whose notifies were all lost; the operator opens the difference (bill row + order timeline) and
// clicks "Trust Alipay"; the order becomes PAID through the state machine and the difference is
// resolved with the operator as its resolver. A viewer sees no resolve action.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { addDays, beijingDay, reconcileBillDay } from "../../core/bills/index.ts";
import { noMetrics } from "../../core/metrics/port.ts";
import { alipayFromConfig } from "../../core/orders/index.ts";
import { BillControl } from "../../sandbox/bill/control-client.ts";
import { ARTIFACTS, launchChromium, logIn, paidWithNotifiesLost, startBackOffice, useOwnDatabase, type BackOffice } from "./support.ts";

let office: BackOffice;
let browser: Browser;
let orderId: number;
let differenceId: number;

before(async () => {
  await useOwnDatabase("bills-e2e");
  office = await startBackOffice("bills-e2e");
  const { stack } = office;
  const { order } = await paidWithNotifiesLost(stack, 6_600);
  orderId = order.id;
  const day = addDays(beijingDay(new Date()), -3);
  const bills = new BillControl(stack.sandboxUrl);
  await bills.configure({ readyAfterMinutes: 0 });
  await bills.setCompletion(order.outTradeNo, { paidAt: `${day}T15:00:00+08:00` });
  const r = await reconcileBillDay({ prisma: stack.prisma, alipay: alipayFromConfig(stack.config), settings: stack.config.bills, metrics: noMetrics }, { billDate: day, trigger: "test" });
  assert.equal(r.kind, "differences", JSON.stringify(r));
  differenceId = (await stack.prisma.billDifference.findFirstOrThrow({ where: { outTradeNo: order.outTradeNo } })).id;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await office?.close();
});

const loggedIn = async (staff: { email: string; password: string }): Promise<Page> => (await logIn(browser, office.admin.url, staff)).page;

describe("bill differences in the back office", () => {
  test("an operator trusts Alipay on a 'paid at Alipay, not here' difference", async () => {
    const { admin, operator } = office;
    const page = await loggedIn(operator);
    try {
      await page.goto(`${admin.url}/admin/resources/BillDifference`);
      await page.getByText("支付宝已收款，本地未支付").first().waitFor();
      await page.goto(`${admin.url}/admin/resources/BillDifference/records/${differenceId}/show`);
      await page.getByText("账单行").first().waitFor();
      await page.getByTestId("order-timeline").waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, "bills-1-difference.png") });
      await page.getByText("以支付宝为准", { exact: true }).click();
      await page.getByTestId("command-confirm").click();
      await page.getByText("差异已处理").first().waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, "bills-2-resolved.png") });
      const order = await admin.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
      assert.equal(order.status, "PAID");
      const d = await admin.prisma.billDifference.findUniqueOrThrow({ where: { id: differenceId } });
      assert.equal(d.state, "resolved");
      assert.equal(d.resolvedBy, operator.email);
      assert.equal(await admin.prisma.orderEvent.count({ where: { orderId, type: "paid" } }), 1);
    } finally {
      await page.context().close();
    }
  });

  test("a viewer reads differences but is offered no resolve action and is refused over HTTP", async () => {
    const { admin, viewer } = office;
    const page = await loggedIn(viewer);
    try {
      await page.goto(`${admin.url}/admin/resources/BillDifference/records/${differenceId}/show`);
      await page.getByText("账单行").first().waitFor();
      assert.equal(await page.getByText("以支付宝为准", { exact: true }).count(), 0);
      assert.equal(await page.getByText("标记为已处理", { exact: true }).count(), 0);
      const res = await page.request.post(`${admin.url}/admin/api/resources/BillDifference/records/${differenceId}/markResolved`, { data: { reason: "x" } });
      assert.equal(res.status(), 403);
    } finally {
      await page.context().close();
    }
  });
});
