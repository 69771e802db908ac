// /metrics on each role after a small flow: the api, worker and admin run as their own processes
// (each with its own prom-client registry, as in production), the flow goes through them, and each
// role's scrape must show the series its code paths are supposed to feed — with non-zero values.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { buildSignedNotify } from "../../../sandbox/app.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";
import { scrapeMetrics, startRoles, type Metrics, type RunningRole } from "./roles.ts";

let stack: Stack;
const roles: RunningRole[] = [];
let api: RunningRole;
let worker: RunningRole;
let admin: RunningRole;

before(async () => {
  // Sweeps every second, and new orders due for their first check after a second: the worker's
  // reconciliation series fill within the test.
  stack = await startStack({ name: "metrics", worker: false, env: { RECONCILE_INTERVAL_SECONDS: "1", RECONCILE_FIRST_CHECK_SECONDS: "1" } });
  [api, worker, admin] = (await startRoles([
    ["api", stack.env, { publicApi: true }],
    ["worker", stack.env],
    ["admin", stack.env],
  ])) as [RunningRole, RunningRole, RunningRole];
  roles.push(api, worker, admin);
});
after(async () => {
  await Promise.all(roles.map((r) => r.stop("SIGKILL")));
  await stack?.close();
});

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${api.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const notify = (params: Record<string, string>) =>
  fetch(`${api.url}/alipay/notify`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(params).toString() });

