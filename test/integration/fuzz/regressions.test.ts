// Cases the fuzz tests found, kept as plain tests: a NUL character (which PostgreSQL text cannot
// store) inside a callback made the inbox write fail, so a signed notify got 503 forever (Alipay
// retrying a notify that can never be recorded) and a return got 500.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createSign } from "node:crypto";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { startStack, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "fuzz-regressions", worker: false });
});
after(async () => {
  await stack?.close();
});

test("a correctly signed notify with a NUL in a field is recorded and acknowledged, and pays nothing", async () => {
  const { order } = await stack.unpaidOrder(5991);
  for (const overrides of <Record<string, string>[]>[{ trade_no: "a\u0000b" }, { app_id: "2021\u0000" }, { notify_id: "\u0000" }, { subject: "x\u0000" }]) {
    const params = buildSignedNotify({ outTradeNo: order.outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen: 5991 }, overrides, { privateKey: stack.alipayPrivateKey });
    const reply = await stack.postNotify(params);
    assert.deepEqual(reply, { status: 200, text: "success" }, JSON.stringify(overrides));
  }
  const recorded = await stack.prisma.paymentNotification.findMany({ where: { kind: "notify", rawBody: { contains: order.outTradeNo } } });
  assert.equal(recorded.length, 4, "each attempt is in the inbox");
  assert.ok(recorded.every((r) => r.verified && r.outcome === "rejected" && /NUL/.test(r.reason)), JSON.stringify(recorded.map((r) => [r.outcome, r.reason])));
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "UNPAID");
});

test("an unsigned notify with NUL bytes (raw or escaped) is refused with 400 and recorded", async () => {
  const marker = `nul${Date.now()}`;
  for (const body of [`${marker}=1&out_trade_no=%00&sign=AA`, `${marker}=2&charset=%00&sign=AA`, `${marker}=3&x=\u0000&%\u0000\u0000`]) {
    const reply = await stack.postNotify(body);
    assert.deepEqual(reply, { status: 400, text: "failure" }, body);
  }
  assert.equal(await stack.prisma.paymentNotification.count({ where: { rawBody: { startsWith: marker } } }), 3);
});

test("a signed return naming an order by a NUL is a page, not a 500", async () => {
  const pairs: Record<string, string> = {
    app_id: stack.config.alipay.appId, out_trade_no: "\u0000", total_amount: "1.00", seller_id: stack.config.alipay.sellerId,
    method: "alipay.trade.page.pay.return", timestamp: "2026-01-01 12:00:00", charset: "utf-8", version: "1.0", sign_type: "RSA2",
  };
  const content = Object.keys(pairs).filter((k) => k !== "sign_type").sort().map((k) => `${k}=${pairs[k]}`).join("&");
  const sign = createSign("RSA-SHA256").update(content).sign(stack.alipayPrivateKey, "base64");
  const res = await fetch(`${stack.apiUrl}/alipay/return?${new URLSearchParams({ ...pairs, sign })}`);
  assert.ok(res.status === 200 || res.status === 400, String(res.status));
  await res.arrayBuffer();
});
