// Staff login: throttling, session cookies, server-side sessions, logout, disabled accounts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AdminClient, createStaff, startAdmin, type AdminUnderTest } from "./support.ts";
import { SESSION_COOKIE } from "../../../admin/auth/session.ts";

let admin: AdminUnderTest;
before(async () => {
  admin = await startAdmin({ name: "admin-auth" });
});
after(async () => {
  await admin?.close();
});

function cookieAttrs(setCookie: string[], name: string): string[] {
  const c = setCookie.find((x) => x.startsWith(`${name}=`));
  assert.ok(c, `no ${name} cookie in ${JSON.stringify(setCookie)}`);
  return c.split(";").slice(1).map((a) => a.trim().toLowerCase());
}

describe("login", () => {
  test("the login page is served in Chinese by default and in English with ?lang=en", async () => {
    const client = new AdminClient(admin.url);
    const zh = await client.request("/admin/login");
    assert.equal(zh.status, 200);
    assert.match(await zh.text(), /"language":"zh-CN"/);
    const en = await client.request("/admin/login?lang=en");
    assert.match(await en.text(), /"language":"en"/);
    assert.equal(client.cookie("coursepay_lang"), "en");
  });

  test("a correct password opens a server-side session; a wrong one is refused with 401", async () => {
    const staff = await createStaff(admin.prisma, "viewer");
    const client = new AdminClient(admin.url);
    const bad = await client.login(staff.email, "wrong-password");
    assert.equal(bad.status, 401);
    assert.match(await bad.text(), /邮箱或密码错误/);
    assert.equal(client.cookie(SESSION_COOKIE), undefined, "no session for a failed login");

    const ok = await client.login(staff.email.toUpperCase(), staff.password);
    assert.equal(ok.status, 302);
    assert.equal(ok.headers.get("location"), "/admin");
    const sid = decodeURIComponent(client.cookie(SESSION_COOKIE)!).slice(2).split(".")[0];
    const rows = await admin.prisma.$queryRaw<{ staff_id: string }[]>`SELECT sess->>'staffId' AS staff_id FROM staff_session WHERE sid = ${sid}`;
    assert.deepEqual(rows, [{ staff_id: String(staff.id) }]);
    const last = await admin.prisma.staffUser.findUniqueOrThrow({ where: { id: staff.id } });
    assert.ok(last.lastLoginAt, "lastLoginAt recorded");
  });

  test("five wrong passwords for one email from one IP → 429, even with the right password; other emails unaffected", async () => {
    const target = await createStaff(admin.prisma, "admin");
    const other = await createStaff(admin.prisma, "viewer");
    const client = new AdminClient(admin.url);
    for (let i = 1; i <= 5; i++) {
      const r = await client.login(target.email, `guess-${i}`);
      assert.equal(r.status, 401, `attempt ${i}`);
      await r.arrayBuffer();
    }
    const limited = await client.login(target.email, target.password);
    assert.equal(limited.status, 429);
    assert.match(await limited.text(), /登录失败次数过多/);
    assert.ok(limited.headers.get("ratelimit-policy"), "standard RateLimit headers");
    // The counter is per IP + email: another account still logs in.
    await new AdminClient(admin.url).loginOk(other);
  });

  test("successful logins are not counted", async () => {
    const staff = await createStaff(admin.prisma, "viewer");
    for (let i = 0; i < 7; i++) await new AdminClient(admin.url).loginOk(staff);
  });

  test("every login gets a new session id (no fixation)", async () => {
    const staff = await createStaff(admin.prisma, "viewer");
    const client = new AdminClient(admin.url);
    await client.loginOk(staff);
    const first = client.cookie(SESSION_COOKIE);
    await client.loginOk(staff);
    assert.notEqual(client.cookie(SESSION_COOKIE), first);
  });
});

describe("session cookie", () => {
  test("over http: HttpOnly, SameSite=Lax, scoped to /admin, not Secure", async () => {
    const staff = await createStaff(admin.prisma, "viewer");
    const client = new AdminClient(admin.url);
    await client.loginOk(staff);
    const attrs = cookieAttrs(client.lastSetCookie, SESSION_COOKIE);
    assert.ok(attrs.includes("httponly"));
    assert.ok(attrs.includes("samesite=lax"));
    assert.ok(attrs.includes("path=/admin"));
    assert.ok(!attrs.includes("secure"));
  });

  test("with an https public URL (behind a TLS proxy): Secure as well", async () => {
    const https = await startAdmin({ name: "admin-auth-https", env: { ADMIN_PUBLIC_URL: "https://admin.shop.test" } });
    try {
      const staff = await createStaff(https.prisma, "viewer");
      const client = new AdminClient(https.url, { "x-forwarded-proto": "https" });
      await client.loginOk(staff);
      const attrs = cookieAttrs(client.lastSetCookie, SESSION_COOKIE);
      assert.ok(attrs.includes("secure"));
      assert.ok(attrs.includes("httponly"));
      assert.ok(attrs.includes("samesite=lax"));
    } finally {
      await https.close();
    }
  });
});

describe("session lifetime", () => {
  test("without a session, pages redirect to the login and the API answers 401", async () => {
    const client = new AdminClient(admin.url);
    const page = await client.request("/admin/resources/Order");
    assert.equal(page.status, 302);
    assert.equal(page.headers.get("location"), "/admin/login");
    const api = await client.json("/admin/api/resources/Order/actions/list");
    assert.equal(api.status, 401);
  });

  test("logout deletes the session: the old cookie no longer works", async () => {
    const staff = await createStaff(admin.prisma, "viewer");
    const client = new AdminClient(admin.url);
    await client.loginOk(staff);
    const cookie = client.cookie(SESSION_COOKIE)!;
    assert.equal((await client.json("/admin/api/resources/Order/actions/list")).status, 200);
    const out = await client.request("/admin/logout", { method: "POST" });
    assert.equal(out.status, 302);
    assert.equal(out.headers.get("location"), "/admin/login");
    assert.equal(client.cookie(SESSION_COOKIE), undefined, "cookie cleared");
    const replay = new AdminClient(admin.url, { cookie: `${SESSION_COOKIE}=${cookie}` });
    assert.equal((await replay.json("/admin/api/resources/Order/actions/list")).status, 401);
  });

  test("a disabled account loses access on its next request", async () => {
    const staff = await createStaff(admin.prisma, "operator");
    const client = new AdminClient(admin.url);
    await client.loginOk(staff);
    await admin.prisma.staffUser.update({ where: { id: staff.id }, data: { disabled: true } });
    assert.equal((await client.json("/admin/api/resources/Order/actions/list")).status, 401);
    const again = await client.login(staff.email, staff.password);
    assert.equal(again.status, 401);
  });
});
