// The back office's reconciliation tools through its HTTP API: "reconcile a date" (operators only,
// Alipay's date rules, queued for the worker with the staff member's name), the CSV of bill
// differences with the list's filters (bad input → 400 before any byte), and the dashboard's
// 昨日对账 figures.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Queue, type ConnectionOptions } from "bullmq";
import { addDays, beijingDay } from "../../../core/bills/format.ts";
import { BILL_QUEUE } from "../../../core/bills/queue.ts";
import { bullConnection } from "../../../core/redis/index.ts";
import { AdminClient, createStaff, startAdmin, type AdminUnderTest } from "./support.ts";

let admin: AdminUnderTest;
let operator: AdminClient;
let viewer: AdminClient;
const yesterday = addDays(beijingDay(new Date()), -1);

type Notice = { notice?: { type: string; message: string; options?: { summary: string } }; redirectUrl?: string };
const reconcileDate = (client: AdminClient, date: string) =>
  client.json<Notice>("/admin/api/resources/BillBatch/actions/reconcileDate", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ date }),
  });

function parseCsv(text: string): string[][] {
  return text.replace(/^\uFEFF/, "").trim().split("\r\n").map((l) => l.split(","));
}

before(async () => {
  admin = await startAdmin({ name: "admin-bills" });
  operator = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "operator"));
  viewer = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "viewer"));
});
after(async () => {
  await admin?.close();
});

describe("reconcile a date", () => {
  test("an operator queues a past day for the worker, with their name; today, the future, before 2016 and non-dates are refused clearly", async () => {
    const queue = new Queue(BILL_QUEUE, { connection: bullConnection(admin.config.redisUrl) as ConnectionOptions, prefix: admin.config.redisPrefix });
    try {
      const day = addDays(yesterday, -3);
      const ok = await reconcileDate(operator, day);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.notice?.type, "success", JSON.stringify(ok.body));
      assert.match(ok.body.notice!.options!.summary, new RegExp(day));
      const jobs = await queue.getJobs(["waiting", "prioritized", "delayed", "active"]);
      assert.ok(jobs.some((j) => j.data.kind === "date" && j.data.billDate === day && /@/.test(j.data.actor)), JSON.stringify(jobs.map((j) => j.data)));

      for (const [date, why] of [
        [beijingDay(new Date()), /尚未生成|up to yesterday/],
        [addDays(beijingDay(new Date()), 30), /尚未生成|up to yesterday/],
        ["2015-12-31", /2016-01-01/],
        ["2026-02-30", /无效|Not a date/],
        ["yesterday", /无效|Not a date/],
      ] as const) {
        const before = (await queue.getJobs(["waiting", "prioritized", "delayed", "active"])).length;
        const r = await reconcileDate(operator, date);
        assert.equal(r.status, 200);
        assert.equal(r.body.notice?.type, "error", `${date}: ${JSON.stringify(r.body)}`);
        assert.match(r.body.notice!.options!.summary, why, date);
        assert.equal((await queue.getJobs(["waiting", "prioritized", "delayed", "active"])).length, before, `${date}: nothing queued`);
      }
    } finally {
      await queue.close();
    }
  });

  test("a viewer is refused with 403 before anything runs", async () => {
    const r = await reconcileDate(viewer, addDays(yesterday, -4));
    assert.equal(r.status, 403);
  });
});

describe("bill differences CSV and the dashboard card", () => {
  test("the CSV follows the list's filters; a bad filter answers 400 before any byte; the dashboard shows yesterday's batch", async () => {
    const batch = await admin.prisma.billBatch.create({
      data: {
        billType: "trade", billDate: yesterday, state: "differences", attempts: 1, differencesOpen: 2, billTrades: 3, billTradeFen: 30000n,
        billRefunds: 1, billRefundFen: 500n, billNetFen: 29300n, localTrades: 2, localTradeFen: 20000n, localNetFen: 19800n, finishedAt: new Date(),
      },
    });
    const other = await admin.prisma.billBatch.create({ data: { billType: "trade", billDate: addDays(yesterday, -199), state: "matched", attempts: 1 } });
    const mk = (batchId: number, kind: "paid_not_here" | "unknown_order" | "refund_not_here", ref: string, state: "open" | "resolved" = "open") =>
      admin.prisma.billDifference.create({ data: { batchId, kind, ref, outTradeNo: ref, billAmountFen: 1234, state, lastSeenAttempt: 1, note: state === "resolved" ? "done, =x" : "" } });
    const a = await mk(batch.id, "paid_not_here", "csv_a");
    const b = await mk(batch.id, "unknown_order", "csv_b");
    await mk(batch.id, "refund_not_here", "csv_c", "resolved");
    await mk(other.id, "paid_not_here", "csv_d");

    const res = await viewer.request(`/admin/export/bill-differences.csv?filters.batch=${batch.id}&filters.state=open`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/csv/);
    assert.match(res.headers.get("content-disposition")!, /attachment; filename="bill-differences-\d{12}\.csv"/);
    const [header, ...rows] = parseCsv(await res.text());
    assert.equal(header[1], "账单日期");
    assert.deepEqual(rows.map((r) => Number(r[0])), [a.id, b.id]);
    assert.deepEqual(rows.map((r) => [r[1], r[2], r[3], r[6]]), [[yesterday, "支付宝已收款，本地未支付", "未处理", "12.34"], [yesterday, "本地无此订单号", "未处理", "12.34"]]);

    const kinds = parseCsv(await (await viewer.request(`/admin/export/bill-differences.csv?lang=en&filters.kind=paid_not_here&filters.outTradeNo=csv_d`)).text());
    // (the English kind label holds a comma, quoted in the CSV: look the row up by its id)
    assert.equal(kinds.length, 2);
    assert.ok(kinds[1]!.includes("csv_d"));
    assert.equal(kinds[0]![2], "Kind");

    const bad = await viewer.request("/admin/export/bill-differences.csv?filters.createdAt~~from=notadate");
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get("content-type") ?? "", /json/);
    assert.equal((await new AdminClient(admin.url).request("/admin/export/bill-differences.csv")).status, 302, "needs a session");

    const dash = await viewer.json<{ bills: { billDate: string; batch: { state: string; differencesOpen: number; alipay: { tradeFen: number; netFen: number }; ours: { tradeFen: number; netFen: number } } | null } }>(
      "/admin/api/dashboard");
    assert.equal(dash.status, 200);
    assert.equal(dash.body.bills.billDate, yesterday);
    assert.equal(dash.body.bills.batch?.state, "differences");
    assert.equal(dash.body.bills.batch?.differencesOpen, 2);
    assert.deepEqual([dash.body.bills.batch?.alipay.tradeFen, dash.body.bills.batch?.alipay.netFen, dash.body.bills.batch?.ours.tradeFen, dash.body.bills.batch?.ours.netFen], [30000, 29300, 20000, 19800]);
  });
});
