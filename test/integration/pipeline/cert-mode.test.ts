// coursepay's roles in certificate mode (公钥证书模式) against the sandbox's certificate mode: the api
// verifies notifies with the certificate their alipay_cert_sn names, the worker's queries are verified
// the same way, and Alipay rotating its certificate in the middle of a run loses no notify and no
// query: the first replica to meet the new SN downloads it (alipay.open.app.alipaycert.download),
// checks it chains to ALIPAY_ROOT_CERT_FILE and stores it in table alipay_cert; the other replicas take
// it from there. Metric coursepay_alipay_cert_rotations_total counts each replica's resolution.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { createAlipayClient } from "../../../core/alipay/client.ts";
import { createLogger } from "../../../core/logging/index.ts";
import { registry } from "../../../core/metrics/index.ts";
import { checkPayment } from "../../../core/orders/index.ts";
import type { RunningWorker } from "../../../worker/start.ts";
import { startStack, waitFor, type Stack } from "../../support/index.ts";

let stack: Stack;
let worker2: RunningWorker;

before(async () => {
  stack = await startStack({ name: "cert-mode", certMode: true, sandbox: { timeFactor: 0.001 } });
  // A second worker replica: its own Alipay client and certificate book, the same database.
  worker2 = await stack.startWorker();
});
after(async () => {
  await stack?.close();
});

async function rotations(): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric("coursepay_alipay_cert_rotations_total");
  const out: Record<string, number> = {};
  for (const v of (await metric!.get()).values) out[String(v.labels.outcome)] = v.value;
  return out;
}

async function openOrder(priceFen = 2600) {
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(priceFen);
  const placed = await stack.placeOrder(buyer, [course.id]);
  await stack.control.openCashier(placed.payUrl);
  return placed.order;
}

test("certificate mode end to end: requests carry the serial numbers, a payment notify is verified and applied, a query is verified", async () => {
  const certs = await stack.control.certs();
  assert.ok(stack.config.alipay.certs, "the roles run in certificate mode");
  assert.equal(stack.env.ALIPAY_PUBLIC_KEY, undefined);

  const paid = await openOrder();
  await stack.control.pay(paid.outTradeNo);
  await stack.waitForStatus(paid.id, "PAID");
  const inbox = await stack.prisma.paymentNotification.findMany({ where: { outTradeNo: paid.outTradeNo, kind: "notify" } });
  assert.ok(inbox.length >= 1);
  assert.ok(inbox.every((n) => n.verified), JSON.stringify(inbox.map((n) => n.reason)));
  const sent = await stack.control.notifies(paid.outTradeNo);
  assert.equal(sent[0]!.attempts.at(-1)!.sentParams?.alipay_cert_sn, certs.alipayCertSn, "the notify named the certificate");

  // Notifies lost: the worker's query (certificate-mode request, answer verified by its SN) pays it.
  const lost = await openOrder();
  await stack.control.addFaults({ outTradeNo: lost.outTradeNo, faults: [{ kind: "dropNotify", times: 1000 }] });
  await stack.control.pay(lost.outTradeNo);
  const r = await checkPayment(stack.worker!.deps, { orderId: lost.id, source: "staff", actor: "staff:cert@test" });
  assert.equal(r.outcome, "paid", r.reason);

  // A notify that carries alipay_cert_sn inside the signed text is accepted as well.
  const inside = await openOrder();
  await stack.control.addFaults({ outTradeNo: inside.outTradeNo, faults: [{ kind: "notifyCertSn", placement: "signed", times: 1 }] });
  await stack.control.pay(inside.outTradeNo);
  await stack.waitForStatus(inside.id, "PAID");
  assert.equal(await stack.prisma.alipayCert.count(), 0, "no rotation yet: nothing downloaded");
});

