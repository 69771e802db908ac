// Notifies that must not pay: forged, wrong amount, wrong app, unknown order. Each is recorded with
// its reason and answered per the reply policy in core/orders/intake.ts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "rejections" });
});
after(async () => {
  await stack?.close();
});

async function newOrder(priceFen = 4200) {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(priceFen);
  return stack.placeOrder(buyer, [course.id]);
}

const notifyFor = (outTradeNo: string, totalFen: number, overrides: Record<string, string | null> = {}, privateKey = stack.alipayPrivateKey) =>
  buildSignedNotify({ outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen }, overrides, { privateKey });

const rowsOf = (outTradeNo: string) => stack.prisma.paymentNotification.findMany({ where: { outTradeNo, kind: "notify" }, orderBy: { id: "asc" } });
const processedRow = (outTradeNo: string) =>
  waitFor(`the notify of ${outTradeNo} processed`, async () => {
    const rows = await rowsOf(outTradeNo);
    return rows.length === 1 && rows[0]!.outcome !== "pending" ? rows[0]! : null;
  });
const idleChecks = () =>
  waitFor("payment checks to drain", async () => {
    const c = await stack.api.queues.paymentCheck.getJobCounts("waiting", "active", "prioritized", "delayed");
    return c.waiting + c.active + c.prioritized + c.delayed === 0;
  });

test("forged signature (another key): answered failure, recorded unverified, prompts a check; the order stays unpaid", async () => {
  const { order, payUrl } = await newOrder();
  await stack.control.openCashier(payUrl); // the trade exists at Alipay, unpaid
  const forged = notifyFor(order.outTradeNo, 4200, {}, generateRsaKeyPair().privateKeyPem);
  const reply = await stack.postNotify(forged);
  assert.deepEqual(reply, { status: 400, text: "failure" });
  const row = await processedRow(order.outTradeNo);
  assert.equal(row.verified, false);
  assert.equal(row.outcome, "rejected");
  assert.match(row.reason, /^signature wrong_key_or_tampered/);
  // The forged notify named a real order: a query to Alipay was made, and found nothing paid.
  await waitFor("the prompted check", async () => (await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).checkAttempts === 1);
  await idleChecks();
  const o = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(o.status, "UNPAID");
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: { not: "created" } } }), 0);
});

test("corrupted signature on a real payment: the notify is refused, the check it prompts finds the payment", async () => {
  const { order, payUrl } = await newOrder();
  await stack.control.openCashier(payUrl);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "corruptNotifySignature", times: 1 }] });
  await stack.control.pay(order.outTradeNo);
  const notifies = await stack.control.waitForNotifies(order.outTradeNo, (n) => n[0]?.attempts.length === 1);
  // Alipay's retries (a few hundred ms later at this time factor) must not be what pays it.
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 20 }] });
  await stack.waitForStatus(order.id, "PAID");
  assert.equal(notifies[0]!.attempts[0]!.statusCode, 400);
  assert.equal(notifies[0]!.attempts[0]!.replySnippet, "failure");
  const paid = await stack.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, toStatus: "PAID" } });
  assert.equal(paid.source, "notify", "the check was prompted by the (unverified) notify, its evidence came from the query");
  assert.equal(paid.notificationId, null, "nothing from the unverified body was applied");
});

test("wrong amount (correctly signed): acknowledged, recorded as an anomaly for staff, never paid", async () => {
  const { order, payUrl } = await newOrder();
  await stack.control.openCashier(payUrl);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "notifyAmount", totalAmount: "0.01", times: 1 }] });
  await stack.control.pay(order.outTradeNo);
  const row = await processedRow(order.outTradeNo);
  assert.equal(row.verified, true);
  assert.equal(row.outcome, "anomaly");
  assert.equal(row.totalFen, 1);
  assert.match(row.reason, /total_amount 1 fen does not equal the order's 4200 fen/);
  const notifies = await stack.control.notifies(order.outTradeNo);
  assert.equal(notifies[0]!.attempts[0]!.replySnippet, "success", "retrying a mismatch helps no one");
  const o = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(o.status, "UNPAID");
  assert.equal(o.needsReview, true);
  const anomalies = await stack.prisma.orderEvent.findMany({ where: { orderId: order.id, type: "anomaly.amount_mismatch" } });
  assert.equal(anomalies.length, 1);
  assert.equal(anomalies[0]!.notificationId, row.id);
});

test("wrong app_id (correctly signed): acknowledged, anomaly recorded, never paid; copies add no second event", async () => {
  const { order } = await newOrder();
  const body = notifyFor(order.outTradeNo, 4200, { app_id: "2021999999999999", auth_app_id: "2021999999999999" });
  assert.deepEqual(await stack.postNotify(body), { status: 200, text: "success" });
  assert.deepEqual(await stack.postNotify(body), { status: 200, text: "success" });
  await waitFor("both rows processed", async () => (await rowsOf(order.outTradeNo)).every((r) => r.outcome !== "pending"));
  const rows = await rowsOf(order.outTradeNo);
  assert.deepEqual(rows.map((r) => r.outcome), ["anomaly", "anomaly"]);
  assert.match(rows[0]!.reason, /app_id 2021999999999999 is not ours/);
  const o = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(o.status, "UNPAID");
  assert.equal(o.needsReview, true);
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "anomaly.merchant_mismatch" } }), 1);
});

test("wrong seller_id (correctly signed): anomaly, never paid", async () => {
  const { order } = await newOrder();
  assert.equal((await stack.postNotify(notifyFor(order.outTradeNo, 4200, { seller_id: "2088999999999999" }))).text, "success");
  const row = await processedRow(order.outTradeNo);
  assert.equal(row.outcome, "anomaly");
  assert.match(row.reason, /seller_id 2088999999999999 is not ours/);
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "UNPAID");
});

test("unknown out_trade_no (correctly signed): acknowledged, recorded as rejected with the reason", async () => {
  const outTradeNo = "cp_00000000000000000000000000000000";
  assert.deepEqual(await stack.postNotify(notifyFor(outTradeNo, 100)), { status: 200, text: "success" });
  const [row] = await rowsOf(outTradeNo);
  assert.equal(row!.verified, true);
  assert.equal(row!.outcome, "rejected");
  assert.equal(row!.orderId, null);
  assert.match(row!.reason, /is not one of our orders/);
});

test("unparseable and oversized bodies: failure, never success", async () => {
  const dup = await stack.postNotify("out_trade_no=a&out_trade_no=b&sign=x");
  assert.deepEqual(dup, { status: 400, text: "failure" });
  const [row] = await stack.prisma.paymentNotification.findMany({ where: { reason: { startsWith: "form duplicate_key" } } });
  assert.ok(row, "recorded");
  const big = await stack.postNotify(`notify_id=${"x".repeat(stack.config.limits.notifyBodyBytes + 10)}`);
  assert.equal(big.status, 413);
  assert.equal(big.text, "failure");
});
