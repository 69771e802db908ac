// "Killing each role with SIGTERM during load loses no acknowledged notify." The api and the worker
// run as their own processes; a load generator sends signed notifies continuously (and, like Alipay,
// sends again whatever was not answered `success`); mid-load the api is SIGTERMed and restarted on
// the same port, then the worker, then both at once. Afterwards every notify that was ever answered
// `success` must have its inbox row and its order must end PAID through exactly one applied row;
// every SIGTERMed process must have exited 0. The counts are printed (see docs/operations.md).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { newOutTradeNo } from "../../../core/orders/index.ts";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { ROLE_START_CEILING_MS, sleep, startStack, waitFor, type Stack } from "../../support/index.ts";
import { waitForInboxDrained } from "./drain.ts";
import { startRole, startRoles, type RunningRole } from "./roles.ts";

const NOTIFIES = Number(process.env.SIGTERM_LOAD_NOTIFIES ?? 2400);
const CONCURRENCY = 12;
const PRICE_FEN = 9900;

let stack: Stack;
let api: RunningRole;
let worker: RunningRole;
const everStarted: RunningRole[] = [];

before(async () => {
  stack = await startStack({ name: "sigterm-load", worker: false });
  [api, worker] = (await startRoles([["api", stack.env], ["worker", stack.env]])) as [RunningRole, RunningRole];
  everStarted.push(api, worker);
});
after(async () => {
  await Promise.all(everStarted.map((r) => r.stop("SIGKILL")));
  await stack?.close();
});

interface Notify {
  outTradeNo: string;
  notifyId: string;
  body: string;
  attempts: number;
  acked: boolean;
}

type Reply = { status: number; body: string } | { error: string };

function post(agent: Agent, port: number, body: string): Promise<Reply> {
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/alipay/notify", method: "POST", agent, headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8", "content-length": Buffer.byteLength(body) } },
      (res) => {
        let text = "";
        res.on("data", (b: Buffer) => (text += b.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", (e) => resolve({ error: e.message }));
      },
    );
    req.on("error", (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
    req.end(body);
  });
}

