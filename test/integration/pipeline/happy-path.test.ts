// Order → pay at the sandbox → notify → PAID: one transition, one event, one inbox row applied.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "happy" });
});
after(async () => {
  await stack?.close();
});

test("happy path: order, pay at the sandbox, notify, PAID exactly once", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(12_300);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  assert.equal(order.status, "UNPAID");
  assert.equal(order.totalFen, 12_300);
  assert.match(order.outTradeNo, /^[A-Za-z0-9_]{1,64}$/);
  assert.ok(payUrl.startsWith(`${stack.sandboxUrl}/gateway.do?`), payUrl);

  const { returnUrl } = await stack.payAtSandbox(order.outTradeNo, payUrl);
  const paid = await stack.waitForStatus(order.id, "PAID");
  assert.ok(paid.tradeNo, "trade_no recorded");
  assert.ok(paid.paidAt);
  assert.equal(paid.nextCheckAt, null, "no more reconciliation for a paid order");

  // The sandbox saw exactly `success`.
  const notifies = await stack.control.waitForNotifies(order.outTradeNo, (n) => n.some((r) => r.state === "delivered"));
  assert.equal(notifies[0]!.attempts.at(-1)!.replySnippet, "success");

  const events = await stack.prisma.orderEvent.findMany({ where: { orderId: order.id, type: "paid" } });
  assert.equal(events.length, 1);
  assert.equal(events[0]!.fromStatus, "UNPAID");
  assert.equal(events[0]!.toStatus, "PAID");
  assert.equal(events[0]!.source, "notify");
  const rows = await stack.prisma.paymentNotification.findMany({ where: { orderId: order.id, kind: "notify" } });
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.verified, true);
  assert.equal(rows[0]!.outcome, "applied");
  assert.equal(rows[0]!.totalFen, 12_300);

  // The buyer's browser comes back: verified, the page shows the known status, a check is prompted.
  assert.ok(returnUrl);
  const page = await fetch(returnUrl!);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /data-status="PAID"/);

  // Status polling through the API.
  const res = await stack.fetchApi(`/orders/${order.id}`, { token: buyer.token });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { order: { status: string; payUrl: string | null } };
  assert.equal(body.order.status, "PAID");
  assert.equal(body.order.payUrl, null);
  // Still exactly one transition after everything settled (the return's check changed nothing).
  await waitFor("the return's payment check to finish", async () => (await stack.api.queues.paymentCheck.getJobCounts("waiting", "active", "prioritized")).active === 0);
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, toStatus: "PAID", fromStatus: { not: "PAID" } } }), 1);
});
