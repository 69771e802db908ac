// Trust Alipay on "paid at Alipay, not here" while the payment's notify finally arrives, through the
// real path: the sandbox delivers a signed notify to the api (inbox row, queue) and the worker applies
// it, at the same moment as the staff action's payment check. The order is paid exactly once; the
// notify is applied or found a duplicate (whichever evidence came first), never lost; the difference
// is resolved.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { reconcileBillDay } from "../../../core/bills/index.ts";
import { trustAlipay } from "../../../core/bills/resolve.ts";
import { noMetrics } from "../../../core/metrics/port.ts";
import { alipayFromConfig, createOrderDeps } from "../../../core/orders/index.ts";
import { BillControl } from "../../../sandbox/bill/control-client.ts";
import { CONDITION_CEILING_MS, startStack, waitFor, type Stack } from "../../support/index.ts";
import { at, daysAgo } from "./support.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "bill-notify-race" });
});
after(async () => stack?.close());

test("trust Alipay racing the payment's real notify: paid once, the notify applied or duplicate, the difference resolved", async () => {
  const D = daysAgo(91);
  const buyer = await stack.newBuyer();
  const course = await stack.newCourse(4_400);
  const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
  // Every notify of the payment is lost, for now.
  await stack.control.addFaults({ outTradeNo: order.outTradeNo, faults: [{ kind: "dropNotify", times: 1000 }] });
  await stack.payAtSandbox(order.outTradeNo, payUrl);
  await stack.control.waitForNotifies(order.outTradeNo, (l) => l.some((n) => n.attempts.some((a) => a.faults.includes("dropped"))));
  const bills = new BillControl(stack.sandboxUrl);
  await bills.configure({ readyAfterMinutes: 0 });
  await bills.setCompletion(order.outTradeNo, { paidAt: at(D, "14:00:00") });
  const r = await reconcileBillDay({ prisma: stack.prisma, alipay: alipayFromConfig(stack.config), settings: { ...stack.config.bills, pendingDays: 0 }, metrics: noMetrics },
    { billDate: D, trigger: "test" });
  assert.equal(r.kind, "differences", JSON.stringify(r));
  const diff = await stack.prisma.billDifference.findFirstOrThrow({ where: { outTradeNo: order.outTradeNo } });
  assert.equal(diff.kind, "paid_not_here");
  assert.equal((await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status, "UNPAID");

  // Alipay delivers the notify again (now getting through) at the moment staff trusts Alipay.
  await stack.control.clearFaults(order.outTradeNo);
  const deps = createOrderDeps({ prisma: stack.prisma, config: stack.config, metrics: noMetrics });
  const [trust] = await Promise.all([
    trustAlipay(deps, { differenceId: diff.id, actor: "ops@example.com" }),
    stack.control.renotify(order.outTradeNo, { fresh: true }),
  ]);
  assert.equal(trust.resolved, true, trust.reason);

  // The notify is processed by the worker: applied if it came first, a duplicate of the staff check otherwise.
  const inbox = await waitFor("the notify to be processed", async () => {
    const rows = await stack.prisma.paymentNotification.findMany({ where: { outTradeNo: order.outTradeNo, kind: "notify", verified: true } });
    return rows.length > 0 && rows.every((n) => n.outcome === "applied" || n.outcome === "duplicate") ? rows : null;
  }, { timeoutMs: CONDITION_CEILING_MS });
  assert.ok(inbox.length >= 1);
  const paid = await stack.prisma.order.findUniqueOrThrow({ where: { id: order.id }, include: { events: true } });
  assert.equal(paid.status, "PAID");
  assert.equal(paid.events.filter((e) => e.type === "paid").length, 1, "paid exactly once");
  assert.equal(inbox.filter((n) => n.outcome === "applied").length + (paid.events.some((e) => e.type === "paid" && e.source === "staff") ? 1 : 0), 1,
    "exactly one of the two pieces of evidence paid the order");
  const resolved = await stack.prisma.billDifference.findUniqueOrThrow({ where: { id: diff.id } });
  assert.equal(resolved.state, "resolved");
  assert.equal(resolved.resolvedBy, "ops@example.com");
});
