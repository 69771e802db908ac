// The single writer (core/orders/store.ts) against a real PostgreSQL: the decision statement's
// guards, the inbox's allowed moves, timestamptz round trips; the compare-and-set giving up
// (applyEvidence's retry-exhausted path); and jobs that can never succeed failing at once.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Job, Queue } from "bullmq";
import { sqlPoolOf } from "../../../core/db/index.ts";
import { APPLY_MAX_ATTEMPTS, applyEvidence, ConcurrentChangeError, createIntakeBatching, createOrderBatching, type Evidence } from "../../../core/orders/index.ts";
import { createQueues } from "../../../core/queues/index.ts";
import * as store from "../../../core/orders/store.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "store" });
});
after(async () => {
  await stack?.close();
});

async function pendingRow(order: { id: number; outTradeNo: string }, receivedAt = new Date()) {
  return store.insertNotification(stack.prisma, {
    kind: "notify", rawBody: `out_trade_no=${order.outTradeNo}`, verified: true, reason: "ok", outcome: "pending", notifyId: null,
    outTradeNo: order.outTradeNo, orderId: order.id, tradeNo: null, tradeStatus: "TRADE_SUCCESS", totalFen: null, refundFen: null, receivedAt, processedAt: null,
  });
}

const row = (id: number) => stack.prisma.paymentNotification.findUniqueOrThrow({ where: { id } });
const events = (orderId: number) => stack.prisma.orderEvent.findMany({ where: { orderId }, orderBy: { id: "asc" } });

test("writeDecision: the guarded update, its event and the inbox outcome land together; a stale guard writes nothing", async () => {
  const { order } = await stack.unpaidOrder(4500);
  const first = await pendingRow(order);
  const second = await pendingRow(order);
  const now = new Date("2026-06-01T12:34:56.789Z");
  const paidAt = new Date("2026-06-01T12:30:00.123Z");
  const plan = (notificationId: number): store.WritePlan => ({
    orderId: order.id,
    seen: { status: "UNPAID", refundedFen: 0, alipayRefundFeeFen: 0 },
    changes: { status: "PAID", tradeNo: "2026060122001400000000000001", paidAt, nextCheckAt: null },
    event: { type: "paid", fromStatus: "UNPAID", toStatus: "PAID", source: "notify", actor: "", notificationId, payload: { reason: "TRADE_SUCCESS" } },
    notification: { id: notificationId, outcome: "applied" },
    now,
  });

  const written = await store.writeDecision(stack.prisma, plan(first));
  assert.ok(written);
  assert.equal(written.order.status, "PAID");
  assert.deepEqual(written.order.paidAt, paidAt, "instants come back as written (timestamptz)");
  assert.deepEqual(written.order.updatedAt, now);
  assert.equal(written.order.nextCheckAt, null);
  assert.equal(written.notificationMarked, true);
  assert.equal(written.event?.type, "paid");
  assert.equal(written.event?.notificationId, first);
  assert.deepEqual(written.event?.createdAt, now);
  assert.deepEqual(written.event?.payload, { reason: "TRADE_SUCCESS" });

  // What Prisma reads is what the statement returned (the row types are the same model types).
  const read = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.deepEqual(read, written.order);
  const applied = await row(first);
  assert.equal(applied.outcome, "applied");
  assert.deepEqual(applied.processedAt, now);
  assert.equal(applied.attempts, 1);

  // The same decision from the same (now stale) snapshot: the guard fails, nothing at all is written.
  assert.equal(await store.writeDecision(stack.prisma, plan(second)), null);
  assert.equal((await row(second)).outcome, "pending", "the inbox outcome is conditional on the guard");
  assert.deepEqual((await events(order.id)).map((e) => e.type), ["created", "paid"]);
});

