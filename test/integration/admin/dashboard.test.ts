// The dashboard's figures: today's payments (China Standard Time), pending and flagged orders, recent
// anomalies, reconciliation results, queue health (operators get the board link), the 14-day series.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DashboardData } from "../../../admin/dashboard/data.ts";
import { CHART_DAYS, startOfShopDay } from "../../../admin/dashboard/data.ts";
import { AdminClient, createStaff, seedOrders, startAdmin, type AdminUnderTest } from "./support.ts";

let admin: AdminUnderTest;
before(async () => {
  admin = await startAdmin({ name: "admin-dashboard" });
});
after(async () => {
  await admin?.close();
});

describe("dashboard", () => {
  test("the shop's day starts at midnight in China Standard Time", () => {
    assert.equal(startOfShopDay(new Date("2026-03-01T15:59:59Z")).toISOString(), "2026-02-28T16:00:00.000Z");
    assert.equal(startOfShopDay(new Date("2026-03-01T16:00:00Z")).toISOString(), "2026-03-01T16:00:00.000Z");
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
    assert.deepEqual(d.queues?.map((q) => q.name).sort(), ["notify-apply", "payment-check", "reconcile-sweep"]);
    assert.equal(d.queuesHref, null, "viewers get no link to the queue board");
  });

  test("operators get the queue board link", async () => {
    const operator = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "operator"));
    assert.equal((await operator.json<DashboardData>("/admin/api/dashboard")).body.queuesHref, "/admin/queues");
  });
});
