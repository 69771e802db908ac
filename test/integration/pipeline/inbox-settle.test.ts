// Inbox rows that need nothing settle by themselves (core/orders/commands.ts settleInbox, run on the
// worker's reconciliation tick), and refused callbacks are kept only for the retention period.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { AUTO_REDRIVE_LIMIT, settleInbox } from "../../../core/orders/index.ts";
import * as store from "../../../core/orders/store.ts";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  // Ticks every second; rows pending/failed for 1 s are re-driven. The sweep's payment checks are
  // kept out of the way (first check in an hour), so only a re-drive can pay the order below.
  stack = await startStack({
    name: "inbox-settle",
    worker: { ticks: true },
    env: { RECONCILE_INTERVAL_SECONDS: "1", RECONCILE_FIRST_CHECK_SECONDS: "3600", INBOX_SETTLE_AFTER_SECONDS: "1" },
  });
});
after(async () => {
  await stack?.close();
});

function row(fields: Partial<store.NewNotification> & Pick<store.NewNotification, "rawBody" | "verified" | "outcome">): Promise<number> {
  return store.insertNotification(stack.prisma, {
    kind: "notify", reason: "", notifyId: null, outTradeNo: null, orderId: null, tradeNo: null, tradeStatus: null, totalFen: null, refundFen: null,
    receivedAt: new Date(), processedAt: null, ...fields,
  });
}

test("a verified notify left pending by an api killed before it enqueued is re-driven and pays the order", async () => {
  const { order } = await stack.unpaidOrder(6100);
  const params = buildSignedNotify(
    { outTradeNo: order.outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen: 6100 },
    {},
    { privateKey: stack.alipayPrivateKey },
  );
  // Exactly what intake writes for this notify before it enqueues (receiveNotify): the api died
  // right after this statement, so no job exists and Alipay got no reply.
  const id = await row({
    rawBody: new URLSearchParams(params).toString(), verified: true, reason: "ok", outcome: "pending", notifyId: params.notify_id!,
    outTradeNo: order.outTradeNo, orderId: order.id, tradeNo: params.trade_no!, tradeStatus: "TRADE_SUCCESS", totalFen: 6100,
  });
  const paid = await stack.waitForStatus(order.id, "PAID");
  assert.equal(paid.tradeNo, params.trade_no);
  // The PAID transition and the row's outcome are one statement (store.ts writeDecision).
  const settled = await stack.prisma.paymentNotification.findUniqueOrThrow({ where: { id } });
  assert.equal(settled.outcome, "applied");
  // At least one automatic re-drive and the apply. Under load the 1 s tick may claim the row again
  // before its job runs (each claim counts an attempt; the job is the same), so not exactly two.
  assert.ok(settled.attempts >= 2 && settled.attempts <= AUTO_REDRIVE_LIMIT + 1, `attempts ${settled.attempts}`);
  const events = await stack.prisma.orderEvent.findMany({ where: { orderId: order.id, toStatus: "PAID" } });
  assert.deepEqual(events.map((e) => e.notificationId), [id], "paid once, by this row");
});

test("a row re-driven AUTO_REDRIVE_LIMIT times is left failed for staff; unverified rejected rows are purged after the retention", async () => {
  const deps = stack.worker!.deps;
  const old = new Date(Date.now() - 40 * 24 * 3600_000);
  // Written in one statement, as it would stand after its last automatic re-drive failed (the tick runs meanwhile).
  const { id: exhausted } = await stack.prisma.paymentNotification.create({
    data: { rawBody: "a=1", verified: true, outcome: "failed", attempts: AUTO_REDRIVE_LIMIT, lastError: "kept failing", receivedAt: old },
  });
  const unverifiedOld = await row({ rawBody: "junk=1", verified: false, outcome: "rejected", receivedAt: old, processedAt: old });
  const unverifiedYoung = await row({ rawBody: "junk=2", verified: false, outcome: "rejected" });
  const verifiedOld = await row({ rawBody: "signed=1", verified: true, outcome: "rejected", receivedAt: old, processedAt: old });

  // The worker's tick runs the same upkeep with the configured policy (30 days by default).
  // The tick may purge the old row first (it runs every second): either way, once this call has
  // returned the old unverified row is gone (a purge under way holds the row until it commits).
  await settleInbox(deps, { settleAfterMs: 1000, rejectedRetentionMs: 30 * 24 * 3600_000, batchSize: 2 });
  const left = await stack.prisma.paymentNotification.findMany({ where: { id: { in: [exhausted, unverifiedOld, unverifiedYoung, verifiedOld] } }, orderBy: { id: "asc" } });
  assert.deepEqual(left.map((x) => [x.id, x.outcome]), [[exhausted, "failed"], [unverifiedYoung, "rejected"], [verifiedOld, "rejected"]],
    "the exhausted row needs a person; the young and the verified (evidence) rows are kept");
  assert.equal(left[0]!.lastError, "kept failing");
});

test("the tick keeps no row pending that it can settle", async () => {
  // After the tests above, every verified notify row the tick may touch has settled.
  await waitFor("no re-drivable row left", async () =>
    (await stack.prisma.paymentNotification.count({ where: { verified: true, kind: "notify", outcome: { in: ["pending", "failed"] }, attempts: { lt: AUTO_REDRIVE_LIMIT } } })) === 0,
  );
});
