// The order list's filters and search through AdminJS's own API, and the CSV export of the same
// filtered list (streamed in batches).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { EXPORT_BATCH } from "../../../admin/export.ts";
import { AdminClient, createStaff, seedOrders, startAdmin, type AdminUnderTest } from "./support.ts";

let admin: AdminUnderTest;
let client: AdminClient;
let seeded: Awaited<ReturnType<typeof seedOrders>>;
let other: Awaited<ReturnType<typeof seedOrders>>;

const day = (iso: string) => new Date(`${iso}T04:00:00Z`);

before(async () => {
  admin = await startAdmin({ name: "admin-orders" });
  client = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "viewer"));
  seeded = await seedOrders(admin.prisma, [
    { status: "PAID", totalFen: 1230, createdAt: day("2026-03-01"), tradeNo: "2026030122001400001", subject: '课程 "A", =cmd' },
    { status: "PAID", totalFen: 9900, createdAt: day("2026-03-05") },
    { status: "UNPAID", totalFen: 500, createdAt: day("2026-03-05") },
    { status: "CLOSED", totalFen: 700, createdAt: day("2026-03-09") },
  ]);
  other = await seedOrders(admin.prisma, [{ status: "PAID", totalFen: 100, createdAt: day("2026-03-05") }]);
});
after(async () => {
  await admin?.close();
});

type ListBody = { records: { params: Record<string, unknown> }[]; meta: { total: number } };
const list = async (query: string) => {
  const r = await client.json<ListBody>(`/admin/api/resources/Order/actions/list?perPage=50&${query}`);
  assert.equal(r.status, 200);
  return r.body;
};
const ids = (b: ListBody) => b.records.map((r) => Number(r.params.id));

describe("order list", () => {
  test("filters by status, buyer and date range; newest first; counts match", async () => {
    const paidOfBuyer = await list(`filters.status=PAID&filters.buyer=${seeded.buyer.id}`);
    assert.deepEqual(ids(paidOfBuyer), [seeded.orders[1].id, seeded.orders[0].id]);
    assert.equal(paidOfBuyer.meta.total, 2);
    const range = await list(`filters.buyer=${seeded.buyer.id}&filters.createdAt~~from=2026-03-04T00:00:00Z&filters.createdAt~~to=2026-03-06T00:00:00Z`);
    assert.deepEqual(ids(range).sort(), [seeded.orders[1].id, seeded.orders[2].id].sort());
  });

  test("out_trade_no and trade_no match exactly; the search box takes any identifier", async () => {
    const o = seeded.orders[0];
    assert.deepEqual(ids(await list(`filters.outTradeNo=${o.outTradeNo}`)), [o.id]);
    assert.deepEqual(ids(await list(`filters.outTradeNo=${o.outTradeNo.slice(0, 8)}`)), [], "no substring scan");
    assert.deepEqual(ids(await list("filters.tradeNo=2026030122001400001")), [o.id]);
    assert.deepEqual(ids(await list(`filters.q=${o.outTradeNo}`)), [o.id]);
    assert.deepEqual(ids(await list("filters.q=2026030122001400001")), [o.id]);
    assert.deepEqual(ids(await list(`filters.q=${encodeURIComponent(other.buyer.email.toUpperCase())}`)), [other.orders[0].id]);
    assert.deepEqual(ids(await list(`filters.q=${seeded.orders[3].id}`)), [seeded.orders[3].id]);
  });

  test("filters the panel does not offer are ignored; an impossible status matches nothing", async () => {
    const all = await list(`filters.buyer=${seeded.buyer.id}`);
    assert.equal(all.records.length, 4);
    assert.deepEqual(ids(await list(`filters.buyer=${seeded.buyer.id}&filters.subject=nothing-like-this`)), ids(all));
    assert.deepEqual(ids(await list(`filters.buyer=${seeded.buyer.id}&filters.status=BOGUS`)), []);
  });

  test("a sort on an unindexed column falls back to newest first instead of sorting the table", async () => {
    const b = await list(`filters.buyer=${seeded.buyer.id}&sortBy=subject&direction=asc`);
    assert.equal(b.records[0].params.id, seeded.orders[3].id);
  });

  test("the show page carries the order's lines, timeline and callbacks", async () => {
    const o = seeded.orders[0];
    // A row from before reason codes (the English sentence only), then one with its code.
    await admin.prisma.orderEvent.create({ data: { orderId: o.id, type: "paid", fromStatus: "UNPAID", toStatus: "PAID", source: "notify", payload: { reason: "TRADE_SUCCESS" } } });
    await admin.prisma.orderEvent.create({
      data: { orderId: o.id, type: "payment_checked", fromStatus: "PAID", toStatus: "PAID", source: "staff", actor: "ops@example.com",
        payload: { reason: "already PAID (TRADE_SUCCESS)", reasonCode: "order.already_trade", reasonParams: { status: "PAID", tradeStatus: "TRADE_SUCCESS" } } },
    });
    await admin.prisma.paymentNotification.create({ data: { rawBody: "a=b", outTradeNo: o.outTradeNo, orderId: o.id, verified: true, outcome: "applied", tradeStatus: "TRADE_SUCCESS", totalFen: 1230 } });
    const r = await client.json<{ record: { params: Record<string, string> } }>(`/admin/api/resources/Order/records/${o.id}/show`);
    const timeline = JSON.parse(r.body.record.params.timeline);
    assert.deepEqual(timeline.map((e: { type: string; reason: string }) => [e.type, e.reason]), [["paid", "支付宝：交易成功"], ["payment_checked", "订单已是“已支付”（支付宝：交易成功）"]],
      "said in Chinese from the code, or from the old sentence; statuses by their labels");
    assert.equal(JSON.parse(r.body.record.params.callbacks)[0].outcome, "applied");
    assert.deepEqual(JSON.parse(r.body.record.params.lines), []);
  });
});

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n") { row.push(cell.replace(/\r$/, "")); rows.push(row); row = []; cell = ""; }
    else cell += c;
  }
  return rows;
}