// The restarts below wait for each role's readiness (three rounds, the last two at once) under
// ROLE_START_CEILING_MS: the test's own bound leaves room for them, on top of the load's waits.
test(`SIGTERM of the api and the worker under load loses no acknowledged notify (${NOTIFIES} notifies)`, { timeout: 240_000 + 3 * ROLE_START_CEILING_MS }, async () => {
  // Orders and their signed notifies, made before the clock starts.
  const buyer = await stack.prisma.user.create({ data: { email: `sigterm-${Date.now()}@test.local`, passwordHash: "x" } });
  const notifies: Notify[] = Array.from({ length: NOTIFIES }, () => {
    const outTradeNo = newOutTradeNo();
    const params = buildSignedNotify({ outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen: PRICE_FEN }, {}, { privateKey: stack.alipayPrivateKey });
    return { outTradeNo, notifyId: params.notify_id!, body: new URLSearchParams(params).toString(), attempts: 0, acked: false };
  });
  await stack.prisma.order.createMany({
    data: notifies.map((n) => ({ outTradeNo: n.outTradeNo, buyerId: buyer.id, subject: "sigterm", totalFen: PRICE_FEN, expiresAt: new Date(Date.now() + 24 * 3600_000), nextCheckAt: null })),
  });

  // The load: CONCURRENCY senders over one queue; whatever is not acknowledged goes back in line.
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const pending = [...notifies];
  const counts = { sent: 0, acked: 0, connectionErrors: 0, non200: 0, serverErrors: 0 };
  const replies = new Map<string, number>();
  let stopping = false;
  const senders = Array.from({ length: CONCURRENCY }, async () => {
    while (!stopping) {
      const n = pending.shift();
      if (!n) {
        if (counts.acked === NOTIFIES) return;
        await sleep(20);
        continue;
      }
      n.attempts++;
      counts.sent++;
      const reply = await post(agent, api.port, n.body);
      if ("error" in reply) {
        counts.connectionErrors++;
        replies.set(reply.error, (replies.get(reply.error) ?? 0) + 1);
      } else {
        replies.set(`${reply.status} ${reply.body}`, (replies.get(`${reply.status} ${reply.body}`) ?? 0) + 1);
        if (reply.status >= 500) counts.serverErrors++;
        if (reply.status === 200 && reply.body === "success") {
          if (!n.acked) counts.acked++;
          n.acked = true;
          continue;
        }
        counts.non200++;
      }
      pending.push(n); // Alipay's retry, compressed
      await sleep(25);
    }
  });

  const started = Date.now();
  const exits: Record<string, number | null> = {};
  const stopMs: Record<string, number> = {};
  const restart = async (which: "api" | "worker", label: string) => {
    const old = which === "api" ? api : worker;
    const t0 = Date.now();
    exits[label] = await old.stop("SIGTERM");
    stopMs[label] = Date.now() - t0;
    const fresh = await startRole(which, stack.env, { port: old.port });
    everStarted.push(fresh);
    if (which === "api") api = fresh;
    else worker = fresh;
  };
  const untilAcked = (share: number) => waitFor(`${Math.round(share * 100)}% acknowledged`, () => counts.acked >= NOTIFIES * share, { timeoutMs: 60_000, intervalMs: 10 });

  await untilAcked(0.2);
  await restart("api", "api #1");
  await untilAcked(0.45);
  await restart("worker", "worker #1");
  await untilAcked(0.7);
  await Promise.all([restart("api", "api #2"), restart("worker", "worker #2")]);
  await waitFor("every notify acknowledged", () => counts.acked === NOTIFIES, { timeoutMs: 90_000 });
  stopping = true;
  await Promise.all(senders);
  agent.destroy();
  const loadSeconds = (Date.now() - started) / 1000;

  // Every acknowledged notify is in the inbox and ends applied; its order is PAID exactly once.
  // (Scoped to this test's orders: the run's other test files share the database.)
  const mine = notifies.map((n) => n.outTradeNo);
  await waitForInboxDrained(stack.prisma, stack.api.queues.notifyApply, 90_000, mine);
  const rows = await stack.prisma.paymentNotification.findMany({ where: { kind: "notify", outTradeNo: { in: mine } }, select: { notifyId: true, outTradeNo: true, outcome: true } });
  const rowsByNotify = new Map<string, typeof rows>();
  for (const r of rows) rowsByNotify.set(r.notifyId!, [...(rowsByNotify.get(r.notifyId!) ?? []), r]);
  const acked = notifies.filter((n) => n.acked);
  const withoutRow = acked.filter((n) => !rowsByNotify.has(n.notifyId));
  const notApplied = acked.filter((n) => (rowsByNotify.get(n.notifyId) ?? []).filter((r) => r.outcome === "applied").length !== 1);
  const outcomes = Object.fromEntries(["applied", "duplicate", "failed", "pending", "rejected"].map((o) => [o, rows.filter((r) => r.outcome === o).length]));
  const paid = await stack.prisma.order.count({ where: { buyerId: buyer.id, status: "PAID" } });
  const paidEvents = await stack.prisma.orderEvent.count({ where: { order: { buyerId: buyer.id }, fromStatus: "UNPAID", toStatus: "PAID" } });

  const summary = {
    notifies: NOTIFIES, ...counts, inboxRows: rows.length, outcomes, paid, paidEvents, lost: withoutRow.length + notApplied.length,
    exits, stopMs, loadSeconds, replies: Object.fromEntries(replies),
  };
  process.stderr.write(`[sigterm-under-load] ${JSON.stringify(summary)}\n`);

  for (const [label, code] of Object.entries(exits)) assert.equal(code, 0, `${label} exited cleanly after SIGTERM`);
  // Well inside the 15 s bound although the load never paused: the roles stop, they are not killed.
  for (const [label, ms] of Object.entries(stopMs)) assert.ok(ms < 10_000, `${label} took ${ms} ms to stop`);
  assert.equal(acked.length, NOTIFIES);
  assert.deepEqual(withoutRow.map((n) => n.notifyId), [], "acknowledged notifies without an inbox row");
  assert.deepEqual(notApplied.map((n) => n.notifyId), [], "acknowledged notifies whose order was not applied exactly once");
  assert.equal(outcomes.failed, 0);
  assert.equal(paid, NOTIFIES);
  assert.equal(paidEvents, NOTIFIES, "each order paid exactly once");
  assert.ok(counts.connectionErrors > 0 || counts.non200 > 0, "the restarts happened under load (some sends found the api away)");
});
