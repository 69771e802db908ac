// Fuzzing Alipay's two callbacks on the real api (in-process, real HTTP on port 0, real PostgreSQL,
// Redis and worker). Thousands of hostile requests per run — arbitrary bytes, arbitrary forms,
// genuine notifies damaged in every way, correctly signed notifies over hostile values, oversized,
// compressed and aborted uploads, hostile return query strings — and after each one and at the end:
//   - the server never answers 5xx (nothing here is an infrastructure failure) and never crashes;
//   - every notify that reached the handler left exactly one inbox row, and nothing else did;
//   - an order is PAID only if a request carried a valid signature over a payment of its exact
//     amount to our app and seller (decided by an oracle independent of the code under test);
//   - returns never change an order.
// FUZZ_RUNS scales the number of cases (default 4000 notifies + 1000 returns, ~30 s); FUZZ_SEED
// replays a failing run (fast-check prints the seed and the shrunk case on failure).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import fc from "fast-check";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { newOutTradeNo } from "../../../core/orders/index.ts";
import { CONDITION_CEILING_MS, startStack, type Stack } from "../../support/index.ts";
import { waitForInboxDrained } from "../hardening/drain.ts";
import { privateDatabase } from "../hardening/private-database.ts";
import {
  arbitraryBytes, arbitraryForm, hostileSignedNotify, mutatedNotify, returnQuery, transportCase,
  type CaseContext, type FuzzOrder, type NotifyCase,
} from "./notify-cases.ts";

const SCALE = Number(process.env.FUZZ_RUNS ?? 4000) / 4000;
const NOTIFY_RUNS = Math.max(50, Math.round(4000 * SCALE));
const RETURN_RUNS = Math.max(20, Math.round(1000 * SCALE));
// Chosen here rather than by fast-check so a failure after the property (the final judgement of the
// orders) can name it too.
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : (Math.random() * 2 ** 31) | 0;
const ORDERS = 400;

let stack: Stack;
let db: Awaited<ReturnType<typeof privateDatabase>> | null = null;
let ctx: CaseContext;
// Cases go out in concurrent batches (a notify costs a few ms of server work; one at a time would
// leave the machine idle); inbox rows are then counted per batch.
const BATCH = 8;
const agent = new Agent({ keepAlive: true, maxSockets: BATCH });
const crashes: unknown[] = [];
const onCrash = (e: unknown) => crashes.push(e);

before(async () => {
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  // A database of its own: the test counts inbox rows, which the run's other files also write.
  db = await privateDatabase("fuzz");
  process.env.DATABASE_URL = db.url;
  // A generous query rate: the checks that forged notifies prompt drain quickly.
  stack = await startStack({ name: "fuzz", env: { ALIPAY_QUERY_QPS: "500" } });
  const buyer = await stack.prisma.user.create({ data: { email: `fuzz-${Date.now()}@test.local`, passwordHash: "x" } });
  const orders: FuzzOrder[] = Array.from({ length: ORDERS }, (_, i) => ({ outTradeNo: newOutTradeNo(), totalFen: 100 + i * 137 }));
  await stack.prisma.order.createMany({
    data: orders.map((o) => ({ ...o, buyerId: buyer.id, subject: "fuzz", expiresAt: new Date(Date.now() + 24 * 3600_000), nextCheckAt: null })),
  });
  ctx = {
    orders,
    byOutTradeNo: new Map(orders.map((o) => [o.outTradeNo, o])),
    merchant: { appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, privateKey: stack.alipayPrivateKey },
    forgerKey: generateRsaKeyPair().privateKeyPem,
    bodyLimit: stack.config.limits.notifyBodyBytes,
  };
});
after(async () => {
  agent.destroy();
  await stack?.close();
  await db?.drop();
  process.off("uncaughtException", onCrash);
  process.off("unhandledRejection", onCrash);
});

type Reply = { status: number; body: string } | { error: string };

function send(c: NotifyCase): Promise<Reply> {
  const url = new URL("/alipay/notify", stack.apiUrl);
  if (c.lieAboutLength) return sendAborted(url, c.body);
  return new Promise((resolve) => {
    const req = request(url, { method: "POST", agent, headers: { ...c.headers, "content-length": String(c.body.length) } }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (b: Buffer) => parts.push(b));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      res.on("error", (e) => resolve({ error: e.message }));
    });
    req.on("error", (e) => resolve({ error: e.message }));
    req.end(c.body);
  });
}

