// The same notify, again and again, and all at once: exactly one transition (idempotency in PostgreSQL).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "duplicates" });
});
after(async () => {
  await stack?.close();
});

async function settled(orderId: number, rows: number) {
  return waitFor(`${rows} inbox rows of order ${orderId} processed`, async () => {
    const all = await stack.prisma.paymentNotification.findMany({ where: { orderId, kind: "notify" } });
    return all.length === rows && all.every((r) => r.outcome !== "pending") ? all : null;
  });
}

const paidTransitions = (orderId: number) =>
  stack.prisma.orderEvent.count({ where: { orderId, toStatus: "PAID", NOT: { fromStatus: "PAID" } } });

test("the sandbox delivers the same notify 8 times: one transition, 7 duplicates", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(5000);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  await stack.payAtSandbox(order.outTradeNo, payUrl);
  await stack.waitForStatus(order.id, "PAID");
  for (let i = 0; i < 7; i++) {
    const r = await stack.control.renotify(order.outTradeNo);
    assert.equal(r.attempts?.[0]?.replySnippet, "success", "every copy is acknowledged");
  }
  const rows = await settled(order.id, 8);
  assert.equal(new Set(rows.map((r) => r.notifyId)).size, 1, "one notify_id, eight deliveries");
  assert.deepEqual(rows.map((r) => r.outcome).sort(), ["applied", ...Array(7).fill("duplicate")]);
  assert.equal(await paidTransitions(order.id), 1);
});

test("50 copies of one notify posted concurrently: exactly one transition", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(7700);
  const { order } = await stack.placeOrder(buyer, [course.id]);
  const params = buildSignedNotify(
    { outTradeNo: order.outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen: 7700 },
    {},
    { privateKey: stack.alipayPrivateKey },
  );
  const replies = await Promise.all(Array.from({ length: 50 }, () => stack.postNotify(params)));
  assert.deepEqual(new Set(replies.map((r) => `${r.status} ${r.text}`)), new Set(["200 success"]));
  const rows = await settled(order.id, 50);
  assert.equal(rows.filter((r) => r.outcome === "applied").length, 1);
  assert.equal(rows.filter((r) => r.outcome === "duplicate").length, 49);
  assert.equal(await paidTransitions(order.id), 1);
  const paid = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(paid.status, "PAID");
  assert.equal(paid.tradeNo, params.trade_no);
});
