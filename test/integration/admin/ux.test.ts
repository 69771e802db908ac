// What a new member of staff meets first, over HTTP: pages that load nothing from third parties and
// have a favicon, logout only by POST, a login that works (or says why not) while Redis is down, and
// a CSV whose yes/no columns say yes or no.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { SESSION_COOKIE } from "../../../admin/auth/session.ts";
import { AdminClient, createStaff, seedOrders, startAdmin, type AdminUnderTest } from "./support.ts";

let admin: AdminUnderTest;

before(async () => {
  admin = await startAdmin({ name: "admin-ux" });
});
after(async () => {
  await admin?.close();
});

/** Every URL a page's HTML makes the browser fetch (link href, script src, img src). */
function fetchedUrls(html: string): string[] {
  return [...html.matchAll(/<(?:link|script|img)\b[^>]*\b(?:href|src)="([^"]+)"/g)].map((m) => m[1]);
}

describe("pages load nothing from third parties, and have a favicon", () => {
  test("the login page and the app page reference only the admin's own origin", async () => {
    const staff = await createStaff(admin.prisma, "viewer");
    const client = new AdminClient(admin.url);
    const login = await (await client.request("/admin/login")).text();
    await client.loginOk(staff);
    const app = await (await client.request("/admin")).text();
    for (const [name, html] of [["login", login], ["app", app]] as const) {
      const urls = fetchedUrls(html);
      assert.ok(urls.length > 3, `${name}: found the page's assets (${urls.join(", ")})`);
      assert.deepEqual(urls.filter((u) => !u.startsWith("/admin/")), [], `${name}: nothing outside /admin/`);
      assert.doesNotMatch(html, /fonts\.googleapis/);
      const icon = /<link rel="shortcut icon" type="image\/png" href="([^"]+)"/.exec(html);
      assert.ok(icon, `${name}: favicon link`);
      const res = await client.request(icon[1]);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "image/png");
      assert.deepEqual([...Buffer.from(await res.arrayBuffer()).subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
    }
  });

  test("/favicon.ico answers too (browsers ask for it on their own), without a session", async () => {
    const res = await new AdminClient(admin.url).request("/favicon.ico");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^image\/png/);
  });

  test("the stylesheet is public (the login page uses it) and sets system fonts", async () => {
    const res = await new AdminClient(admin.url).request("/admin/frontend/assets/coursepay/admin.css");
    assert.equal(res.status, 200);
    assert.match(await res.text(), /font-family: system-ui/);
  });
});

describe("logout", () => {
  test("a GET does not log out (any page could trigger one); a same-origin POST does", async () => {
    const staff = await createStaff(admin.prisma, "viewer");
    const client = await new AdminClient(admin.url).loginOk(staff);
    const get = await client.request("/admin/logout");
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    assert.equal((await client.json("/admin/api/resources/Order/actions/list")).status, 200, "still logged in");

    const crossSite = await client.request("/admin/logout", { method: "POST", headers: { origin: "https://evil.example" } });
    assert.equal(crossSite.status, 403);
    assert.equal((await client.json("/admin/api/resources/Order/actions/list")).status, 200, "still logged in");

    const post = await client.request("/admin/logout", { method: "POST", headers: { origin: admin.url } });
    assert.equal(post.status, 302);
    assert.equal(post.headers.get("location"), "/admin/login");
    assert.equal(client.cookie(SESSION_COOKIE), undefined);
    assert.equal((await client.json("/admin/api/resources/Order/actions/list")).status, 401);
  });
});