test("writeDecisions: several orders in one statement, each its own compare-and-set; the batcher splits two decisions about one order", async () => {
  const orders = [(await stack.unpaidOrder(4500)).order, (await stack.unpaidOrder(4500)).order, (await stack.unpaidOrder(4500)).order];
  const rows = await Promise.all(orders.map((o) => pendingRow(o)));
  const now = new Date("2026-06-02T08:00:00.000Z");
  const pay = (i: number, notificationId = rows[i]!, seen: "UNPAID" | "PAID" = "UNPAID"): store.WritePlan => ({
    orderId: orders[i]!.id,
    seen: { status: seen, refundedFen: 0, alipayRefundFeeFen: 0 },
    changes: { status: "PAID", tradeNo: `202606022200140000000000000${i}`, paidAt: now, nextCheckAt: null },
    event: { type: "paid", fromStatus: "UNPAID", toStatus: "PAID", source: "notify", actor: "", notificationId, payload: { i } },
    notification: { id: notificationId, outcome: "applied" },
    now,
  });
  // The third decision was taken on a snapshot that is not the order's state: only it is not written.
  const lock: store.WritePlan = { orderId: orders[2]!.id, seen: { status: "PAID", refundedFen: 0, alipayRefundFeeFen: 0 }, changes: {}, notification: { id: rows[2]!, outcome: "duplicate" }, now };
  const written = await store.writeDecisions(stack.prisma, [pay(1), pay(0), lock]);
  assert.deepEqual(written.map((w) => w?.order.id ?? null), [orders[1]!.id, orders[0]!.id, null], "results in the plans' order");
  assert.deepEqual(written.map((w) => w?.order.status ?? null), ["PAID", "PAID", null]);
  assert.deepEqual(written.map((w) => w?.event?.payload ?? null), [{ i: 1 }, { i: 0 }, null]);
  assert.deepEqual(written.map((w) => w?.notificationMarked ?? null), [true, true, null]);
  assert.deepEqual((await Promise.all(rows.map(row))).map((r) => r.outcome), ["applied", "applied", "pending"]);
  assert.deepEqual((await events(orders[2]!.id)).map((e) => e.type), ["created"]);
  await assert.rejects(store.writeDecisions(stack.prisma, [pay(2), pay(2)]), /its only one in the statement/);

  // Through the batcher: two decisions about one order taken on the same snapshot (two copies of a
  // notify in flight) go in separate statements; the second one's guard fails.
  const batching = createOrderBatching(stack.prisma);
  const second = await pendingRow(orders[2]!);
  const both = await Promise.all([batching.write(pay(2)), batching.write(pay(2, second))]);
  assert.equal(both.filter((w) => w !== null).length, 1, "exactly one of the two is written");
  assert.deepEqual((await events(orders[2]!.id)).map((e) => e.type), ["created", "paid"]);
  const read = await batching.readInbox(second);
  assert.equal(read?.notification.outcome, both[0] ? "pending" : "applied");
  assert.equal(read?.order?.status, "PAID");
  assert.equal(await batching.readInbox(2_000_000_000), null);
});

test("payment checks' order reads through the batcher: each of several concurrent reads gets its own order, or null", async () => {
  const a = (await stack.unpaidOrder(1200)).order;
  const b = (await stack.unpaidOrder(3400)).order;
  const batching = createOrderBatching(stack.prisma);
  const [ra, missing, rb, again] = await Promise.all([batching.readOrder(a.id), batching.readOrder(2_000_000_000), batching.readOrder(b.id), batching.readOrder(a.id)]);
  assert.deepEqual(ra, await store.loadOrder(stack.prisma, { id: a.id }));
  assert.deepEqual(rb, await store.loadOrder(stack.prisma, { id: b.id }));
  assert.deepEqual(again, ra);
  assert.equal(missing, null);
  assert.equal(rb?.totalFen, 3400);
});

