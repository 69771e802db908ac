// Bad input is the caller's mistake, never a 500: the buyer API and the admin answer out-of-range
// numbers, malformed dates and wrong types with a 4xx that names the parameter. First the cases
// found by hand (issue 10), then a property test that feeds both query surfaces random hostile
// values and finds no 5xx.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { startStack, type Stack, type TestBuyer } from "../../support/index.ts";
import { AdminClient, createStaff, seedOrders, startAdmin, type AdminUnderTest } from "../admin/support.ts";

let stack: Stack;
let admin: AdminUnderTest;
let staff: AdminClient;
let buyer: TestBuyer;
let orderId: number;

before(async () => {
  stack = await startStack({ name: "bad-input", worker: false });
  admin = await startAdmin({ name: "bad-input-admin", stack });
  staff = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "admin"));
  buyer = await stack.newBuyer();
  orderId = (await seedOrders(admin.prisma, [{ status: "PAID" }])).orders[0]!.id;
});
after(async () => {
  await admin?.close();
  await stack?.close();
});

const api = (path: string, init: RequestInit = {}) =>
  stack.fetchApi(path, { ...init, token: buyer.token, headers: { accept: "application/json", "content-type": "application/json", ...(init.headers as Record<string, string>) } });

async function expect4xx(res: Response, what: string): Promise<{ error: string }> {
  const text = await res.text();
  assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { error: string };
  assert.equal(typeof body.error, "string", what);
  assert.notEqual(body.error, "internal error", what);
  return body;
}

describe("the cases of issue 10", () => {
  test("api: a course id beyond int4 and a `before` out of range are 400 naming the field", async () => {
    const big = await expect4xx(await api("/orders", { method: "POST", body: JSON.stringify({ courseIds: [2147483648] }) }), "courseIds");
    assert.match(JSON.stringify(big), /courseIds/);
    for (const before of ["1e12", "2147483648", "-1", "abc", "1.5"]) {
      const r = await expect4xx(await api(`/orders?before=${before}`), `before=${before}`);
      assert.match(JSON.stringify(r), /before/);
    }
  });

  test("admin: bad filters, paging and record ids are 400 with a message", async () => {
    const base = "/admin/api/resources/Order";
    const cases: [string, RegExp][] = [
      [`${base}/actions/list?filters.buyer=abc`, /id|buyer/],
      [`${base}/actions/list?filters.createdAt~~from=notadate`, /createdAt/],
      [`${base}/actions/list?filters.createdAt~~to=2026-02-31T99:00:00Z`, /createdAt/],
      [`${base}/actions/list?filters.needsReview=x`, /needsReview/],
      [`${base}/actions/list?page=-5&perPage=abc`, /perPage|page/],
      [`${base}/actions/list?page=-5`, /page/],
      [`${base}/actions/list?perPage=-3`, /perPage/],
      [`${base}/records/99999999999/show`, /id/],
      ["/admin/api/resources/OrderDetail/actions/list?filters.order=99999999999", /id|order/],
      ["/admin/api/resources/PaymentNotification/actions/list?filters.verified=1", /verified/],
      ["/admin/api/resources/Course/actions/list?filters.active=yes", /active/],
    ];
    for (const [path, message] of cases) {
      const res = await staff.request(path, { headers: { accept: "application/json" } });
      const body = await expect4xx(res, path);
      assert.equal(res.status, 400, path);
      assert.match(body.error, message, path);
    }
  });

  test("the CSV export with a bad date answers 400 before writing any row", async () => {
    const res = await staff.request("/admin/export/orders.csv?filters.createdAt~~from=notadate");
    assert.equal(res.status, 400);
    assert.match(res.headers.get("content-type") ?? "", /json/);
    const body = (await res.json()) as { error: string };
    assert.match(body.error, /createdAt/);
  });

  test("good input still works", async () => {
    const ok = await staff.json<{ records: unknown[] }>(`/admin/api/resources/Order/actions/list?filters.createdAt~~from=2000-01-01&filters.needsReview=false&page=1&perPage=5`);
    assert.equal(ok.status, 200);
    assert.ok(ok.body.records.length > 0);
    assert.equal((await staff.json(`/admin/api/resources/Order/records/${orderId}/show`)).status, 200);
    const list = await api("/orders?before=2147483647&limit=5");
    assert.equal(list.status, 200);
  });
});

