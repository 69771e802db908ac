// One payment can be followed through the logs by one id: the api takes the caller's X-Request-Id
// (or makes one), logs the notify under it, puts it in the job, and the worker's log lines of that
// job carry it too. The api and worker run as separate processes and their real output is searched.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";
import { startRoles, type RunningRole } from "./roles.ts";

let stack: Stack;
let api: RunningRole;
let worker: RunningRole;

before(async () => {
  stack = await startStack({ name: "request-id", worker: false });
  [api, worker] = (await startRoles([["api", stack.env, { logLevel: "debug" }], ["worker", stack.env, { logLevel: "debug" }]])) as [RunningRole, RunningRole];
});
after(async () => {
  await Promise.all([api?.stop("SIGKILL"), worker?.stop("SIGKILL")]);
  await stack?.close();
});

async function sendNotify(outTradeNo: string, totalFen: number, headers: Record<string, string> = {}) {
  const params = buildSignedNotify({ outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen }, {}, { privateKey: stack.alipayPrivateKey });
  const res = await fetch(`${api.url}/alipay/notify`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(params).toString(),
  });
  assert.equal(await res.text(), "success");
  return res.headers.get("x-request-id")!;
}

const linesWith = (role: RunningRole, requestId: string) => role.logLines().filter((l) => l.requestId === requestId);

async function assertFollowed(requestId: string, outTradeNo: string) {
  const apiLines = await waitFor(`api log lines of ${requestId}`, () => {
    const lines = linesWith(api, requestId);
    return lines.some((l) => l.msg === "notify recorded") ? lines : null;
  });
  const workerLines = await waitFor(`worker log lines of ${requestId}`, () => {
    const lines = linesWith(worker, requestId);
    return lines.some((l) => l.msg === "order status changed") ? lines : null;
  });
  assert.ok(apiLines.every((l) => l.role === "api"));
  assert.ok(workerLines.every((l) => l.role === "worker"));
  assert.equal(apiLines.find((l) => l.msg === "notify recorded")!.outTradeNo, outTradeNo);
  const changed = workerLines.find((l) => l.msg === "order status changed")!;
  assert.equal(changed.outTradeNo, outTradeNo);
  assert.equal(changed.to, "PAID");
  assert.ok(changed.jobId, "the worker's lines also name the job");
}

test("a caller's X-Request-Id follows the notify from the api's log lines into the worker's", async () => {
  const { order } = await stack.unpaidOrder(3100);
  const requestId = `trace-${randomBytes(8).toString("hex")}`;
  assert.equal(await sendNotify(order.outTradeNo, 3100, { "x-request-id": requestId }), requestId, "echoed in the response");
  await stack.waitForStatus(order.id, "PAID");
  await assertFollowed(requestId, order.outTradeNo);
});

test("without one, the api makes an id, answers it, and the worker's lines carry the same", async () => {
  const { order } = await stack.unpaidOrder(3200);
  const requestId = await sendNotify(order.outTradeNo, 3200, { "x-request-id": "bad id; with spaces" });
  assert.match(requestId, /^[0-9a-f-]{36}$/, "an unusable incoming id is replaced by a fresh one");
  await stack.waitForStatus(order.id, "PAID");
  await assertFollowed(requestId, order.outTradeNo);
});

test("every log line written while handling a request carries its id", async () => {
  const requestId = `trace-${randomBytes(8).toString("hex")}`;
  // A forged notify: the api logs its rejection and enqueues a payment check of the named order.
  const { order } = await stack.unpaidOrder(3300);
  const res = await fetch(`${api.url}/alipay/notify`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-request-id": requestId },
    body: `out_trade_no=${order.outTradeNo}&total_amount=33.00&trade_status=TRADE_SUCCESS&sign=AAAA&sign_type=RSA2`,
  });
  assert.equal(res.status, 400);
  await waitFor("the check prompted by the forged notify, under the same id", async () =>
    (await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).checkAttempts === 1);
  const rejected = await waitFor("the api's rejection line", () => linesWith(api, requestId).find((l) => l.msg === "notify rejected: not verified"));
  assert.equal(rejected.verified, false);
  // The check ran in the worker under the forged notify's id: one id from the attempt to its consequence.
  const jobs = await stack.api.queues.paymentCheck.getJobs(["completed"]);
  assert.ok(jobs.some((j) => j.data.orderId === order.id && j.data.requestId === requestId), "the check job carries the request id");
});