test("writeDecisions writes every kind of decision exactly as writeDecision does (the batch statement's one fixed text)", async () => {
  // Each kind of decision, written once alone (writeDecision, on order A) and once inside a batch
  // (writeDecisions, on order B), must leave the same order, events and inbox rows and return the same.
  type Kind = (o: { id: number }, n: number, now: Date) => store.WritePlan;
  const unpaid = { status: "UNPAID" as const, refundedFen: 0, alipayRefundFeeFen: 0 };
  const kinds: Record<string, Kind> = {
    pay: (o, n, now) => ({
      orderId: o.id, seen: unpaid, now,
      changes: { status: "PAID", tradeNo: "2026060322001400000000000042", buyerAlipayId: "2088000000000042", paidAt: new Date("2026-06-03T07:59:58.123Z"), nextCheckAt: null },
      event: { type: "paid", fromStatus: "UNPAID", toStatus: "PAID", source: "notify", actor: "", notificationId: n, payload: { reasonCode: "x", nested: { a: [1, "两"] } } },
      notification: { id: n, outcome: "applied" },
    }),
    anomaly: (o, n, now) => ({
      orderId: o.id, seen: unpaid, now, changes: { needsReview: true },
      event: { type: "anomaly.amount_mismatch", fromStatus: "UNPAID", toStatus: "UNPAID", source: "notify", actor: "", notificationId: n, payload: {}, dedupeKey: "k" },
      notification: { id: n, outcome: "anomaly" },
    }),
    check: (o, _n, now) => ({ orderId: o.id, seen: unpaid, now, changes: { countCheck: true, nextCheckAt: new Date("2026-06-03T09:00:00.000Z") } }),
    audit: (o, _n, now) => ({
      orderId: o.id, seen: unpaid, now, changes: {},
      event: { type: "payment_checked", fromStatus: "UNPAID", toStatus: "UNPAID", source: "staff", actor: "staff:a@test", notificationId: null, payload: { result: "noop" } },
    }),
    duplicate: (o, n, now) => ({ orderId: o.id, seen: unpaid, now, changes: {}, notification: { id: n, outcome: "duplicate" } }),
    stale: (o, n, now) => ({ orderId: o.id, seen: { ...unpaid, status: "PAID" }, now, changes: { status: "CLOSED" }, notification: { id: n, outcome: "applied" } }),
  };
  const names = Object.keys(kinds);
  const now = new Date("2026-06-03T08:00:00.000Z");
  const setUp = async () => {
    const order = (await stack.unpaidOrder(4500)).order;
    return { order, row: await pendingRow(order) };
  };
  const alone = await Promise.all(names.map(setUp));
  const batched = await Promise.all(names.map(setUp));
  const single: (store.WriteResult | null)[] = [];
  for (const [k, name] of names.entries()) single.push(await store.writeDecision(stack.prisma, kinds[name]!(alone[k]!.order, alone[k]!.row, now)));
  const batch = await store.writeDecisions(stack.prisma, names.map((name, k) => kinds[name]!(batched[k]!.order, batched[k]!.row, now)));

  // What may differ between the two orders: their ids and what each had before the decision.
  const comparable = (o: object | null | undefined, plan: store.WritePlan, written: boolean) => {
    if (!o) return o;
    const changed = written && Object.keys(plan.changes).length > 0;
    const skip = ["id", "outTradeNo", "buyerId", "subject", "createdAt", "expiresAt", ...(plan.changes.nextCheckAt === undefined ? ["nextCheckAt"] : []), ...(changed ? [] : ["updatedAt"])];
    return Object.fromEntries(Object.entries(o).filter(([k]) => !skip.includes(k)));
  };
  const eventOf = (e: Record<string, unknown> | null | undefined) => e && Object.fromEntries(Object.entries(e).filter(([k]) => !["id", "orderId", "notificationId"].includes(k)));
  for (const [k, name] of names.entries()) {
    const a: store.WriteResult | null = single[k]!;
    const b: store.WriteResult | null = batch[k]!;
    const plan = kinds[name]!(batched[k]!.order, batched[k]!.row, now);
    assert.equal(b === null, a === null, `${name}: written alike`);
    assert.deepEqual(comparable(b?.order, plan, true), comparable(a?.order, plan, true), `${name}: the order returned`);
    assert.deepEqual(eventOf(b?.event as never), eventOf(a?.event as never), `${name}: the event returned`);
    assert.equal(b?.notificationMarked, a?.notificationMarked, `${name}: the inbox row marked`);
    assert.equal(b?.event?.notificationId ?? null, a?.event?.notificationId === alone[k]!.row ? batched[k]!.row : (a?.event?.notificationId ?? null), `${name}: the event's inbox row`);
    const [ra, rb] = await Promise.all([row(alone[k]!.row), row(batched[k]!.row)]);
    assert.deepEqual([rb.outcome, rb.attempts, rb.processedAt, rb.orderId], [ra.outcome, ra.attempts, ra.processedAt, ra.orderId === alone[k]!.order.id ? batched[k]!.order.id : ra.orderId], `${name}: the inbox row`);
    const [oa, ob] = await Promise.all([alone[k]!.order.id, batched[k]!.order.id].map((id) => stack.prisma.order.findUniqueOrThrow({ where: { id } })));
    assert.deepEqual(comparable(ob, plan, a !== null), comparable(oa, plan, a !== null), `${name}: the order stored`);
    const [ea, eb] = await Promise.all([alone[k]!.order.id, batched[k]!.order.id].map(events));
    const written = (es: typeof ea) => es.filter((e) => e.type !== "created").map((e) => eventOf(e as never));
    assert.deepEqual(written(eb), written(ea), `${name}: the events stored`);
  }
  assert.deepEqual(batch.map((w) => w?.order.status ?? null), ["PAID", "UNPAID", "UNPAID", "UNPAID", "UNPAID", null]);
  assert.equal(batch[2]?.order.checkAttempts, 1, "check_attempts + 1");

  // Again in one batch: a second copy of the anomaly (deduplicated: no event, row still marked), two
  // duplicates about one order, and a row processed already (not re-marked).
  const again = await pendingRow(batched[1]!.order);
  const dupA = await pendingRow(batched[4]!.order);
  const second = await store.writeDecisions(stack.prisma, [
    { ...kinds.anomaly!(batched[1]!.order, again, now), changes: {} },
    kinds.duplicate!(batched[4]!.order, dupA, now),
    kinds.duplicate!(batched[4]!.order, batched[4]!.row, now),
  ]);
  assert.deepEqual(second.map((w) => [w?.event ?? null, w?.notificationMarked]), [[null, true], [null, true], [null, false]]);
  assert.equal((await row(again)).outcome, "anomaly");
  assert.equal((await events(batched[1]!.order.id)).filter((e) => e.type === "anomaly.amount_mismatch").length, 1);
});

