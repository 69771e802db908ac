// Reconciliation in the back office, in a real browser:
// - a staff member resolves a bill difference: a bill shows a payment whose notifies were all lost;
//   the operator opens the difference (bill row + order timeline) and clicks "Trust Alipay"; the order
//   becomes PAID through the state machine and the difference is resolved with the operator as its
//   resolver. A viewer sees no resolve action;
// - the dashboard card 昨日对账 shows yesterday's batch: its state, open differences (a link to them)
//   and both sides' money, each figure as the database holds it;
// - 按日期对账: an operator reconciles a chosen date; the worker runs it and the batch appears,
//   its attempt audited with the operator's e-mail. A viewer is not offered the action and is refused.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { addDays, beijingDay, reconcileBillDay } from "../../core/bills/index.ts";
import { noMetrics } from "../../core/metrics/port.ts";
import { alipayFromConfig, checkPayment, createOrderDeps } from "../../core/orders/index.ts";
import { BillControl } from "../../sandbox/bill/control-client.ts";
import { waitFor } from "../support/index.ts";
import { ARTIFACTS, BROWSER_STEP_CEILING_MS, launchChromium, logIn, paidWithNotifiesLost, startBackOffice, useOwnDatabase, type BackOffice } from "./support.ts";

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

/** How the admin writes an amount (admin/components/shared.ts yuan), spelled out here. */
const yuan = (fen: bigint | number) => `¥${(Number(fen) / 100).toFixed(2)}`;
const yesterday = () => addDays(beijingDay(new Date()), -1);

describe("the dashboard card 昨日对账 / Yesterday's reconciliation", () => {
  test("shows yesterday's batch: state, open differences (linking to them) and both sides' money, as the database holds them", async () => {
    const { stack, admin, viewer } = office;
    const day = yesterday();
    const bills = new BillControl(stack.sandboxUrl);
    const alipay = alipayFromConfig(stack.config);
    // Yesterday at Alipay: two payments and a refund made in its merchant console. Here: the first
    // payment applied (a payment check through the state machine), the second never heard of.
    const first = await paidWithNotifiesLost(stack, 4_200);
    const second = await paidWithNotifiesLost(stack, 1_990);
    await bills.setCompletion(first.order.outTradeNo, { paidAt: `${day}T09:30:00+08:00` });
    await bills.setCompletion(second.order.outTradeNo, { paidAt: `${day}T20:15:00+08:00` });
    const checked = await checkPayment(createOrderDeps({ prisma: stack.prisma, config: stack.config, metrics: noMetrics }), { orderId: first.order.id, source: "staff", actor: "set-up" });
    assert.equal(checked.order.status, "PAID");
    await stack.prisma.order.update({ where: { id: first.order.id }, data: { paidAt: new Date(`${day}T09:30:00+08:00`) } }); // paid yesterday, as the bill says
    const consoleNo = `console_${first.order.outTradeNo}`;
    assert.equal((await alipay.refund({ outTradeNo: first.order.outTradeNo, refundFen: 700, outRequestNo: consoleNo })).kind, "ok");
    await bills.setCompletion(first.order.outTradeNo, { refunds: [{ outRequestNo: consoleNo, at: `${day}T15:00:00+08:00` }] });
    const r = await reconcileBillDay({ prisma: stack.prisma, alipay, settings: stack.config.bills, metrics: noMetrics }, { billDate: day, trigger: "test" });
    assert.equal(r.kind, "differences", JSON.stringify(r));

    const batch = await stack.prisma.billBatch.findUniqueOrThrow({ where: { billType_billDate: { billType: "trade", billDate: day } } });
    // What the database holds, first (the card must show exactly this).
    assert.deepEqual([batch.state, batch.differencesOpen], ["differences", 2]);
    assert.deepEqual([batch.billTrades, batch.billTradeFen, batch.billRefunds, batch.billRefundFen], [2, 6190n, 1, 700n]);
    assert.deepEqual([batch.localTrades, batch.localTradeFen, batch.localRefunds, batch.localRefundFen], [1, 4200n, 0, 0n]);

    const { page, context } = await logIn(browser, admin.url, viewer);
    try {
      const card = page.getByTestId("dash-bills");
      await card.getByText(`昨日对账 · ${day}`).waitFor();
      assert.equal((await page.getByTestId("dash-bills-state").innerText()).trim(), "有差异");
      assert.equal((await page.getByTestId("dash-bills-open").innerText()).trim(), `未处理差异: ${batch.differencesOpen}`);
      const cells = async (testId: string) => (await page.getByTestId(testId).locator("td").allInnerTexts()).map((t) => t.trim());
      assert.deepEqual(await cells("dash-bills-alipay"), [
        `${batch.billTrades} · ${yuan(batch.billTradeFen)}`, `${batch.billRefunds} · ${yuan(batch.billRefundFen)}`, yuan(batch.billNetFen),
      ]);
      assert.deepEqual(await cells("dash-bills-ours"), [
        `${batch.localTrades} · ${yuan(batch.localTradeFen)}`, `${batch.localRefunds} · ${yuan(batch.localRefundFen)}`, yuan(batch.localNetFen),
      ]);
      await card.screenshot({ path: path.join(ARTIFACTS, "bills-3-dashboard-card.png") });
      // The open count links to that batch's open differences.
      await page.getByTestId("dash-bills-open").getByRole("link").click();
      await page.waitForURL(/\/admin\/resources\/BillDifference\?/);
      const url = new URL(page.url());
      assert.equal(url.searchParams.get("filters.batch"), String(batch.id));
      assert.equal(url.searchParams.get("filters.state"), "open");
      await page.getByText(second.order.outTradeNo).first().waitFor();
      await page.getByText(consoleNo).first().waitFor();
    } finally {
      await context.close();
    }
  });
});

