// The worker is SIGKILLed between the refund call and the write of its answer: the refund was made at
// Alipay (the gateway holds the answer), the worker dies. After a restart exactly one refund exists
// and the order is refunded once (the retried job replays the same out_request_no; the sweep's
// refund query settles it).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { requestRefund, createRefundDeps } from "../../../core/refunds/index.ts";
import { spawnRole, startStack, waitFor, type RoleProcess, type Stack } from "../../support/index.ts";
import { gatewayRefunds, paidOrder, waitForRefund } from "./helpers.ts";
import { noMetrics } from "../../../core/metrics/port.ts";

let stack: Stack;
let child: RoleProcess | null = null;
before(async () => {
  stack = await startStack({
    name: "refund-crash",
    worker: false,
    env: { WORKER_LOCK_MS: "2000", RECONCILE_INTERVAL_SECONDS: "1", REFUND_QUERY_DELAY_SECONDS: "1", ALIPAY_TIMEOUT_MS: "60000" },
  });
});
after(async () => {
  await child?.kill("SIGKILL");
  await stack?.close();
});

test("worker SIGKILLed between alipay.trade.refund and the write: exactly one refund after restart", async () => {
  // Paid with a temporary in-process worker, then stopped: only the child may take the refund job.
  const payer = await stack.startWorker();
  const order = await paidOrder(stack, 7700);
  await payer.close();

  // The gateway applies the refund and never answers; its refund notifies are lost.
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [
    { kind: "hang", methods: ["alipay.trade.refund"], commit: true, times: 1 },
    { kind: "dropNotify", times: 100 },
  ] });
  child = spawnRole("worker", stack.env);
  await child.waitForOutput("worker consuming");
  const deps = createRefundDeps({ prisma: stack.prisma, alipay: { appId: stack.config.alipay.appId, sellerId: stack.config.alipay.sellerId } as never, config: stack.config, queues: stack.api.queues, metrics: noMetrics });
  const r = await requestRefund(deps, { orderId: order.id, amountFen: 2200, reason: "crash test", source: "staff", actor: "ops@example.com" });
  await waitFor("the refund to be made at the gateway", async () => (await gatewayRefunds(stack, order.outTradeNo)).length === 1);
  assert.equal((await stack.prisma.refund.findUniqueOrThrow({ where: { id: r.id } })).state, "SUBMITTED", "marked before the call");
  assert.equal(await child.kill("SIGKILL"), null, "killed by signal");
  child = null;

  const survivor = await stack.startWorker({ ticks: true });
  const done = await waitForRefund(stack, r.id, "SUCCEEDED", 30_000);
  assert.ok(done.settledBy === "query" || done.settledBy === "call", `settled by ${done.settledBy}`);
  const o = await stack.waitForStatus(order.id, "PARTIALLY_REFUNDED");
  assert.equal(o.refundedFen, 2200);
  assert.equal((await gatewayRefunds(stack, order.outTradeNo)).length, 1, "exactly one refund at the gateway");
  assert.equal(await stack.prisma.orderEvent.count({ where: { orderId: order.id, type: "partially_refunded" } }), 1);
  await survivor.close();
});
