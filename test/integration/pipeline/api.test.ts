// The buyer API: accounts, validation, ownership, server-side pricing, cancel (close at Alipay first).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "api" });
});
after(async () => {
  await stack?.close();
});

const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });

test("register, log in, and the token guards every order route", async () => {
  const email = `x${Date.now()}@test.local`;
  let r = await json(await stack.fetchApi("/auth/register", { method: "POST", body: JSON.stringify({ email, password: "short" }) }));
  assert.equal(r.status, 400);
  assert.equal(r.body.details[0].path, "password");
  r = await json(await stack.fetchApi("/auth/register", { method: "POST", body: JSON.stringify({ email, password: "long enough pw" }) }));
  assert.equal(r.status, 201);
  const stored = await stack.prisma.user.findUniqueOrThrow({ where: { email } });
  assert.match(stored.passwordHash, /^scrypt\$/);
  assert.equal((await stack.fetchApi("/auth/register", { method: "POST", body: JSON.stringify({ email, password: "long enough pw" }) })).status, 409);
  assert.equal((await stack.fetchApi("/auth/login", { method: "POST", body: JSON.stringify({ email, password: "wrong password" }) })).status, 401);
  r = await json(await stack.fetchApi("/auth/login", { method: "POST", body: JSON.stringify({ email, password: "long enough pw" }) }));
  assert.equal(r.status, 200);
  assert.ok(r.body.token);

  assert.equal((await stack.fetchApi("/orders", { headers: { accept: "application/json" } })).status, 401);
  assert.equal((await stack.fetchApi("/orders", { token: "v1.e30.AAAA" })).status, 401);
  const tampered = r.body.token.slice(0, -2) + (r.body.token.endsWith("A") ? "BB" : "AA");
  assert.equal((await stack.fetchApi("/orders", { token: tampered })).status, 401);
  assert.equal((await stack.fetchApi("/orders", { token: r.body.token })).status, 200);
});

test("orders are priced on the server; a client-sent amount is ignored; input is validated", async () => {
  const buyer = await stack.newBuyer();
  const a = await stack.newCourse(1990);
  const b = await stack.newCourse(3010);
  const courses = await json(await stack.fetchApi("/courses"));
  assert.ok(courses.body.courses.some((c: any) => c.id === a.id && c.price === "19.90"));

  const r = await json(await stack.fetchApi("/orders", { method: "POST", token: buyer.token, body: JSON.stringify({ courseIds: [a.id, b.id, a.id], totalFen: 1, total_amount: "0.01" }) }));
  assert.equal(r.status, 201);
  assert.equal(r.body.order.totalFen, 5000, "priced from the database; duplicates counted once");
  assert.equal(r.body.order.items.length, 2);
  assert.ok(r.body.order.expiresAt);
  const order = await stack.prisma.order.findUniqueOrThrow({ where: { id: r.body.order.id } });
  assert.equal(order.totalFen, 5000);
  assert.ok(order.nextCheckAt, "scheduled for reconciliation");
  assert.match(decodeURIComponent(r.body.payUrl), /"total_amount":"50.00"/);

  for (const [body, path] of [
    [{}, "courseIds"], [{ courseIds: [] }, "courseIds"], [{ courseIds: ["1"] }, "courseIds.0"], [{ courseIds: [1.5] }, "courseIds.0"],
  ] as const) {
    const bad = await json(await stack.fetchApi("/orders", { method: "POST", token: buyer.token, body: JSON.stringify(body) }));
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.equal(bad.body.details[0].path, path);
  }
  const unknown = await json(await stack.fetchApi("/orders", { method: "POST", token: buyer.token, body: JSON.stringify({ courseIds: [99_999_999] }) }));
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error, /unknown or unavailable course/);
  assert.equal((await stack.fetchApi("/orders", { method: "POST", token: buyer.token, body: "{not json" })).status, 400);
});

test("another buyer's order is 404, exactly like a missing one; my list holds only mine", async () => {
  const alice = await stack.newBuyer();
  const bob = await stack.newBuyer();
  const course = await stack.newCourse(1000);
  const { order } = await stack.placeOrder(alice, [course.id]);
  const mine = await json(await stack.fetchApi(`/orders/${order.id}`, { token: alice.token }));
  assert.equal(mine.status, 200);
  assert.ok(mine.body.order.payUrl, "an unpaid, unexpired order offers its pay URL again");
  for (const path of [`/orders/${order.id}`, "/orders/999999999", "/orders/abc"]) {
    const r = await json(await stack.fetchApi(path, { token: bob.token }));
    assert.equal(r.status, 404, path);
    assert.deepEqual(Object.keys(r.body).sort(), ["error", "requestId"]);
  }
  assert.equal((await stack.fetchApi(`/orders/${order.id}/cancel`, { method: "POST", token: bob.token })).status, 404);
  const list = await json(await stack.fetchApi("/orders", { token: bob.token }));
  assert.deepEqual(list.body.orders, []);
  assert.equal((await json(await stack.fetchApi("/orders?limit=1000", { token: alice.token }))).status, 400);
});

test("cancel an unpaid order: closed at Alipay first, then CANCELLED", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(1000);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  await stack.control.openCashier(payUrl);
  const r = await json(await stack.fetchApi(`/orders/${order.id}/cancel`, { method: "POST", token: buyer.token }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.order.status, "CANCELLED");
  assert.equal((await stack.control.getTrade(order.outTradeNo)).status, "TRADE_CLOSED");
  const ev = await stack.prisma.orderEvent.findFirstOrThrow({ where: { orderId: order.id, toStatus: "CANCELLED" } });
  assert.equal(ev.source, "buyer");
  assert.equal(ev.actor, `buyer:${buyer.id}`);
  assert.equal((await stack.fetchApi(`/orders/${order.id}/cancel`, { method: "POST", token: buyer.token })).status, 409);
});

test("cancel an order Alipay says is already paid (notify lost): it becomes PAID instead", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(1000);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  await stack.control.openCashier(payUrl);
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 100 }] });
  await stack.control.pay(order.outTradeNo);
  const r = await json(await stack.fetchApi(`/orders/${order.id}/cancel`, { method: "POST", token: buyer.token }));
  assert.equal(r.status, 409);
  assert.equal(r.body.order.status, "PAID");
  assert.equal(r.body.outcome, "paid");
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "PAID");
});

test("an unverifiable return shows nothing about the order and changes nothing", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(1000);
  const { order } = await stack.placeOrder(buyer, [course.id]);
  const res = await fetch(`${stack.apiUrl}/alipay/return?out_trade_no=${order.outTradeNo}&total_amount=10.00&sign=AAAA&sign_type=RSA2&app_id=${stack.config.alipay.appId}`);
  assert.equal(res.status, 400);
  assert.doesNotMatch(await res.text(), new RegExp(order.outTradeNo));
  const row = await waitFor("the return recorded", () => stack.prisma.paymentNotification.findFirst({ where: { kind: "return", outTradeNo: order.outTradeNo } }));
  assert.equal(row.verified, false);
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).checkAttempts, 0, "no check for an unverified return");
});
