// Wap pay through the whole pipeline: a phone buyer's order gets an alipay.trade.wap.pay URL (same order,
// same notify_url and return_url as page pay, quit_url back to the order), the sandbox's phone cashier
// takes the payment, the notify is applied; with every notify lost, reconciliation pays it the same way.
// Opening the URL without logging in leaves Alipay with no trade: the order stays UNPAID (not closed)
// while the buyer may still reach the cashier.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseQueryString } from "../../../core/alipay/form.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

const PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const COMPUTER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

let stack: Stack;
before(async () => {
  stack = await startStack({
    name: "wap-pay",
    worker: { ticks: true },
    env: { RECONCILE_INTERVAL_SECONDS: "1", RECONCILE_FIRST_CHECK_SECONDS: "1", RECONCILE_GRACE_MINUTES: "10", ALIPAY_QUERY_QPS: "50" },
  });
});
after(async () => {
  await stack?.close();
});

function paramsOf(payUrl: string) {
  const params = parseQueryString(new URL(payUrl).search);
  return { params, biz: JSON.parse(params.biz_content!) as Record<string, string> };
}

test("a phone's order pays by wap pay: signed wap.pay URL, phone cashier, notify applied once", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(4_500);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id], { userAgent: PHONE_UA });
  const { params, biz } = paramsOf(payUrl);
  assert.equal(params.method, "alipay.trade.wap.pay");
  assert.equal(biz.product_code, "QUICK_WAP_WAY");
  assert.equal(biz.out_trade_no, order.outTradeNo);
  assert.equal(biz.quit_url, `${stack.apiUrl}/orders?order=${order.outTradeNo}`);
  assert.equal(params.notify_url, stack.config.alipay.notifyUrl, "the same notify path as page pay");
  assert.equal(params.return_url, stack.config.alipay.returnUrl);

  const { returnUrl } = await stack.payAtSandbox(order.outTradeNo, payUrl);
  assert.equal((await stack.control.getTrade(order.outTradeNo)).productCode, "QUICK_WAP_WAY");
  await stack.waitForStatus(order.id, "PAID");
  const rows = await stack.prisma.paymentNotification.findMany({ where: { orderId: order.id, kind: "notify" } });
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.verified, true);
  assert.equal(rows[0]!.outcome, "applied");
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "paid" } }), 1);

  // The phone browser's return (method alipay.trade.wap.pay.return) verifies like page pay's.
  assert.ok(returnUrl);
  assert.equal(parseQueryString(new URL(returnUrl).search).method, "alipay.trade.wap.pay.return");
  const page = await fetch(returnUrl);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /data-status="PAID"/);
});

test("the buyer switches: the same order's pay URL by channel (explicit, or by User-Agent)", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(1_000);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id], { userAgent: COMPUTER_UA });
  assert.equal(paramsOf(payUrl).params.method, "alipay.trade.page.pay");
  const asked = async (query: string, userAgent: string) => {
    const res = await stack.fetchApi(`/orders/${order.id}${query}`, { token: buyer.token, headers: { "user-agent": userAgent } });
    assert.equal(res.status, 200);
    return paramsOf(((await res.json()) as { order: { payUrl: string } }).order.payUrl);
  };
  assert.equal((await asked("?channel=wap", COMPUTER_UA)).params.method, "alipay.trade.wap.pay");
  assert.equal((await asked("?channel=page", PHONE_UA)).params.method, "alipay.trade.page.pay");
  const byPhone = await asked("", PHONE_UA);
  assert.equal(byPhone.params.method, "alipay.trade.wap.pay");
  assert.equal(byPhone.biz.out_trade_no, order.outTradeNo, "same order");
  const bad = await stack.fetchApi(`/orders/${order.id}?channel=tv`, { token: buyer.token });
  assert.equal(bad.status, 400);

  // Logged in on the computer cashier first, then paid on the phone: one trade, paid once.
  await stack.control.openCashier(payUrl);
  const { params } = await asked("?channel=wap", PHONE_UA);
  const wapUrl = `${stack.sandboxUrl}/gateway.do?${new URLSearchParams(params).toString()}`;
  await stack.payAtSandbox(order.outTradeNo, wapUrl);
  await stack.waitForStatus(order.id, "PAID");
  assert.equal((await stack.control.listTrades()).filter((t) => t.outTradeNo === order.outTradeNo).length, 1);
});

test("wap order with every notify lost: reconciliation pays it like any other", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(2_000);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id], { channel: "wap" });
  assert.equal(paramsOf(payUrl).params.method, "alipay.trade.wap.pay");
  await stack.control.openCashier(payUrl);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 100 }] });
  await stack.control.pay(order.outTradeNo);
  await stack.waitForStatus(order.id, "PAID");
  const event = await stack.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, toStatus: "PAID" } });
  assert.equal(event.source, "reconcile");
});

test("wap URL opened, no login: Alipay has no trade, the order is checked and stays UNPAID before expiry", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(3_000);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id], { channel: "wap" });
  await stack.control.openPayUrl(payUrl);
  await waitFor("a reconciliation check of the order", async () => (await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).checkAttempts >= 1);
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "UNPAID");
  await assert.rejects(stack.control.getTrade(order.outTradeNo), /trade_not_found/);
});
