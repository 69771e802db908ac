// Per-address limits on Alipay's callback endpoints (issue 10 point 4): junk from one address is
// stored only up to the limit, then refused with 429 and not stored; Alipay's own verified notify from
// that very address still goes through and is applied. The limits are small here (set by env, as an
// operator would); the product defaults are in core/config.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

const NOTIFY_LIMIT = 5;
const RETURN_LIMIT = 4;
let stack: Stack;

before(async () => {
  stack = await startStack({
    name: "callback-limits",
    env: { NOTIFY_REJECTED_LIMIT_PER_ADDRESS: String(NOTIFY_LIMIT), RETURN_LIMIT_PER_ADDRESS: String(RETURN_LIMIT) },
  });
});
after(async () => {
  await stack?.close();
});

const rows = (kind: "notify" | "return", outTradeNo: string) => stack.prisma.paymentNotification.count({ where: { kind, outTradeNo } });

test("junk notifies from one address get 429 after the limit and store nothing more; Alipay's verified notify from that address still goes through and is applied", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(3300);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  await stack.control.openCashier(payUrl);

  // Junk naming no order (unsigned) and a forgery for the real order (signed with another key).
  const junkNo = `JUNK${randomBytes(6).toString("hex")}`;
  const forged = buildSignedNotify(
    { outTradeNo: order.outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen: 3300 },
    {},
    { privateKey: generateRsaKeyPair().privateKeyPem },
  );
  const statuses: number[] = [];
  for (let i = 0; i < NOTIFY_LIMIT + 3; i++) {
    const r = i % 2 === 0 ? await stack.postNotify(`out_trade_no=${junkNo}&trade_status=TRADE_SUCCESS&sign=junk${i}`) : await stack.postNotify(forged);
    statuses.push(r.status);
    if (r.status === 429) assert.equal(r.text, "failure", "Alipay's reply word, nothing else");
  }
  assert.deepEqual(statuses, [...Array(NOTIFY_LIMIT).fill(400), 429, 429, 429]);
  const stored = (await rows("notify", junkNo)) + (await rows("notify", order.outTradeNo));
  assert.equal(stored, NOTIFY_LIMIT, "only the junk within the limit was written");

  // The forgeries prompted payment checks (the trade is unpaid): let them finish first, so that what
  // pays the order below can only be the notify.
  await waitFor("payment checks to drain", async () => {
    const c = await stack.api.queues.paymentCheck.getJobCounts("waiting", "active", "prioritized", "delayed");
    return c.waiting + c.active + c.prioritized + c.delayed === 0;
  });
  // Alipay (the sandbox, also on 127.0.0.1) delivers the genuine notify: verified, so never counted
  // and never refused; the worker applies it.
  await stack.control.pay(order.outTradeNo);
  const notifies = await stack.control.waitForNotifies(order.outTradeNo, (n) => n.some((x) => x.attempts.some((a) => a.statusCode === 200)));
  assert.ok(notifies.every((n) => n.attempts.every((a) => a.statusCode !== 429)), "no attempt of Alipay's was refused");
  await stack.waitForStatus(order.id, "PAID");
  const paid = await stack.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, toStatus: "PAID" } });
  assert.equal(paid.source, "notify");
  assert.ok(paid.notificationId, "applied from the verified notify's own row");
  const verifiedRow = await stack.prisma.paymentNotification.findUniqueOrThrow({ where: { id: paid.notificationId! } });
  assert.equal(verifiedRow.verified, true);

  // The verified notify did not reset the count: junk is still refused.
  assert.equal((await stack.postNotify(`out_trade_no=${junkNo}&sign=again`)).status, 429);
  assert.equal(await rows("notify", junkNo), Math.ceil(NOTIFY_LIMIT / 2));
});

test("returns are limited per address: past the limit 429, nothing stored", async () => {
  const marker = `RET${randomBytes(6).toString("hex")}`;
  const statuses: number[] = [];
  for (let i = 0; i < RETURN_LIMIT + 2; i++) {
    const r = await fetch(`${stack.apiUrl}/alipay/return?out_trade_no=${marker}&sign=bogus${i}`);
    statuses.push(r.status);
    await r.arrayBuffer();
  }
  assert.deepEqual(statuses, [...Array(RETURN_LIMIT).fill(400), 429, 429]);
  assert.equal(await rows("return", marker), RETURN_LIMIT);
});
