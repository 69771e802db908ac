// Roles are enforced on the server: a viewer can read but every command is refused with 403 before
// AdminJS runs it; append-only resources have no write actions for anyone; admin-only and
// operator-only areas stay closed to lesser roles.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AdminClient, createStaff, seedOrders, startAdmin, type AdminUnderTest } from "./support.ts";

let admin: AdminUnderTest;
let viewer: AdminClient;
let operator: AdminClient;
let boss: AdminClient;
let bossId: number;
let orderId: number;

before(async () => {
  admin = await startAdmin({ name: "admin-access" });
  viewer = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "viewer"));
  operator = await new AdminClient(admin.url).loginOk(await createStaff(admin.prisma, "operator"));
  const bossStaff = await createStaff(admin.prisma, "admin");
  bossId = bossStaff.id;
  boss = await new AdminClient(admin.url).loginOk(bossStaff);
  orderId = (await seedOrders(admin.prisma, [{ status: "UNPAID" }])).orders[0].id;
});
after(async () => {
  await admin?.close();
});

type RecordJson = { params: Record<string, unknown>; recordActions: { name: string }[] };

const post = (client: AdminClient, path: string, body: Record<string, string> = {}) =>
  client.json(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("a viewer", () => {
  test("reads orders, but is offered no command", async () => {
    const list = await viewer.json<{ records: RecordJson[] }>("/admin/api/resources/Order/actions/list");
    assert.equal(list.status, 200);
    const show = await viewer.json<{ record: RecordJson }>(`/admin/api/resources/Order/records/${orderId}/show`);
    assert.equal(show.status, 200);
    const actions = show.body.record.recordActions.map((a) => a.name);
    assert.ok(actions.includes("show"));
    assert.ok(!actions.includes("checkPayment") && !actions.includes("closeOrder"), `viewer offered ${actions}`);
  });

  test("a direct POST to a command is refused with 403 and changes nothing", async () => {
    for (const action of ["checkPayment", "closeOrder"]) {
      const r = await post(viewer, `/admin/api/resources/Order/records/${orderId}/${action}`, { reason: "x" });
      assert.equal(r.status, 403, action);
    }
    const redrive = await post(viewer, "/admin/api/resources/PaymentNotification/records/1/redrive");
    assert.equal(redrive.status, 403);
    const events = await admin.prisma.orderEvent.count({ where: { orderId } });
    assert.equal(events, 0);
    assert.equal((await admin.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).status, "UNPAID");
  });

  test("the guard itself refuses a command however its path is spelled, as Express routes it", async () => {
    const spellings = [
      `/admin/API/resources/Order/records/${orderId}/closeOrder`,
      `/admin/api/resources/Order/records/${orderId}/closeOrder/`,
      `/admin/Api/Resources/Order/Records/${orderId}/closeOrder/`,
      `/admin/api/resources/Order/records/${orderId}/close%4Frder`,
      `/admin/api/resources/%4Frder/records/${orderId}/closeOrder`,
      `/admin/api/resources/Order/actions/exportCsv/../../records/${orderId}/closeOrder`,
    ];
    for (const path of spellings) {
      const r = await post(viewer, path, { reason: "x" });
      // 403 with the guard's body: AdminJS's own refusal would be a 200 with an error notice.
      assert.equal(r.status, 403, path);
      assert.equal((r.body as { error?: string }).error, "forbidden", path);
    }
    // Spellings Express does not route to AdminJS (repeated slashes), or that the browser sends
    // without the session cookie (its Path=/admin is case-sensitive), run no command either.
    for (const path of [
      `/admin//api/resources/Order/records/${orderId}/closeOrder`,
      `/admin/api/resources/Order/records/${orderId}//closeOrder`,
      `/ADMIN/api/resources/Order/records/${orderId}/checkPayment`,
    ]) {
      const r = await viewer.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      await r.arrayBuffer();
      assert.ok(r.status >= 300, `${path} → ${r.status}`);
    }
    assert.equal(await admin.prisma.orderEvent.count({ where: { orderId } }), 0);
    assert.equal((await admin.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).status, "UNPAID");
  });

  test("cannot open the queue board or the staff accounts", async () => {
    assert.equal((await viewer.request("/admin/queues")).status, 403);
    assert.equal((await viewer.json("/admin/api/resources/StaffUser/actions/list")).status, 403);
  });
});

describe("an operator", () => {
  test("is offered the commands on an unpaid order and can open the queue board", async () => {
    const show = await operator.json<{ record: RecordJson }>(`/admin/api/resources/Order/records/${orderId}/show`);
    const actions = show.body.record.recordActions.map((a) => a.name);
    assert.ok(actions.includes("checkPayment") && actions.includes("closeOrder"), `operator offered ${actions}`);
    const board = await operator.request("/admin/queues");
    assert.equal(board.status, 200);
    const queues = await operator.json<{ queues: { name: string }[] }>("/admin/queues/api/queues");
    assert.deepEqual(queues.body.queues.map((q) => q.name).sort(), ["notify-apply", "payment-check", "reconcile-sweep", "refund"]);
  });

  test("a GET on a command only reads: nothing runs without a POST", async () => {
    const r = await operator.json<{ record: RecordJson }>(`/admin/api/resources/Order/records/${orderId}/checkPayment`);
    assert.equal(r.status, 200);
    assert.equal(await admin.prisma.orderEvent.count({ where: { orderId } }), 0);
  });

  test("cannot manage staff accounts, however the path is spelled; allowed reads pass in any spelling", async () => {
    assert.equal((await operator.json("/admin/api/resources/StaffUser/actions/list")).status, 403);
    assert.equal((await operator.json("/admin/API/resources/StaffUser/actions/list/")).status, 403);
    assert.equal((await operator.json("/admin/api/resources/Staff%55ser/actions/list")).status, 403);
    assert.equal((await operator.json(`/admin/API/resources/Order/records/${orderId}/show/`)).status, 200);
  });
});

describe("history is append-only", () => {
  test("no one, not even an admin, can create, edit or delete orders, notifications or events", async () => {
    for (const resource of ["Order", "PaymentNotification", "OrderEvent"]) {
      assert.equal((await post(boss, `/admin/api/resources/${resource}/actions/new`, { totalFen: "1" })).status, 403, `${resource} new`);
      assert.equal((await post(boss, `/admin/api/resources/${resource}/records/${orderId}/edit`, { status: "PAID" })).status, 403, `${resource} edit`);
      assert.equal((await post(boss, `/admin/api/resources/${resource}/records/${orderId}/delete`)).status, 403, `${resource} delete`);
      assert.equal((await post(boss, `/admin/api/resources/${resource}/bulk/bulkDelete?recordIds=${orderId}`)).status, 403, `${resource} bulkDelete`);
    }
    const order = await admin.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    assert.equal(order.status, "UNPAID");
    assert.equal(order.totalFen, 9900);
  });

  test("an admin manages staff roles but cannot demote themself", async () => {
    const list = await boss.json<{ records: RecordJson[] }>("/admin/api/resources/StaffUser/actions/list");
    assert.equal(list.status, 200);
    const target = await createStaff(admin.prisma, "viewer");
    const promote = await post(boss, `/admin/api/resources/StaffUser/records/${target.id}/edit`, { role: "operator", passwordHash: "pwned" });
    assert.equal(promote.status, 200);
    const after = await admin.prisma.staffUser.findUniqueOrThrow({ where: { id: target.id } });
    assert.equal(after.role, "operator");
    assert.notEqual(after.passwordHash, "pwned", "only role and disabled are editable");

    const self = await post(boss, `/admin/api/resources/StaffUser/records/${bossId}/edit`, { role: "viewer" });
    assert.equal((self.body as { notice?: { type: string } }).notice?.type, "error");
    assert.equal((await admin.prisma.staffUser.findUniqueOrThrow({ where: { id: bossId } })).role, "admin");
  });
});

describe("cross-site requests", () => {
  test("a POST whose Origin is another site is refused, even with a valid session", async () => {
    const r = await operator.request(`/admin/api/resources/Order/records/${orderId}/checkPayment`, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(r.status, 403);
    assert.equal(await admin.prisma.orderEvent.count({ where: { orderId } }), 0);
  });
});
