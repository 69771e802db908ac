// Redis is down when the notify arrives: the api records it but answers non-`success` with a 5xx, so
// Alipay retries; the retry after Redis is back pays the order. The recorded-but-unqueued row stays
// visible as failed and can be re-driven (a no-op by then: the order is already paid).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { redriveNotification } from "../../../core/orders/index.ts";
import { PrivateRedis, startStack, waitFor, type Stack } from "../../support/index.ts";

let redis: PrivateRedis;
let stack: Stack;
before(async () => {
  redis = await PrivateRedis.start();
  // time factor 0.002: Alipay's 4m, 10m, 10m… retries arrive after 0.48 s, 1.2 s, 1.2 s…
  stack = await startStack({ name: "redis-down", redisUrl: redis.url, sandbox: { timeFactor: 0.002 } });
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
  await stack.waitForStatus(order.id, "PAID", 30_000);
  const notifies = await stack.control.waitForNotifies(order.outTradeNo, (n) => n[0]?.state === "delivered", { timeoutMs: 10_000 });
  assert.ok(notifies[0]!.attempts.length >= 2, "paid by a retry");
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, toStatus: "PAID" } }), 1);

  // Staff re-drive the failed row: recorded as an event; applying it changes nothing.
  const { notification } = await redriveNotification(stack.worker!.deps, { notificationId: recorded.id, actor: "staff:ops@test" });
  assert.equal(notification.outcome, "pending");
  const after = await waitFor("the re-driven row processed", async () => {
    const r = await stack.prisma.paymentNotification.findUniqueOrThrow({ where: { id: recorded.id } });
    return r.outcome !== "pending" ? r : null;
  });
  assert.equal(after.outcome, "duplicate");
  const redriven = await stack.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, type: "notification_redriven" } });
  assert.equal(redriven.actor, "staff:ops@test");
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, toStatus: "PAID", fromStatus: "UNPAID" } }), 1);
});
