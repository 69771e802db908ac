// SIGTERM during a request: the role stops accepting connections at once, finishes the request it
// is serving (a notify whose body is still trickling in; a staff login), closes its PostgreSQL and
// Redis connections and exits 0 — well within its 15 s bound, with nothing failing to close.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";
import { slowRequest, startRole, type RunningRole } from "./roles.ts";

let stack: Stack;
const started: RunningRole[] = [];
before(async () => {
  stack = await startStack({ name: "graceful-shutdown", worker: false });
});
after(async () => {
  await Promise.all(started.map((r) => r.stop("SIGKILL")));
  await stack?.close();
});

async function start(role: "api" | "worker" | "admin") {
  const r = await startRole(role, stack.env);
  started.push(r);
  return r;
}

/** Resolves true once nothing accepts connections at `url` any more. */
const refusesConnections = (url: string) =>
  waitFor(`${url} to refuse new connections`, () => fetch(`${url}/healthz`).then(() => false, () => true), { timeoutMs: 5000 });

function assertCleanExit(role: RunningRole, code: number | null, ms: number) {
  // Within its bound is the role's own check: past it the role logs "shutdown exceeded" and exits
  // non-zero. A wall-clock limit here would only measure how loaded the machine is.
  assert.equal(code, 0, `${role.role} exit code after ${ms} ms:\n${role.output().slice(-3000)}`);
  assert.doesNotMatch(role.output(), /error while closing|shutdown exceeded/, `${role.role} closed everything (${ms} ms)`);
  assert.match(role.output(), /shutting down/);
}

test("api: a notify in flight at SIGTERM is answered `success` and queued; new connections are refused; exit 0", async () => {
  const api = await start("api");
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(5100);
  const { order } = await stack.placeOrder(buyer, [course.id]);
  const body = new URLSearchParams(
    buildSignedNotify({ outTradeNo: order.outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen: 5100 }, {}, { privateKey: stack.alipayPrivateKey }),
  ).toString();
  const inFlight = slowRequest(`${api.url}/alipay/notify`, { body, headers: { "content-type": "application/x-www-form-urlencoded" }, chunks: 10, intervalMs: 200 });
  await inFlight.sentHeaders;

  const t0 = Date.now();
  const exited = api.stop("SIGTERM");
  await refusesConnections(api.url);
  const reply = await inFlight.response;
  assert.deepEqual(reply, { status: 200, body: "success" }, "the request that was in flight completed");
  assertCleanExit(api, await exited, Date.now() - t0);

  const rows = await stack.prisma.paymentNotification.findMany({ where: { outTradeNo: order.outTradeNo, kind: "notify" } });
  assert.equal(rows.length, 1, "the acknowledged notify is in the inbox");
  assert.equal(rows[0]!.outcome, "pending");
  const jobs = await stack.api.queues.notifyApply.getJobs(["waiting", "prioritized"]);
  assert.ok(jobs.some((j) => j.data.notificationId === rows[0]!.id), "and its apply job is in Redis for a worker");
});

test("admin: a login in flight at SIGTERM completes; exit 0", async () => {
  const admin = await start("admin");
  const inFlight = slowRequest(`${admin.url}/admin/login`, {
    body: "email=nobody%40staff.example&password=not-the-password",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    chunks: 8,
    intervalMs: 200,
  });
  await inFlight.sentHeaders;
  const t0 = Date.now();
  const exited = admin.stop("SIGTERM");
  await refusesConnections(admin.url);
  const reply = await inFlight.response;
  assert.equal(reply.status, 401, "the login was handled to the end");
  assertCleanExit(admin, await exited, Date.now() - t0);
});

test("worker: SIGTERM when idle closes its consumers and connections promptly; exit 0", async () => {
  const worker = await start("worker");
  const t0 = Date.now();
  assertCleanExit(worker, await worker.stop("SIGTERM"), Date.now() - t0);
});