test("intake group commit: notifies recorded together each get their own row, order and classification; their jobs are enqueued", async () => {
  const { order: a } = await stack.unpaidOrder(4500);
  const { order: b } = await stack.unpaidOrder(4500);
  const receivedAt = new Date("2026-06-01T08:00:00.000Z");
  const notify = (outTradeNo: string, totalFen: number | null, notifyId: string): store.NotifyToRecord => ({
    rawBody: `out_trade_no=${outTradeNo}&notify_id=${notifyId}`, verified: true, notifyId, outTradeNo, tradeNo: null, tradeStatus: "TRADE_SUCCESS", totalFen, refundFen: null, receivedAt,
  });
  const classification = (totalFen: number | null): store.NotifyClassification => ({
    noOrder: { outcome: "ignored", reason: "not one of our orders", processedAt: receivedAt },
    withOrder: { outcome: "pending", processedAt: null, reason: "ok", totalFen, amountMismatchFormat: "total_amount differs: the order's is %s fen" },
  });
  // Its own prefix: the stack's worker must not take these jobs.
  const queues = createQueues({ redisUrl: stack.config.redisUrl, redisPrefix: `${stack.config.redisPrefix}-intake-batch` });
  try {
    const batching = createIntakeBatching(stack.prisma, queues);
    const inputs: [store.NotifyToRecord, store.NotifyClassification][] = [
      [notify(a.outTradeNo, 4500, "n-a"), classification(4500)],
      [notify("no-such-order", 4500, "n-x"), classification(4500)],
      [notify(b.outTradeNo, 1, "n-b"), classification(1)],
      [notify(a.outTradeNo, 4500, "n-a"), classification(4500)], // Alipay's retry of the first, in the same batch
    ];
    const recorded = await Promise.all(inputs.map(([n, c]) => batching.recordNotify(n, c)));
    assert.equal(new Set(recorded.map((r) => r.id)).size, 4, "one row per notify, duplicates included");
    assert.deepEqual(recorded.map((r) => [r.orderId, r.outcome, r.reason]), [
      [a.id, "pending", "ok"],
      [null, "ignored", "not one of our orders"],
      [b.id, "pending", "total_amount differs: the order's is 4500 fen"],
      [a.id, "pending", "ok"],
    ]);
    const rows = await Promise.all(recorded.map((r) => row(r.id)));
    assert.deepEqual(rows.map((r) => [r.notifyId, r.outTradeNo, r.orderId, r.outcome, r.processedAt?.getTime() ?? null]), [
      ["n-a", a.outTradeNo, a.id, "pending", null],
      ["n-x", "no-such-order", null, "ignored", receivedAt.getTime()],
      ["n-b", b.outTradeNo, b.id, "pending", null],
      ["n-a", a.outTradeNo, a.id, "pending", null],
    ]);

    const jobIds = await Promise.all([recorded[0]!, recorded[2]!].map((r) => batching.enqueueNotifyApply({ notificationId: r.id })));
    const jobs = await Promise.all(jobIds.map((id) => queues.notifyApply.getJob(id)));
    assert.deepEqual(jobs.map((j) => j?.data.notificationId), [recorded[0]!.id, recorded[2]!.id]);
  } finally {
    await queues.notifyApply.obliterate({ force: true }).catch(() => {});
    await queues.close();
  }
});