test("Alipay rotates its certificate mid-run: no notify and no query is lost, the new certificate is stored once and used by every replica", async () => {
  const before = await rotations();
  const certs = await stack.control.certs();

  // In flight across the rotation: notifies held back (delayNotify) are signed when they are sent,
  // i.e. by the new certificate; some trades lose every notify and only queries can settle them.
  const early = await Promise.all(Array.from({ length: 6 }, () => openOrder()));
  for (const [i, o] of early.entries()) {
    const faults = i % 2 === 0 ? [{ kind: "delayNotify" as const, ms: 300, times: 1 }] : [{ kind: "dropNotify" as const, times: 1000 }];
    await stack.control.addFaults({ outTradeNo: o.outTradeNo, faults });
  }
  await Promise.all(early.map((o) => stack.control.pay(o.outTradeNo)));
  const rotated = await stack.control.rotateAlipayCert();
  assert.equal(rotated.previousSn, certs.alipayCertSn);

  const late = await Promise.all(Array.from({ length: 6 }, () => openOrder()));
  for (const [i, o] of late.entries()) {
    if (i % 3 === 0) await stack.control.addFaults({ outTradeNo: o.outTradeNo, faults: [{ kind: "dropNotify", times: 1000 }] });
  }
  await Promise.all(late.map((o) => stack.control.pay(o.outTradeNo)));

  // Queries from both worker replicas, concurrently with the notifies arriving at the api.
  const all = [...early, ...late];
  const workers = [stack.worker!, worker2];
  await Promise.all(all.map((o, i) => checkPayment(workers[i % 2]!.deps, { orderId: o.id, source: "staff", actor: "staff:rotation@test" })));

  for (const o of all) await stack.waitForStatus(o.id, "PAID");
  // Every notify that reached the api after the rotation was verified (none refused for its signature).
  const refused = await stack.prisma.paymentNotification.findMany({ where: { outTradeNo: { in: all.map((o) => o.outTradeNo) }, verified: false } });
  assert.deepEqual(refused.map((n) => n.reason), []);

  // One row, the new certificate, whichever replica stored it first.
  const stored = await stack.prisma.alipayCert.findMany();
  assert.deepEqual(stored.map((c) => c.sn), [rotated.sn]);

  // Each replica (api, worker 1, worker 2) resolved the new SN once: by downloading it or, when another
  // replica had stored it already, from the database. Make sure each one met it.
  await checkPayment(stack.worker!.deps, { orderId: late[0]!.id, source: "staff", actor: "staff:rotation@test" });
  await checkPayment(worker2.deps, { orderId: late[1]!.id, source: "staff", actor: "staff:rotation@test" });
  const fresh = await openOrder();
  await stack.control.pay(fresh.outTradeNo);
  await stack.waitForStatus(fresh.id, "PAID");
  const afterCounts = await rotations();
  const delta = (k: string) => (afterCounts[k] ?? 0) - (before[k] ?? 0);
  assert.equal(delta("rejected") + delta("download_failed"), 0);
  assert.ok(delta("downloaded") >= 1, JSON.stringify(afterCounts));
  assert.equal(delta("downloaded") + delta("from_store"), 3, `api + 2 workers each resolve the SN once: ${JSON.stringify({ before, afterCounts })}`);
});

test("after a rotation, a notify that names no alipay_cert_sn cannot be verified with ALIPAY_CERT_FILE: refused, and the query it prompts pays the order", async () => {
  const order = await openOrder();
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "notifyCertSn", placement: "absent" }] });
  await stack.control.pay(order.outTradeNo);
  await stack.waitForStatus(order.id, "PAID");
  const inbox = await stack.prisma.paymentNotification.findMany({ where: { outTradeNo: order.outTradeNo, kind: "notify" } });
  assert.ok(inbox.length >= 1 && inbox.every((n) => !n.verified), JSON.stringify(inbox.map((n) => [n.verified, n.reason])));
  const events = await stack.prisma.orderEvent.findMany({ where: { orderId: order.id, toStatus: "PAID" } });
  assert.equal(events.length, 1);
  // A check prompted by the notify (source "notify") but applied from the verified query answer, not from an inbox row.
  assert.equal(events[0]!.notificationId, null, "paid by the query, not by an unverified notify");
  await stack.control.clearFaults(order.outTradeNo);
});

test("the rotation log line says what happened and what the operator should do", async () => {
  // A fresh client (as after a restart of a replica with no database): it downloads the current certificate.
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const certs = await stack.control.certs();
  const original = stack.config.alipay.certs!;
  const client = createAlipayClient({
    appId: stack.config.alipay.appId,
    appPrivateKey: stack.config.alipay.appPrivateKey,
    alipayPublicKey: original.alipayCert,
    certs: original,
    gatewayUrl: stack.config.alipay.gatewayUrl,
    timeoutMs: 5000,
    logger: createLogger("rotation-log", "info", sink),
  });
  const r = await client.queryTrade("never_created_rotation_log");
  assert.equal(r.kind, "business_error");
  const line = await waitFor("the rotation log line", async () => lines.find((l) => l.includes("Alipay certificate rotation")) ?? null);
  const parsed = JSON.parse(line) as { level: number; msg: string; alipayCertSn: string; previousSn: string };
  assert.equal(parsed.alipayCertSn, certs.alipayCertSn);
  assert.match(parsed.msg, new RegExp(`Alipay now signs with certificate ${certs.alipayCertSn} \\(valid until \\d{4}-\\d{2}-\\d{2}\\); downloaded, checked against the root, stored for all replicas\\. Replace ALIPAY_CERT_FILE`));
  assert.equal(parsed.level, 40, "a warning: the configured file is out of date");
});