test("after a flow, each role's /metrics shows its series with non-zero values", async () => {
  // A buyer pays one order through the sandbox (notify → worker → PAID) and comes back by the return.
  const email = `metrics-${Date.now()}@test.local`;
  const reg = await post("/auth/register", { email, password: "metrics password" });
  assert.equal(reg.status, 201);
  const token = reg.body.token as string;
  const course = await stack.newCourse(1200);
  const paid = await post("/orders", { courseIds: [course.id] }, token);
  assert.equal(paid.status, 201);
  await stack.control.openCashier(paid.body.payUrl);
  const { returnUrl } = await stack.control.pay(paid.body.order.outTradeNo);
  await stack.waitForStatus(paid.body.order.id, "PAID");
  assert.ok(returnUrl, "the sandbox gives the buyer a return URL");
  assert.equal((await fetch(returnUrl)).status, 200);

  // A second order: a forged notify (rejected), a correctly signed one with the wrong amount (anomaly);
  // it stays unpaid, so the sweep picks it up for a payment check.
  const open = await post("/orders", { courseIds: [course.id] }, token);
  const outTradeNo = open.body.order.outTradeNo as string;
  const trade = { outTradeNo, appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId, totalFen: 1200 };
  assert.equal((await notify(buildSignedNotify(trade, {}, { privateKey: generateRsaKeyPair().privateKeyPem }))).status, 400);
  assert.equal((await notify(buildSignedNotify({ ...trade, totalFen: 1 }, {}, { privateKey: stack.alipayPrivateKey }))).status, 200);
  assert.equal((await fetch(`${api.url}/alipay/return?out_trade_no=${outTradeNo}&sign=bogus`)).status, 400);
  await waitFor("the anomaly to be recorded", () => stack.prisma.order.findFirst({ where: { outTradeNo, needsReview: true } }));

  // Staff traffic on the admin.
  assert.equal((await fetch(`${admin.url}/admin/login`)).status, 200);

  let w: Metrics | null = null;
  await waitFor("a sweep and the payment checks it enqueued", async () => {
    w = await scrapeMetrics(worker.url);
    return w.sum("coursepay_reconcile_sweeps_total", { result: "ok" }) > 0 && w.sum("coursepay_payment_checks_total", { source: "reconcile" }) > 0;
  });
  const a = await scrapeMetrics(api.url);
  const ad = await scrapeMetrics(admin.url);
  const wk = w!;

  // api: callback intake and HTTP latency.
  assert.ok(a.sum("coursepay_callbacks_received_total", { kind: "notify" }) >= 3);
  assert.ok(a.sum("coursepay_callbacks_verified_total", { kind: "notify" }) >= 2);
  assert.ok(a.sum("coursepay_callbacks_rejected_total", { kind: "notify", reason: "wrong_key_or_tampered" }) >= 1);
  assert.ok(a.sum("coursepay_callbacks_received_total", { kind: "return" }) >= 2);
  assert.ok(a.sum("coursepay_callbacks_verified_total", { kind: "return" }) >= 1);
  assert.ok(a.sum("coursepay_callbacks_rejected_total", { kind: "return" }) >= 1);
  assert.ok(a.sum("coursepay_notify_replies_total", { reply: "success" }) >= 2);
  assert.ok(a.sum("coursepay_notify_replies_total", { reply: "failure" }) >= 1);
  assert.ok(a.sum("coursepay_http_request_duration_seconds_count", { method: "POST", route: "/alipay/notify", status: "200" }) >= 2);
  assert.ok(a.sum("coursepay_http_request_duration_seconds_count", { method: "POST", route: "/orders", status: "201" }) >= 2);
  assert.ok(a.sum("coursepay_process_cpu_seconds_total") > 0, "default process metrics, prefixed");

  // worker: jobs, checks, transitions, anomalies, sweeps, queue depth.
  assert.ok(wk.sum("coursepay_job_duration_seconds_count", { queue: "notify-apply", result: "ok" }) >= 2);
  assert.ok(wk.sum("coursepay_job_latency_seconds_count", { queue: "notify-apply" }) >= 2);
  assert.ok(wk.sum("coursepay_job_duration_seconds_count", { queue: "payment-check" }) >= 1);
  assert.ok(wk.sum("coursepay_job_duration_seconds_count", { queue: "reconcile-sweep" }) >= 1);
  assert.equal(wk.sum("coursepay_order_transitions_total", { from: "UNPAID", to: "PAID", source: "notify" }), 1);
  assert.ok(wk.sum("coursepay_anomalies_total", { kind: "anomaly.amount_mismatch" }) >= 1);
  // Payment checks: the wait above saw the sweep's. The checks the forged callbacks prompt can be the
  // same job as the sweep's (at most one pending check per order, core/queues), so no more is certain.
  assert.ok(wk.sum("coursepay_reconcile_sweep_duration_seconds_count") >= 1);
  assert.ok(wk.sum("coursepay_reconcile_sweep_orders_total") >= 1);
  for (const queue of ["notify-apply", "payment-check", "reconcile-sweep"]) {
    assert.ok(wk.samples.some((s) => s.name === "coursepay_queue_jobs" && s.labels.queue === queue && s.labels.state === "failed"), `worker depth of ${queue}`);
    assert.ok(ad.samples.some((s) => s.name === "coursepay_queue_jobs" && s.labels.queue === queue && s.labels.state === "waiting"), `admin depth of ${queue}`);
  }

  // admin: HTTP latency by route pattern.
  assert.ok(ad.sum("coursepay_http_request_duration_seconds_count", { method: "GET", status: "200" }) >= 1);

  // The api does not pretend to run jobs, nor the worker to serve buyers.
  assert.equal(a.sum("coursepay_job_duration_seconds_count"), 0);
  assert.equal(wk.sum("coursepay_callbacks_received_total"), 0);

  for (const [role, m] of [["api", a], ["worker", wk], ["admin", ad]] as const) assertConventions(role, m);
});

/** Prometheus naming: snake_case with the app prefix, counters *_total, histograms in base units. */
function assertConventions(role: string, m: Metrics) {
  const ours = [...m.types].filter(([name]) => name.startsWith("coursepay_"));
  assert.ok(ours.length > 10, `${role}: coursepay_ metric families exposed`);
  assert.equal([...m.types.keys()].filter((n) => !n.startsWith("coursepay_")).length, 0, `${role}: every metric carries the prefix`);
  for (const [name, type] of ours) {
    assert.match(name, /^coursepay_[a-z][a-z0-9_]*$/, `${role}: ${name} is snake_case`);
    if (type === "counter") assert.match(name, /_total$/, `${role}: counter ${name} ends in _total`);
    // prom-client's own defaults (process_*, nodejs_*) keep their historical names, e.g. the gauge
    // nodejs_active_handles_total; ours must not.
    else if (!/^coursepay_(process|nodejs)_/.test(name)) assert.doesNotMatch(name, /_total$/, `${role}: ${type} ${name} must not end in _total`);
    if (type === "histogram") assert.match(name, /_(seconds|bytes)$/, `${role}: histogram ${name} is in base units`);
  }
  for (const s of m.samples) {
    for (const label of Object.keys(s.labels)) assert.match(label, /^[a-z][a-z0-9_]*$/, `${role}: label ${label} of ${s.name}`);
  }
}