test("writeDecision without order changes: a guarded row lock; anomaly events are recorded once; a processed row is not re-marked", async () => {
  const { order } = await stack.unpaidOrder(4500);
  const a = await pendingRow(order);
  const b = await pendingRow(order);
  const anomaly = (notificationId: number): store.WritePlan => ({
    orderId: order.id,
    seen: { status: "UNPAID", refundedFen: 0, alipayRefundFeeFen: 0 },
    changes: { needsReview: true },
    event: { type: "anomaly.amount_mismatch", fromStatus: "UNPAID", toStatus: "UNPAID", source: "notify", actor: "", notificationId, payload: {}, dedupeKey: "k1" },
    notification: { id: notificationId, outcome: "anomaly" },
    now: new Date(),
  });
  const w1 = await store.writeDecision(stack.prisma, anomaly(a));
  assert.ok(w1?.event, "first copy records the anomaly");
  assert.equal(w1.order.needsReview, true);
  const w2 = await store.writeDecision(stack.prisma, { ...anomaly(b), changes: {} });
  assert.ok(w2, "the guard holds (status unchanged): the lock path returns the order");
  assert.equal(w2.event, null, "deduplicated by (order_id, dedupe_key)");
  assert.equal(w2.notificationMarked, true);
  assert.equal((await row(b)).outcome, "anomaly");
  // b is processed now: writing its outcome again is refused by the inbox table.
  const w3 = await store.writeDecision(stack.prisma, { ...anomaly(b), changes: {}, notification: { id: b, outcome: "duplicate" } });
  assert.equal(w3?.notificationMarked, false);
  assert.equal((await row(b)).outcome, "anomaly");
  assert.equal((await events(order.id)).filter((e) => e.type === "anomaly.amount_mismatch").length, 1);
});

test("inbox moves follow the table: failed only from pending, final outcomes never move; a re-drive writes its event", async () => {
  const { order } = await stack.unpaidOrder(4500);
  const id = await pendingRow(order);
  assert.equal(await store.moveNotification(stack.prisma, id, "failed", { lastError: "x".repeat(2000) }), true);
  const failed = await row(id);
  assert.equal(failed.outcome, "failed");
  assert.equal(failed.lastError?.length, 1000);
  assert.equal(await store.moveNotification(stack.prisma, id, "failed"), false, "failed → failed is not a move");

  const requeued = await store.requeueNotification(stack.prisma, { id, source: "staff", actor: "staff:ops@test", now: new Date() });
  assert.equal(requeued?.outcome, "pending");
  assert.equal(requeued?.lastError, null);
  const redriven = (await events(order.id)).find((e) => e.type === "notification_redriven");
  assert.deepEqual(redriven?.payload, { previousOutcome: "failed", lastError: "x".repeat(1000) });
  assert.equal(redriven?.actor, "staff:ops@test");

  assert.equal(await store.moveNotification(stack.prisma, id, "rejected", { reason: "r", processedAt: new Date() }), true);
  for (const to of ["pending", "failed", "applied", "duplicate"] as const) {
    assert.equal(await store.moveNotification(stack.prisma, id, to), false, `rejected → ${to}`);
  }
  assert.equal(await store.requeueNotification(stack.prisma, { id, source: "staff", actor: "a", now: new Date() }), null);
  assert.equal((await row(id)).outcome, "rejected");
});

