// The dashboard's figures: today's payments (China Standard Time), pending and flagged orders, recent
// anomalies, reconciliation results, queue health (operators get the board link), the 14-day series.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DashboardData } from "../../../admin/dashboard/data.ts";
import { Worker, type ConnectionOptions } from "bullmq";
import { CHART_DAYS } from "../../../admin/dashboard/data.ts";
import { startOfDay } from "../../../admin/display-time.ts";
import { QUEUE, createQueues } from "../../../core/queues/index.ts";
import { bullConnection } from "../../../core/redis/index.ts";
import { AdminClient, createStaff, seedOrders, startAdmin, type AdminUnderTest } from "./support.ts";

let admin: AdminUnderTest;
before(async () => {
  admin = await startAdmin({ name: "admin-dashboard" });
});
after(async () => {
  await admin?.close();
});

describe("dashboard", () => {
  test("the chart's days are the display zone's (Asia/Shanghai by default), labelled to today", async () => {
    const viewer = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "viewer"));
    const before = (await viewer.json<DashboardData>("/admin/api/dashboard")).body;
    assert.equal(before.timeZone, "Asia/Shanghai");
    const midnight = startOfDay(new Date(), "Asia/Shanghai");
    await seedOrders(admin.prisma, [
      { createdAt: new Date(midnight.getTime() + 60_000) },
      { createdAt: new Date(midnight.getTime() + 90_000) },
      { createdAt: new Date(midnight.getTime() - 60_000) },
    ]);
    const after = (await viewer.json<DashboardData>("/admin/api/dashboard")).body;
    const delta = after.series.map((d, i) => d.orders - before.series[i].orders);
    assert.deepEqual(delta.slice(-2), [1, 2], "one order late yesterday, two early today (Beijing time)");
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
    assert.equal(after.series.at(-1)!.day, today);
  });

  test("the last sweep shows what it did, not its slot or process id", async () => {
    const admin2 = admin;
    const queues = createQueues(admin2.config);
    const worker = new Worker(QUEUE.reconcileSweep, async () => ({ enqueued: 3, batches: 1, slot: 29_000_000, worker: 4242 }), {
      connection: bullConnection(admin2.config.redisUrl) as ConnectionOptions, prefix: admin2.config.redisPrefix,
    });
    try {
      const done = new Promise((resolve) => worker.on("completed", resolve));
      await queues.reconcileSweep.add("sweep", { slot: 29_000_000, intervalSeconds: 60 });
      await done;
      const viewer = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "viewer"));
      const d = (await viewer.json<DashboardData>("/admin/api/dashboard")).body;
      assert.deepEqual(d.sweep?.result, { enqueued: 3, batches: 1 });
      assert.equal(d.sweep?.failed, false);
    } finally {
      await worker.close();
      await queues.close();
    }
  });

  test("shows today's paid orders and revenue, pending and flagged orders, anomalies and reconciliation", async () => {
    const viewer = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "viewer"));
    const before = (await viewer.json<DashboardData>("/admin/api/dashboard")).body;

    const { orders } = await seedOrders(admin.prisma, [
      { status: "PAID", totalFen: 1230 },
      { status: "PAID", totalFen: 770 },
      { status: "UNPAID" },
    ]);
    await admin.prisma.order.update({ where: { id: orders[1].id }, data: { needsReview: true } });
    await admin.prisma.orderEvent.create({ data: { orderId: orders[1].id, type: "anomaly.amount_mismatch", source: "notify", payload: {} } });
    await admin.prisma.orderEvent.create({ data: { orderId: orders[0].id, type: "paid", source: "reconcile", fromStatus: "UNPAID", toStatus: "PAID", payload: {} } });

    const r = await viewer.json<DashboardData>("/admin/api/dashboard");
    assert.equal(r.status, 200);
    const d = r.body;
    assert.equal(d.today.paidOrders - before.today.paidOrders, 2);
    assert.equal(d.today.revenueFen - before.today.revenueFen, 2000);
    assert.equal(d.unpaid - before.unpaid, 1);
    assert.equal(d.needsReview - before.needsReview, 1);
    assert.equal(d.anomalies[0].outTradeNo, orders[1].outTradeNo);
    assert.equal(d.anomalies[0].type, "anomaly.amount_mismatch");
    assert.equal(d.reconciled.paid - (before.reconciled.paid ?? 0), 1);
    assert.equal(d.series.length, CHART_DAYS);
    assert.ok(d.series.at(-1)!.orders >= 3);
    assert.deepEqual(d.queues?.map((q) => q.name).sort(), ["notify-apply", "payment-check", "reconcile-sweep", "refund"]);
    assert.equal(d.queuesHref, null, "viewers get no link to the queue board");
  });

  test("operators get the queue board link", async () => {
    const operator = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "operator"));
    assert.equal((await operator.json<DashboardData>("/admin/api/dashboard")).body.queuesHref, "/admin/queues");
  });
});