describe("CSV export", () => {
  test("the needs-review column says 否/是 (No/Yes in English), never an empty cell", async () => {
    const staff = await createStaff(admin.prisma, "viewer");
    const client = await new AdminClient(admin.url).loginOk(staff);
    const { buyer, orders } = await seedOrders(admin.prisma, [{ status: "PAID" }, { status: "PAID" }]);
    await admin.prisma.order.update({ where: { id: orders[1].id }, data: { needsReview: true } });
    const column = async (lang: string) => {
      const text = (await (await client.request(`/admin/export/orders.csv?lang=${lang}&filters.buyer=${buyer.id}`)).text()).replace(/^\uFEFF/, "");
      const [header, ...rows] = text.trim().split("\r\n").map((l) => l.split(","));
      // The column by its header, wherever it stands (other columns, such as refunds, follow it).
      const i = header.findIndex((h) => h === "待复核" || h === "Needs review");
      assert.ok(i >= 0, `no needs-review column in ${header.join(",")}`);
      return [header[i], ...rows.map((r) => r[i])];
    };
    assert.deepEqual(await column("zh-CN"), ["待复核", "否", "是"]);
    assert.deepEqual(await column("en"), ["Needs review", "No", "Yes"]);
  });
});

describe("times", () => {
  test("CSV times are in DISPLAY_TIME_ZONE (Asia/Shanghai by default), named in the header", async () => {
    const staff = await createStaff(admin.prisma, "viewer");
    const client = await new AdminClient(admin.url).loginOk(staff);
    const { buyer } = await seedOrders(admin.prisma, [{ createdAt: new Date("2026-11-27T16:30:05Z") }]);
    const text = (await (await client.request(`/admin/export/orders.csv?filters.buyer=${buyer.id}`)).text()).replace(/^\uFEFF/, "");
    const [header, row] = text.trim().split("\r\n").map((l) => l.split(","));
    const i = header.indexOf("创建时间 (Asia/Shanghai)");
    assert.ok(i > 0, header.join(","));
    assert.equal(row[i], "2026-11-28 00:30:05");
  });

  test("another zone is a setting: the dashboard and the CSV follow it", async () => {
    const berlin = await startAdmin({ name: "admin-ux-berlin", env: { DISPLAY_TIME_ZONE: "Europe/Berlin" } });
    try {
      const client = await new AdminClient(berlin.url).loginOk(await createStaff(berlin.prisma, "viewer"));
      assert.equal((await client.json<{ timeZone: string }>("/admin/api/dashboard")).body.timeZone, "Europe/Berlin");
      const { buyer } = await seedOrders(berlin.prisma, [{ createdAt: new Date("2026-11-27T16:30:05Z") }]);
      const text = await (await client.request(`/admin/export/orders.csv?filters.buyer=${buyer.id}`)).text();
      const [header, row] = text.replace(/^\uFEFF/, "").trim().split("\r\n").map((l) => l.split(","));
      assert.equal(row[header.indexOf("创建时间 (Europe/Berlin)")], "2026-11-27 17:30:05");
    } finally {
      await berlin.close();
    }
  });
});

describe("Redis down", () => {
  test("staff can still log in (throttled in memory) and the login page still renders", async () => {
    // Nothing listens on port 1: the admin's Redis connection never becomes ready.
    const down = await startAdmin({ name: "admin-ux-noredis", env: { REDIS_URL: "redis://127.0.0.1:1" } });
    try {
      const staff = await createStaff(down.prisma, "viewer");
      const client = new AdminClient(down.url);
      const page = await client.request("/admin/login");
      assert.equal(page.status, 200);
      await page.arrayBuffer();
      const wrong = await client.login(staff.email, "wrong password");
      assert.equal(wrong.status, 401);
      assert.match(await wrong.text(), /邮箱或密码错误/);
      await client.loginOk(staff);
      assert.equal((await client.json("/admin/api/resources/Order/actions/list")).status, 200);

      // Still throttled: five failures for one email (one above), then 429 with the message.
      const other = new AdminClient(down.url);
      for (let i = 0; i < 4; i++) assert.equal((await other.login(staff.email, `nope-${i}`)).status, 401);
      const limited = await other.login(staff.email, "nope-again");
      assert.equal(limited.status, 429);
      assert.match(await limited.text(), /登录失败次数过多/);
    } finally {
      await down.close();
    }
  });
});
