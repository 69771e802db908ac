// A worker process is SIGKILLed while applying a notify: the job is not lost (BullMQ hands a stalled
// job to another worker once the dead one's lock expires), and the order is PAID exactly once.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { QUEUE } from "../../../core/queues/index.ts";
import { spawnRole, startStack, waitFor, type RoleProcess, type Stack } from "../../support/index.ts";

let stack: Stack;
let child: RoleProcess | null = null;
before(async () => {
  // Short job locks so the dead worker's job is taken over within seconds (default 30 s).
  stack = await startStack({ name: "worker-crash", worker: false, env: { WORKER_LOCK_MS: "2000" } });
});
after(async () => {
  await child?.kill("SIGKILL");
  await stack?.close();
});

test("worker SIGKILLed mid-job: the order ends PAID exactly once", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(6600);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  await stack.control.openCashier(payUrl);

  child = spawnRole("worker", stack.env);
  await child.waitForOutput("worker consuming");

  // Hold the order's row lock: the child's apply transaction will block inside the job.
  const blocker = new pg.Client({ connectionString: stack.config.databaseUrl });
  await blocker.connect();
  try {
    await blocker.query("BEGIN");
    // NO KEY UPDATE, like the applier: the api's inbox insert (a foreign key to the order) still goes through.
    await blocker.query(`SELECT id FROM "order" WHERE id = $1 FOR NO KEY UPDATE`, [order.id]);
    await stack.control.pay(order.outTradeNo);
    const queue = stack.api.queues.notifyApply;
    await waitFor("the child to take the apply job", async () => (await queue.getActiveCount()) === 1);
    // (Asked outside the blocker's transaction: statistics views are snapshotted per transaction.)
    await waitFor("the child's transaction to wait on the lock", async () =>
      (await stack.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)[0]!.n > 0,
    );
    assert.equal(await child.kill("SIGKILL"), null, "killed by signal, no graceful exit");
    child = null;
  } finally {
    await blocker.query("ROLLBACK");
    await blocker.end();
  }
  // The dead worker's write was one atomic statement already sent: PostgreSQL either completes it
  // (it was waiting only for the row) or never saw it. Either way the job is still "active" in
  // Redis, owned by a dead process.
  assert.equal(await stack.api.queues.notifyApply.getActiveCount(), 1);

  // A surviving worker notices the stalled job (lock expired) and runs it again: it applies the
  // notify, or finds the inbox row already applied and changes nothing.
  const survivor = await stack.startWorker();
  await stack.waitForStatus(order.id, "PAID");
  await waitFor(`the stalled apply job completed (queue ${QUEUE.notifyApply})`, async () => (await stack.api.queues.notifyApply.getCompletedCount()) === 1);
  assert.equal(await stack.api.queues.notifyApply.getActiveCount(), 0);
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, toStatus: "PAID" } }), 1);
  const rows = await stack.prisma.paymentNotification.findMany({ where: { orderId: order.id, kind: "notify" } });
  assert.equal(rows.filter((r) => r.outcome === "applied").length, 1);
  await survivor.close();
});

test("worker SIGTERMed mid-job: it finishes the in-flight job, then exits cleanly", async () => {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(6700);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  await stack.control.openCashier(payUrl);
  const graceful = spawnRole("worker", stack.env);
  child = graceful;
  await graceful.waitForOutput("worker consuming");

  const blocker = new pg.Client({ connectionString: stack.config.databaseUrl });
  await blocker.connect();
  let exit: Promise<number | null>;
  try {
    await blocker.query("BEGIN");
    await blocker.query(`SELECT id FROM "order" WHERE id = $1 FOR NO KEY UPDATE`, [order.id]);
    await stack.control.pay(order.outTradeNo);
    await waitFor("the job to be blocked inside the worker", async () =>
      (await stack.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)[0]!.n > 0,
    );
    exit = graceful.kill("SIGTERM");
    await graceful.waitForOutput("shutting down");
  } finally {
    await blocker.query("ROLLBACK");
    await blocker.end();
  }
  assert.equal(await exit!, 0, `clean exit:\n${graceful.output().slice(-2000)}`);
  child = null;
  const o = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
  assert.equal(o.status, "PAID", "the in-flight job completed before the process exited");
});