/** Declares 1000 more bytes than it sends, then closes its side: an upload that dies midway. */
function sendAborted(url: URL, body: Buffer): Promise<Reply> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length + 1000}\r\n\r\n`);
      socket.end(body);
    });
    let data = "";
    socket.on("data", (b) => (data += b.toString()));
    socket.on("close", () => resolve(data ? { status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0), body: data.split("\r\n\r\n")[1] ?? "" } : { error: "closed" }));
    socket.on("error", () => {});
  });
}

let lastRowId = 0;
/** Inbox rows of this kind written since the last call (ids only grow; the worker inserts none). */
async function newRows(kind: "notify" | "return"): Promise<number> {
  const [r] = await stack.prisma.$queryRaw<{ n: number; max: number | null }[]>`
    SELECT (count(*) FILTER (WHERE kind = ${kind}))::int AS n, max(id) AS max FROM payment_notification WHERE id > ${lastRowId}`;
  lastRowId = r!.max ?? lastRowId;
  return r!.n;
}

const paidOrders = async () =>
  new Set((await stack.prisma.order.findMany({ where: { status: "PAID" }, select: { outTradeNo: true } })).map((o) => o.outTradeNo));

/** For a failure message: the event that paid each order and the inbox row it cites, raw body included. */
async function whyPaid(outTradeNos: string[]): Promise<string> {
  const lines: string[] = [];
  for (const outTradeNo of outTradeNos) {
    const order = await stack.prisma.order.findUniqueOrThrow({ where: { outTradeNo }, include: { events: { orderBy: { id: "asc" } } } });
    lines.push(`${outTradeNo} (total ${order.totalFen} fen):`);
    for (const e of order.events) {
      const n = e.notificationId ? await stack.prisma.paymentNotification.findUnique({ where: { id: e.notificationId } }) : null;
      lines.push(`  event ${e.fromStatus}→${e.toStatus} source=${e.source} notification=${e.notificationId ?? "-"} payload=${JSON.stringify(e.payload)}`);
      if (n) lines.push(`    inbox row ${n.id}: verified=${n.verified} status=${n.tradeStatus} total=${n.totalFen} reason=${n.reason} raw=${JSON.stringify(n.rawBody)}`);
    }
  }
  return lines.join("\n");
}

const mayPay = new Set<string>();
const stats = { categories: new Map<string, number>(), statuses: new Map<string, number>() };
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

test(`notify: ${NOTIFY_RUNS} hostile requests — never 5xx, every one recorded, nothing paid without a valid signature and the exact amount`, async () => {
  const started = Date.now();
  await newRows("notify");
  const cases = fc.oneof(
    { weight: 2, arbitrary: arbitraryBytes(ctx) },
    { weight: 2, arbitrary: arbitraryForm(ctx) },
    { weight: 5, arbitrary: mutatedNotify(ctx) },
    { weight: 4, arbitrary: hostileSignedNotify(ctx) },
    { weight: 1, arbitrary: transportCase(ctx) },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(cases, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      // Recorded before sending: a case that pays must count even if a later assertion fails.
      for (const c of batch) if (c.mayPay) mayPay.add(c.mayPay);
      const replies = await Promise.all(batch.map(send));
      const rows = await newRows("notify");
      batch.forEach((c, i) => {
        const reply = replies[i]!;
        const where = `${c.category} (${c.body.length} bytes): ${JSON.stringify(c.body.subarray(0, 300).toString("latin1"))}`;
        if (c.lieAboutLength) {
          assert.ok("error" in reply || reply.status < 500, `aborted upload answered ${JSON.stringify(reply)}`);
        } else {
          assert.ok(!("error" in reply), `no answer (${"error" in reply ? reply.error : ""}) to ${where}`);
          assert.ok(reply.status < 500, `${reply.status} ${reply.body} for ${where}`);
          assert.ok(reply.body === "success" || reply.body === "failure", `reply body ${JSON.stringify(reply.body)} for ${where}`);
          bump(stats.statuses, `${reply.status} ${reply.body}`);
        }
        bump(stats.categories, c.category.split(/[:/]/)[0]!);
      });
      const expected = batch.filter((c) => c.reachesHandler).length;
      assert.equal(rows, expected, `inbox rows written for the batch: ${batch.map((c) => `${c.category}→${c.reachesHandler}`).join(", ")}`);
    }),
    { numRuns: Math.ceil(NOTIFY_RUNS / BATCH), seed: SEED },
  );

  // Let the worker apply everything that was acknowledged, then judge the orders.
  await waitForInboxDrained(stack.prisma, stack.api.queues.notifyApply, CONDITION_CEILING_MS);
  assert.equal(await stack.prisma.paymentNotification.count({ where: { outcome: "failed" } }), 0, "no apply failed");
  const paid = await paidOrders();
  const unexplained = [...paid].filter((o) => !mayPay.has(o));
  assert.deepEqual(unexplained, [], `orders PAID without a request that validly signed a payment of their exact amount (FUZZ_SEED=${SEED}):\n${await whyPaid(unexplained)}`);
  for (const outTradeNo of paid) {
    const order = await stack.prisma.order.findUniqueOrThrow({ where: { outTradeNo }, include: { events: { where: { toStatus: "PAID", fromStatus: { not: "PAID" } } } } });
    assert.equal(order.events.length, 1, `${outTradeNo} was paid exactly once`);
    const evidence = await stack.prisma.paymentNotification.findUniqueOrThrow({ where: { id: order.events[0]!.notificationId! } });
    assert.equal(evidence.verified, true);
    assert.equal(evidence.totalFen, order.totalFen);
  }
  assert.deepEqual(crashes, [], "no uncaught exception or unhandled rejection");
  assert.equal((await fetch(`${stack.apiUrl}/readyz`)).status, 200, "the api is still up and ready");
  process.stderr.write(
    `[fuzz] ${NOTIFY_RUNS} notifies in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `categories ${JSON.stringify(Object.fromEntries(stats.categories))}; replies ${JSON.stringify(Object.fromEntries(stats.statuses))}; ` +
      `${paid.size} of ${ORDERS} orders paid, ${mayPay.size} could have been\n`,
  );
});

test(`return: ${RETURN_RUNS} hostile query strings — never 5xx, every one recorded, no order changes`, async () => {
  const started = Date.now();
  const paidBefore = await paidOrders();
  await newRows("return");
  await fc.assert(
    fc.asyncProperty(returnQuery(ctx), async (query) => {
      const res = await fetch(`${stack.apiUrl}/alipay/return?${query}`);
      await res.arrayBuffer();
      assert.ok(res.status === 200 || res.status === 400, `${res.status} for ?${query.slice(0, 300)}`);
      assert.equal(await newRows("return"), 1, `one return row for ?${query.slice(0, 300)}`);
    }),
    { numRuns: RETURN_RUNS, seed: SEED },
  );
  assert.deepEqual(await paidOrders(), paidBefore, "a return never pays (or unpays) anything");
  assert.deepEqual(crashes, []);
  process.stderr.write(`[fuzz] ${RETURN_RUNS} returns in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
});
