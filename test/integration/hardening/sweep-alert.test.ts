// "Failing now", not history (issue 10 point 6): a worker whose PostgreSQL goes away for a moment
// fails its reconciliation sweeps; once PostgreSQL is back and a sweep succeeds, the metric the
// documented alert uses (coursepay_reconcile_sweep_consecutive_failures) is healthy again at once,
// while BullMQ still keeps the failed sweep jobs as history (what the old alert fired on).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type Server, type Socket } from "node:net";
import { startStack, waitFor, type Stack } from "../../support/index.ts";
import { scrapeMetrics, startRole, type RunningRole } from "./roles.ts";

/** A TCP relay to PostgreSQL that the test can cut (every connection reset, new ones refused) and restore. */
async function cuttableRelay(target: URL): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  let open = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!open) return client.destroy();
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let stack: Stack;
let relay: Awaited<ReturnType<typeof cuttableRelay>>;
let worker: RunningRole;

before(async () => {
  // Sweeps are enqueued by the test (the hourly tick stays out of the way); no bill schedule.
  stack = await startStack({ name: "sweep-alert", worker: false, env: { RECONCILE_INTERVAL_SECONDS: "3600", BILL_SCHEDULE: "off" } });
  relay = await cuttableRelay(new URL(stack.env.DATABASE_URL!));
  worker = await startRole("worker", { ...stack.env, DATABASE_URL: relay.url });
});
after(async () => {
  await worker?.stop("SIGKILL");
  await relay?.close();
  await stack?.close();
});

// A ceiling, not a schedule: a sweep on a loaded machine, through a reconnecting pool, can take a while.
const PATIENCE = { timeoutMs: 120_000, intervalMs: 200 };
let slot = 1_000;
const sweep = () => stack.api.queues.enqueueSweep({ slot: slot++, intervalSeconds: 3600 });
const health = async () => {
  const m = await scrapeMetrics(worker.url);
  const has = (name: string) => m.samples.some((s) => s.name === name);
  return {
    failures: has("coursepay_reconcile_sweep_consecutive_failures") ? m.sum("coursepay_reconcile_sweep_consecutive_failures") : null,
    lastSuccess: has("coursepay_reconcile_sweep_last_success_timestamp_seconds") ? m.sum("coursepay_reconcile_sweep_last_success_timestamp_seconds") : null,
    failedJobs: m.sum("coursepay_queue_jobs", { queue: "reconcile-sweep", state: "failed" }),
  };
};

test("after a short PostgreSQL outage and one good sweep, the sweep alert's metric is healthy again while the failed jobs stay as history", async () => {
  await sweep();
  const healthy = await waitFor("a first successful sweep", async () => {
    const h = await health();
    return h.failures === 0 && h.lastSuccess ? h : null;
  }, PATIENCE);

  relay.cut();
  const outageStart = Date.now() / 1000;
  for (let i = 0; i < 3; i++) await sweep();
  const failing = await waitFor("three sweeps failing in a row", async () => {
    const h = await health();
    return (h.failures ?? 0) >= 3 ? h : null;
  }, PATIENCE).catch((e: Error) => {
    throw new Error(`${e.message}\nworker output:\n${worker.output().slice(-4000)}`);
  });
  assert.equal(failing.lastSuccess, healthy.lastSuccess, "no success during the outage");
  assert.ok(failing.lastSuccess! <= outageStart);

  relay.restore();
  await sweep();
  const recovered = await waitFor("a successful sweep after the outage", async () => {
    const h = await health();
    return h.failures === 0 && (h.lastSuccess ?? 0) > outageStart ? h : null;
  }, PATIENCE);
  // The history the old alert fired on is still there; the new metric says all is well.
  assert.ok(recovered.failedJobs >= 3, `the outage's failed sweep jobs are kept (BullMQ removeOnFail): ${recovered.failedJobs}`);
  const failed = await stack.api.queues.reconcileSweep.getJobCounts("failed");
  assert.ok(failed.failed! >= 3);
});
