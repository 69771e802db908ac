// Redis is down when the notify arrives: the api records it but answers non-`success` with a 5xx, so
// Alipay retries; the retry after Redis is back pays the order. The recorded-but-unqueued rows do not
// stay failed: the worker's tick re-drives them (settleInbox) and they settle as duplicate (or one of
// them as applied, if its re-drive came before Alipay's retry) — nothing is left for staff.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CommandRefusedError, redriveNotification } from "../../../core/orders/index.ts";
import { PrivateRedis, startStack, waitFor, type Stack } from "../../support/index.ts";

let redis: PrivateRedis;
let stack: Stack;
before(async () => {
  redis = await PrivateRedis.start();
  // time factor 0.002: Alipay's 4m, 10m, 10m… retries arrive after 0.48 s, 1.2 s, 1.2 s…
  // The worker ticks every second and re-drives inbox rows pending/failed for 1 s; the sweep's own
  // payment checks are kept out of the way (first check in an hour) so that Alipay's retry pays.
  stack = await startStack({
    name: "redis-down",
    redisUrl: redis.url,
    sandbox: { timeFactor: 0.002 },
    worker: { ticks: true },
    env: { RECONCILE_INTERVAL_SECONDS: "1", RECONCILE_FIRST_CHECK_SECONDS: "3600", INBOX_SETTLE_AFTER_SECONDS: "1" },
  });
});
after(async () => {
  await stack?.close();
  await redis?.down();
});

test("Redis down at notify time: 503 non-success, then the retry after recovery pays the order", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(8800);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  await stack.control.openCashier(payUrl);

  await redis.down();
  await stack.control.pay(order.outTradeNo);
  const failedAttempt = await stack.control.waitForNotifies(order.outTradeNo, (n) => (n[0]?.attempts.length ?? 0) >= 1);
  const first = failedAttempt[0]!.attempts[0]!;
  assert.equal(first.statusCode, 503, JSON.stringify(first));
  assert.notEqual(first.replySnippet, "success");
  const recorded = await stack.prisma.paymentNotification.findFirstOrThrow({ where: { orderId: order.id, kind: "notify" }, orderBy: { id: "asc" } });
  assert.equal(recorded.verified, true, "the inbox row was written before the reply");
  assert.equal(recorded.outcome, "failed");
  assert.match(recorded.lastError ?? "", /enqueue failed/);
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "UNPAID");

  await redis.up();
  await stack.waitForStatus(order.id, "PAID");
  const notifies = await stack.control.waitForNotifies(order.outTradeNo, (n) => n[0]?.state === "delivered", { timeoutMs: 10_000 });
  assert.ok(notifies[0]!.attempts.length >= 2, "paid by a retry");
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, toStatus: "PAID" } }), 1);

  // The failed rows settle by themselves: none stays failed or pending, one applied the payment.
  const rows = await waitFor("every notify row of the order settled", async () => {
    const all = await stack.prisma.paymentNotification.findMany({ where: { orderId: order.id, kind: "notify" }, orderBy: { id: "asc" } });
    return all.every((r) => r.outcome !== "failed" && r.outcome !== "pending") ? all : null;
  });
  assert.ok(rows.length >= 2, `the 503'd row and the retry: ${rows.length} rows`);
  assert.deepEqual(rows.filter((r) => r.outcome !== "duplicate" && r.outcome !== "applied"), []);
  assert.equal(rows.filter((r) => r.outcome === "applied").length, 1);
  assert.notEqual(rows[0]!.outcome, "failed");
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, toStatus: "PAID", fromStatus: "UNPAID" } }), 1);

  // Nothing left for staff: re-driving the settled row is refused.
  await assert.rejects(redriveNotification(stack.worker!.deps, { notificationId: recorded.id, actor: "staff:ops@test" }), CommandRefusedError);
});