describe("CSV export", () => {
  test("honours the list's filters; amounts in yuan; headers in the interface language; formulas neutralised", async () => {
    const res = await client.request(`/admin/export/orders.csv?filters.status=PAID&filters.buyer=${seeded.buyer.id}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/csv/);
    assert.match(res.headers.get("content-disposition")!, /attachment; filename="orders-\d{12}\.csv"/);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 BOM for spreadsheets");
    const [header, ...rows] = parseCsv(bytes.subarray(3).toString("utf8"));
    assert.equal(header[0], "编号");
    assert.equal(header[1], "商户订单号");
    assert.deepEqual(rows.map((r) => Number(r[0])), [seeded.orders[0].id, seeded.orders[1].id]);
    assert.deepEqual(rows.map((r) => [r[2], r[3]]), [["已支付", "12.30"], ["已支付", "99.00"]]);
    assert.equal(rows[0][5], '课程 "A", =cmd', "quotes and commas survive");
    assert.equal(rows[0][6], seeded.buyer.email);

    const en = await client.request(`/admin/export/orders.csv?lang=en&filters.q=${seeded.orders[2].outTradeNo}`);
    const [enHeader, ...enRows] = parseCsv(await en.text());
    assert.equal(enHeader[1], "Out trade no.");
    assert.deepEqual(enRows.map((r) => [Number(r[0]), r[2], r[3]]), [[seeded.orders[2].id, "Unpaid", "5.00"]]);
  });

  test("cells that would run as spreadsheet formulas are prefixed", async () => {
    const { buyer, orders } = await seedOrders(admin.prisma, [{ subject: "=HYPERLINK(\"http://x\")" }]);
    const res = await client.request(`/admin/export/orders.csv?filters.buyer=${buyer.id}`);
    const [, row] = parseCsv(await res.text());
    assert.equal(Number(row[0]), orders[0].id);
    assert.equal(row[5], `'=HYPERLINK("http://x")`);
  });

  test("streams more rows than one batch, in id order, without duplicates", async () => {
    const n = EXPORT_BATCH * 2 + 17;
    const buyer = await admin.prisma.user.create({ data: { email: `bulk-${Date.now()}@buyer.test`, passwordHash: "x" } });
    await admin.prisma.$executeRaw`
      INSERT INTO "order" (out_trade_no, buyer_id, subject, total_fen, status, expires_at, updated_at)
      SELECT 'bulk_' || ${buyer.id}::text || '_' || g, ${buyer.id}, 'bulk', 100, 'UNPAID', now(), now() FROM generate_series(1, ${n}::int) g`;
    const res = await client.request(`/admin/export/orders.csv?filters.buyer=${buyer.id}`);
    const rows = parseCsv(await res.text()).slice(1);
    assert.equal(rows.length, n);
    const idList = rows.map((r) => Number(r[0]));
    assert.deepEqual(idList, [...idList].sort((a, b) => a - b));
    assert.equal(new Set(idList).size, n);
  });

  test("needs a session", async () => {
    const res = await new AdminClient(admin.url).request("/admin/export/orders.csv");
    assert.equal(res.status, 302);
  });
});
