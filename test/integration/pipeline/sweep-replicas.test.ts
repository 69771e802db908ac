// Three worker processes tick node-cron every second; each slot gets exactly one sweep.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { QueueEvents, type ConnectionOptions } from "bullmq";
import { QUEUE } from "../../../core/queues/index.ts";
import { bullConnection } from "../../../core/redis/index.ts";
import { CONDITION_CEILING_MS, spawnRole, startStack, waitFor, type RoleProcess, type Stack } from "../../support/index.ts";

let stack: Stack;
let workers: RoleProcess[] = [];
let events: QueueEvents | null = null;
before(async () => {
  stack = await startStack({ name: "replicas", worker: false, env: { RECONCILE_INTERVAL_SECONDS: "1", RECONCILE_FIRST_CHECK_SECONDS: "1" } });
});
after(async () => {
  await events?.close();
  await Promise.all(workers.map((w) => w.kill("SIGTERM")));
  await stack?.close();
});

test("three worker replicas: one sweep per tick; a due order is checked on its own backoff, not once per replica", async () => {
  events = new QueueEvents(QUEUE.reconcileSweep, { connection: bullConnection(stack.config.redisUrl) as ConnectionOptions, prefix: stack.config.redisPrefix });
  await events.waitUntilReady();
  const sweeps: { slot: number; worker: number; enqueued: number; at: number }[] = [];
  events.on("completed", ({ returnvalue }) => {
    sweeps.push({ ...(returnvalue as unknown as { slot: number; worker: number; enqueued: number }), at: Date.now() });
  });

  workers = [spawnRole("worker", stack.env), spawnRole("worker", stack.env), spawnRole("worker", stack.env)];
  await Promise.all(workers.map((w) => w.waitForOutput("worker consuming")));

  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(1000);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  await stack.control.openCashier(payUrl); // WAIT_BUYER_PAY: each check changes nothing but counts

  // Count only the window measured: the replicas already ticked while the order was being set up.
  const startedAt = Date.now();
  const slotsSince = () => new Set(sweeps.filter((s) => s.at >= startedAt).map((s) => s.slot));
  await waitFor("sweeps of four slots", () => slotsSince().size >= 4, { timeoutMs: CONDITION_CEILING_MS });
  const elapsedSlots = (Date.now() - startedAt) / 1000;
  assert.ok(slotsSince().size <= Math.ceil(elapsedSlots) + 2, `no more sweeps than ticks: ${slotsSince().size} in ${elapsedSlots.toFixed(1)} s`);
  const allSlots = new Map<number, number>();
  for (const s of sweeps) allSlots.set(s.slot, (allSlots.get(s.slot) ?? 0) + 1);
  assert.deepEqual([...allSlots.values()].filter((n) => n !== 1), [], `one sweep per slot: ${JSON.stringify([...allSlots])}`);
  assert.ok(new Set(sweeps.map((s) => s.worker)).size >= 1);

  // Due 1 s after creation, then 2 s, 4 s later (core/orders/schedule.ts): the order's own backoff
  // bounds the checks however many replicas sweep, counted from the time that actually passed.
  const o = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(o.status, "UNPAID");
  const sinceCreated = (Date.now() - o.createdAt.getTime()) / 1000;
  const maxChecks = Math.floor(Math.log2(Math.max(1, sinceCreated))) + 1; // due at 1, 3, 7, 15 … s
  assert.ok(o.checkAttempts >= 1 && o.checkAttempts <= maxChecks, `checks: ${o.checkAttempts} in ${sinceCreated.toFixed(1)} s (at most ${maxChecks})`);
  assert.ok(sweeps.reduce((n, s) => n + s.enqueued, 0) >= o.checkAttempts, "every check came from a sweep");
});