describe("按日期对账 / Reconcile a date", () => {
  test("an operator reconciles a chosen date in the browser: the worker runs it, the batch appears, the attempt names the operator", async () => {
    const { stack, admin, operator } = office;
    const day = addDays(beijingDay(new Date()), -6);
    const bills = new BillControl(stack.sandboxUrl);
    const paid = await paidWithNotifiesLost(stack, 3_300);
    await bills.setCompletion(paid.order.outTradeNo, { paidAt: `${day}T11:00:00+08:00` });
    assert.equal(await stack.prisma.billBatch.count({ where: { billDate: day } }), 0, "no batch for the day yet");
    await stack.startWorker({ ticks: false }); // consumes the bill queue (no schedule: only what staff ask for)

    const { page, context } = await logIn(browser, admin.url, operator);
    try {
      await page.goto(`${admin.url}/admin/resources/BillBatch`);
      await page.getByRole("link", { name: "按日期对账" }).or(page.getByRole("button", { name: "按日期对账" })).first().click();
      await page.getByTestId("reconcile-date-input").fill(day);
      await page.screenshot({ path: path.join(ARTIFACTS, "bills-4-reconcile-date.png") });
      await page.getByTestId("reconcile-date-submit").click();
      await page.getByText(day).first().waitFor(); // the notice names the date
      await page.waitForURL(/\/admin\/resources\/BillBatch(\?|$)/);

      const batch = await waitFor(`the batch of ${day} to finish`, async () => {
        const b = await stack.prisma.billBatch.findUnique({ where: { billType_billDate: { billType: "trade", billDate: day } }, include: { attemptLog: true } });
        return b && ["matched", "differences"].includes(b.state) ? b : null;
      }, { timeoutMs: BROWSER_STEP_CEILING_MS });
      assert.deepEqual(batch.attemptLog.map((a) => [a.attempt, a.trigger, a.actor, a.outcome]), [[1, "staff", operator.email, batch.state]]);
      assert.deepEqual([batch.billTrades, batch.billTradeFen], [1, 3300n], "Alipay's bill of that day, with the one payment");

      // The batch is in the list (the list does not refresh by itself: reload until it shows).
      await waitFor(`the batch of ${day} in the list`, async () => {
        await page.goto(`${admin.url}/admin/resources/BillBatch`);
        await page.getByRole("heading", { name: "对账批次" }).first().waitFor();
        await page.locator("table tbody tr").first().waitFor();
        return (await page.locator("table tbody tr").filter({ hasText: day }).count()) > 0;
      }, { timeoutMs: BROWSER_STEP_CEILING_MS, intervalMs: 500 });
      await page.screenshot({ path: path.join(ARTIFACTS, "bills-5-batch-listed.png") });
    } finally {
      await context.close();
    }
  });

  test("a viewer is not offered 按日期对账 and is refused over HTTP; nothing is queued", async () => {
    const { stack, admin, viewer } = office;
    const day = addDays(beijingDay(new Date()), -8);
    const { page, context } = await logIn(browser, admin.url, viewer);
    try {
      await page.goto(`${admin.url}/admin/resources/BillBatch`);
      await page.getByRole("heading", { name: "对账批次" }).first().waitFor();
      assert.equal(await page.getByRole("link", { name: "按日期对账" }).count() + await page.getByRole("button", { name: "按日期对账" }).count(), 0);
      const res = await page.request.post(`${admin.url}/admin/api/resources/BillBatch/actions/reconcileDate`, { data: { date: day } });
      assert.equal(res.status(), 403);
      assert.equal(await stack.prisma.billBatch.count({ where: { billDate: day } }), 0);
    } finally {
      await context.close();
    }
  });
});
