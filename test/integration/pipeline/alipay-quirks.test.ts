// The whole pipeline (api notify intake → worker → order) with the notifies real Alipay sends and a
// kind emulator would not: GBK-encoded, buyer_open_id instead of buyer_id, TRADE_FINISHED after the
// refund window (issue 13 point 4).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "quirks" });
});
after(async () => {
  await stack?.close();
});

test("a GBK notify from a buyer known by buyer_open_id pays the order; TRADE_FINISHED later changes nothing", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(4_560);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  await stack.control.openCashier(payUrl);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "gbkCharset" }, { kind: "buyerOpenId" }] });
  await stack.control.pay(order.outTradeNo);
  const paid = await stack.waitForStatus(order.id, "PAID");
  assert.match(paid.buyerAlipayId ?? "", /^074[A-Za-z0-9]{44}$/, "the open id is kept (longer than a 2088 buyer_id)");

  const notifies = await stack.control.waitForNotifies(order.outTradeNo, (n) => n.some((r) => r.state === "delivered"));
  const attempt = notifies[0]!.attempts.at(-1)!;
  assert.ok(attempt.faults?.includes("gbk"), "the notify went out in GBK");
  assert.equal(attempt.replySnippet, "success");
  const row = await stack.prisma.paymentNotification.findFirstOrThrow({ where: { orderId: order.id, kind: "notify" } });
  assert.equal(row.verified, true);
  assert.equal(row.outcome, "applied");

  await stack.control.clearFaults(order.outTradeNo);
  await stack.control.finish(order.outTradeNo);
  await stack.control.waitForNotifies(order.outTradeNo, (n) => n.some((r) => r.tradeStatus === "TRADE_FINISHED" && r.state === "delivered"));
  await waitFor("the TRADE_FINISHED notify to be applied", async () => {
    const rows = await stack.prisma.paymentNotification.findMany({ where: { orderId: order.id, kind: "notify", tradeStatus: "TRADE_FINISHED" } });
    return rows.length === 1 && rows[0]!.outcome !== "pending";
  });
  const after = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(after.status, "PAID");
  assert.equal(after.needsReview, false);
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, toStatus: "PAID", fromStatus: { not: "PAID" } } }), 1);
});