// ---- the property test ------------------------------------------------------------------------

const number = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.double().map(String),
  fc.constantFrom("2147483648", "-2147483649", "1e12", "1e308", "-1e308", "NaN", "Infinity", "-0", "0x10", "9".repeat(40), "1.5", " 1", "", "0", "00001", "1_000"),
);
const date = fc.oneof(
  fc.constantFrom("notadate", "0000-00-00", "2026-13-45", "2026-02-31T99:00:00Z", "-271821-04-19T00:00:00Z", "+275760-09-13T00:00:00Z", "99999-01-01", "1e12", "0001-01-01", "9999-12-31T23:59:59Z"),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.string({ maxLength: 30 }),
);
const text = fc.string({ maxLength: 40 });
const value = fc.oneof(number, date, text, fc.constantFrom("true", "false", "x", "null", "[]", "{}", '{"gt":1}', '{"in":[1,2]}'));
/** One query parameter's value(s): once, repeated (an array to the parser), or as a nested key. */
const param = (name: string) =>
  fc.oneof(
    value.map((v) => [[name, v]] as [string, string][]),
    fc.tuple(value, value).map(([a, b]) => [[name, a], [name, b]] as [string, string][]),
    fc.tuple(fc.constantFrom("x", "gt", "0", "from"), value).map(([k, v]) => [[`${name}.${k}`, v]] as [string, string][]),
  );
const query = (names: string[]) =>
  fc.array(fc.constantFrom(...names).chain(param), { minLength: 1, maxLength: 4 }).map((parts) => new URLSearchParams(parts.flat()).toString());

const ADMIN_FILTERS: Record<string, string[]> = {
  Order: ["q", "status", "createdAt", "createdAt~~from", "createdAt~~to", "buyer", "outTradeNo", "tradeNo", "needsReview"],
  PaymentNotification: ["outTradeNo", "notifyId", "outcome", "receivedAt~~from", "receivedAt~~to", "verified"],
  OrderEvent: ["order", "type", "source"],
  OrderDetail: ["order", "course"],
  Course: ["title", "active"],
  User: ["email"],
  StaffUser: ["email", "role", "disabled"],
};

describe("no 5xx for hostile query parameters (property)", () => {
  test("buyer API: GET /orders?limit&before, GET /orders/:id, POST /orders", async () => {
    await fc.assert(
      fc.asyncProperty(
        query(["limit", "before"]),
        fc.oneof(number, text),
        fc.oneof(fc.array(fc.oneof(fc.constantFrom(2147483648, -2147483649, 1e12, 2 ** 53), fc.integer(), fc.double(), fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }).map(Number), fc.constant(null), fc.string({ maxLength: 5 }))), fc.anything()),
        async (q, id, courseIds) => {
          for (const [what, res] of [
            [`GET /orders?${q}`, await api(`/orders?${q}`)],
            [`GET /orders/${id}`, await api(`/orders/${encodeURIComponent(id)}`)],
            [`POST /orders ${JSON.stringify(courseIds)?.slice(0, 100)}`, await api("/orders", { method: "POST", body: JSON.stringify({ courseIds }) ?? "null" })],
          ] as const) {
            const body = await res.text();
            assert.ok(res.status < 500, `${what} → ${res.status} ${body.slice(0, 200)}`);
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  test("admin: list filters, paging, sorting, record ids and the CSV export of every resource", async () => {
    const resources = Object.keys(ADMIN_FILTERS);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...resources).chain((r) =>
          fc.tuple(
            fc.constant(r),
            query([...ADMIN_FILTERS[r]!.map((f) => `filters.${f}`), "page", "perPage", "sortBy", "direction"]),
            fc.oneof(number, text),
          ),
        ),
        async ([resource, q, id]) => {
          const requests = [
            `/admin/api/resources/${resource}/actions/list?${q}`,
            `/admin/api/resources/${resource}/records/${encodeURIComponent(id) || "0"}/show`,
            `/admin/api/resources/${resource}/search/${encodeURIComponent(id)}`,
          ];
          if (resource === "Order") requests.push(`/admin/export/orders.csv?${q}`);
          for (const path of requests) {
            const res = await staff.request(path, { headers: { accept: "application/json" } });
            const body = await res.text();
            assert.ok(res.status < 500, `${path} → ${res.status} ${body.slice(0, 200)}`);
          }
        },
      ),
      { numRuns: 250 },
    );
  });
});