test("every timestamp column is timestamptz", async () => {
  const { rows } = await sqlPoolOf(stack.prisma).query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = current_schema() AND data_type LIKE 'timestamp%' AND table_name <> '_prisma_migrations'`,
  );
  assert.ok(rows.length >= 14, `${rows.length} timestamp columns`);
  assert.deepEqual(rows.filter((r) => r.data_type !== "timestamp with time zone"), []);
});

test("applyEvidence gives up with ConcurrentChangeError after APPLY_MAX_ATTEMPTS failed compare-and-sets, writing nothing", async () => {
  const { order } = await stack.unpaidOrder(3300);
  const notificationId = await pendingRow(order);
  const pool = sqlPoolOf(stack.prisma);
  const tag = `cas_${randomBytes(4).toString("hex")}`;
  // A trigger that skips every UPDATE of this one order: to the guarded statement this is exactly
  // "another writer changed the row" (no row matched), on every attempt. It counts the attempts.
  await pool.query(`CREATE TABLE ${tag} (at timestamptz DEFAULT now())`);
  await pool.query(`CREATE FUNCTION ${tag}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO ${tag} DEFAULT VALUES; RETURN NULL; END $$`);
  await pool.query(`CREATE TRIGGER ${tag} BEFORE UPDATE ON "order" FOR EACH ROW WHEN (OLD.id = ${order.id}) EXECUTE FUNCTION ${tag}()`);
  try {
    const evidence: Evidence = { kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 3300, tradeNo: "2026060122001400000000000099" };
    await assert.rejects(
      applyEvidence(stack.worker!.deps, order.id, evidence, { source: "notify", notificationId }),
      (e: unknown) => e instanceof ConcurrentChangeError && e.orderId === order.id && e.attempts === APPLY_MAX_ATTEMPTS,
    );
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${tag}`);
    assert.equal(rows[0]!.n, APPLY_MAX_ATTEMPTS, "one guarded write per attempt, then it stops");
    assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "UNPAID");
    assert.equal((await row(notificationId)).outcome, "pending", "the inbox row stays reprocessable for the job's retry");
    assert.deepEqual((await events(order.id)).map((e) => e.type), ["created"]);
  } finally {
    await pool.query(`DROP TRIGGER ${tag} ON "order"`);
    await pool.query(`DROP FUNCTION ${tag}()`);
    await pool.query(`DROP TABLE ${tag}`);
  }
  // The job's retry, once the row holds still, applies it.
  const r = await applyEvidence(stack.worker!.deps, order.id, { kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 3300, tradeNo: "2026060122001400000000000099" }, { source: "notify", notificationId });
  assert.equal(r.order.status, "PAID");
  assert.equal((await row(notificationId)).outcome, "applied");
});

async function finished(queue: Queue, job: Job): Promise<Job> {
  return waitFor(`job ${job.id} failed`, async () => ((await job.getState()) === "failed" ? queue.getJob(job.id!) : null));
}

test("jobs that can never succeed fail at once (UnrecoverableError), not after every retry", async () => {
  const q = stack.worker!.queues;
  const check = await finished(q.paymentCheck, await q.paymentCheck.add("check-staff", { orderId: 2_000_000_000, source: "staff" }, { attempts: 5, backoff: { type: "fixed", delay: 10 } }));
  assert.equal(check.attemptsMade, 1);
  assert.match(check.failedReason, /OrderNotFoundError/);

  const apply = await finished(q.notifyApply, await q.notifyApply.add("apply", { notificationId: 2_000_000_000 }, { attempts: 8, backoff: { type: "fixed", delay: 10 } }));
  assert.equal(apply.attemptsMade, 1);
  assert.match(apply.failedReason, /NotificationNotFoundError/);

  const invalid = await finished(q.notifyApply, await q.notifyApply.add("apply", { notificationId: "not a number" }, { attempts: 8, backoff: { type: "fixed", delay: 10 } }));
  assert.equal(invalid.attemptsMade, 1);
  assert.match(invalid.failedReason, /ZodError/);
});
