// The edges an attacker touches first: security headers on every kind of response, body size limits,
// rate limits on login and order creation, and the admin's defence against cross-site requests
// riding on the staff session cookie (SameSite=Lax cookie + Origin/Referer check on writes).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createApiApp } from "../../../api/app.ts";
import { BUYER_LIMITS } from "../../../api/rate-limits.ts";
import { RoleLifecycle } from "../../../core/runtime/index.ts";
import type { RoleContext } from "../../../core/runtime/role.ts";
import { UNVERIFIED_BODY_KEEP_CHARS } from "../../../core/orders/inbox.ts";
import { startStack, type Stack } from "../../support/index.ts";
import { AdminClient, createStaff, startAdmin, type AdminUnderTest, type TestStaff } from "../admin/support.ts";
import { serve } from "./serve.ts";

let stack: Stack;
let admin: AdminUnderTest;
let operator: TestStaff;

before(async () => {
  stack = await startStack({ name: "security-edges", worker: false });
  admin = await startAdmin({ name: "security-edges", stack });
  operator = await createStaff(admin.prisma, "operator", "edges");
});
after(async () => {
  await admin?.close();
  await stack?.close();
});

function assertHardened(what: string, res: Response, opts: { inlineScripts?: boolean } = {}) {
  const h = res.headers;
  assert.equal(h.get("x-powered-by"), null, `${what}: no X-Powered-By`);
  assert.equal(h.get("x-content-type-options"), "nosniff", `${what}: nosniff`);
  assert.equal(h.get("x-frame-options"), "SAMEORIGIN", `${what}: X-Frame-Options`);
  const csp = h.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'self'/, `${what}: CSP default-src`);
  assert.match(csp, /frame-ancestors 'self'/, `${what}: CSP frame-ancestors`);
  assert.match(csp, /object-src 'none'/, `${what}: CSP object-src`);
  const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? "";
  if (opts.inlineScripts) assert.match(scriptSrc, /'self'/);
  else assert.equal(scriptSrc.trim(), "'self'", `${what}: scripts only from this origin`);
  assert.ok(h.get("referrer-policy"), `${what}: Referrer-Policy`);
  assert.ok(h.get("cross-origin-opener-policy"), `${what}: COOP`);
}

describe("security headers", () => {
  test("on the api's JSON, pages, documentation, callbacks and errors", async () => {
    const responses: [string, Promise<Response>][] = [
      ["JSON", fetch(`${stack.apiUrl}/courses`)],
      ["page", fetch(`${stack.apiUrl}/`, { headers: { accept: "text/html" } })],
      ["API docs page", fetch(`${stack.apiUrl}/api/docs`)],
      ["OpenAPI document", fetch(`${stack.apiUrl}/api/openapi.json`)],
      ["notify", fetch(`${stack.apiUrl}/alipay/notify`, { method: "POST", body: "a=b" })],
      ["return", fetch(`${stack.apiUrl}/alipay/return?a=b`)],
      ["404", fetch(`${stack.apiUrl}/nope`)],
      ["401", fetch(`${stack.apiUrl}/orders`, { headers: { accept: "application/json" } })],
    ];
    for (const [what, p] of responses) {
      const res = await p;
      await res.arrayBuffer();
      assertHardened(`api ${what}`, res);
      assert.ok(res.headers.get("x-request-id"), `api ${what}: X-Request-Id`);
    }
  });

  test("on the admin's pages (AdminJS needs its inline bootstrap script; everything else is locked)", async () => {
    const res = await fetch(`${admin.url}/admin/login`);
    await res.arrayBuffer();
    assertHardened("admin login", res, { inlineScripts: true });
    assert.equal(res.headers.get("referrer-policy"), "same-origin", "keeps Origin on same-origin posts, leaks nothing off-site");
  });
});

describe("body size limits", () => {
  test("api JSON bodies above 16 kB, notifies above NOTIFY_BODY_LIMIT_BYTES and admin logins above 8 kB are refused with 413", async () => {
    const big = JSON.stringify({ email: "a@b.example", password: "x".repeat(17 * 1024) });
    const api = await fetch(`${stack.apiUrl}/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: big });
    assert.equal(api.status, 413);
    assert.equal(((await api.json()) as { error: string }).error, "request body too large");

    const limit = stack.config.limits.notifyBodyBytes;
    const marker = `limit${randomBytes(4).toString("hex")}`; // finds this test's rows among the run's
    const notify = await fetch(`${stack.apiUrl}/alipay/notify`, { method: "POST", body: `${marker}=${"y".repeat(limit - marker.length)}` });
    assert.deepEqual([notify.status, await notify.text()], [413, "failure"]);
    const atLimit = await fetch(`${stack.apiUrl}/alipay/notify`, { method: "POST", body: `${marker}=${"y".repeat(limit - marker.length - 1)}` });
    assert.deepEqual([atLimit.status, await atLimit.text()], [400, "failure"], "a body of exactly the limit is read (and rejected as unsigned)");
    const rows = await stack.prisma.paymentNotification.findMany({ where: { rawBody: { startsWith: marker } }, select: { rawBody: true } });
    assert.equal(rows.length, 1, "the oversized one never reached intake");
    // An unverified body is stored truncated (core/orders/inbox.ts storedBody): anyone can post one.
    assert.ok(rows[0]!.rawBody.length < UNVERIFIED_BODY_KEEP_CHARS + 100, `${rows[0]!.rawBody.length} characters kept`);
    assert.match(rows[0]!.rawBody, new RegExp(`${limit - UNVERIFIED_BODY_KEEP_CHARS} more characters not kept\\]$`));

    const login = await fetch(`${admin.url}/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `email=a%40b.example&password=${"x".repeat(9 * 1024)}`,
    });
    assert.equal(login.status, 413);
    await login.arrayBuffer();
  });
});

describe("rate limits", () => {
  const login = (email: string, password: string, headers: Record<string, string> = {}) =>
    stack.fetchApi("/auth/login", { method: "POST", body: JSON.stringify({ email, password }), headers });

  test("failed logins are limited per (address, account): a brute force is throttled, other accounts are not", async () => {
    const buyer = await stack.newBuyer();
    const { limit } = BUYER_LIMITS.loginFailuresPerAddressAndAccount;
    for (let i = 0; i < limit; i++) assert.equal((await login(buyer.email, `wrong ${i}`)).status, 401);
    const limited = await login(buyer.email, "correct horse battery");
    assert.equal(limited.status, 429, "even the right password waits for the window, from this address");
    assert.ok(limited.headers.get("retry-after"), "says when to come back");
    assert.match(limited.headers.get("ratelimit-policy") ?? "", new RegExp(`q=${limit}`));
    assert.equal(((await limited.json()) as { error: string }).error, "too many requests; try again later");
    // Case and spaces do not make a new account key.
    assert.equal((await login(`  ${buyer.email.toUpperCase()} `, "wrong again")).status, 429);
    const other = await stack.newBuyer();
    assert.equal((await login(other.email, "correct horse battery")).status, 200, "another account is unaffected");
  });

  test("a stranger failing on purpose from another address cannot lock a buyer out", async () => {
    // The api believes X-Forwarded-For only behind an https public URL (a TLS terminator on a
    // private address): a second api configured so stands for the real deployment, and the
    // stranger's and the buyer's requests arrive with different client addresses.
    const ctx: RoleContext = {
      role: "api", config: { ...stack.config, urls: { ...stack.config.urls, api: "https://shop.example" } }, logger: stack.logger, prisma: stack.prisma,
      redis: { status: "ready", ping: async () => "PONG" } as unknown as RoleContext["redis"], lifecycle: new RoleLifecycle("api-proxied", stack.logger),
    };
    const proxied = await serve(createApiApp(ctx, stack.api));
    try {
      const buyer = await stack.newBuyer();
      const as = (ip: string, password: string) =>
        fetch(`${proxied.url}/auth/login`, { method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": ip }, body: JSON.stringify({ email: buyer.email, password }) });
      const { limit } = BUYER_LIMITS.loginFailuresPerAddressAndAccount;
      for (let i = 0; i < limit + 3; i++) await (await as("203.0.113.66", `wrong ${i}`)).arrayBuffer();
      assert.equal((await as("203.0.113.66", "correct horse battery")).status, 429, "the stranger is throttled");
      assert.equal((await as("198.51.100.7", "correct horse battery")).status, 200, "the buyer, from their own address, logs in");
    } finally {
      await proxied.close();
    }
  });

  test("successful logins are not counted", async () => {
    const buyer = await stack.newBuyer();
    for (let i = 0; i < BUYER_LIMITS.loginFailuresPerAddressAndAccount.limit + 2; i++) {
      assert.equal((await login(buyer.email, "correct horse battery")).status, 200);
    }
  });

  test("order creation is limited per buyer", async () => {
    const buyer = await stack.newBuyer();
    const course = await stack.newCourse(100);
    const order = () => stack.fetchApi("/orders", { method: "POST", token: buyer.token, body: JSON.stringify({ courseIds: [course.id] }) });
    const { limit } = BUYER_LIMITS.ordersPerBuyer;
    const statuses = [];
    for (let i = 0; i < limit; i++) statuses.push((await order()).status);
    assert.deepEqual(new Set(statuses), new Set([201]));
    assert.equal((await order()).status, 429);
    assert.equal(await stack.prisma.order.count({ where: { buyerId: buyer.id } }), limit, "the refused order was not created");
    const other = await stack.newBuyer();
    assert.equal((await stack.fetchApi("/orders", { method: "POST", token: other.token, body: JSON.stringify({ courseIds: [course.id] }) })).status, 201);
  });
});

describe("admin: cross-site request forgery", () => {
  let orderId: number;
  let client: AdminClient;
  const events = () => admin.prisma.orderEvent.count({ where: { orderId } });
  const checkPayment = (headers: Record<string, string>) =>
    client.request(`/admin/api/resources/Order/records/${orderId}/checkPayment`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: "{}",
    });

  before(async () => {
    const buyer = await stack.newBuyer();
    const course = await stack.newCourse(4400);
    orderId = (await stack.placeOrder(buyer, [course.id])).order.id;
    client = await new AdminClient(admin.url).loginOk(operator);
  });

  test("the session cookie is HttpOnly, SameSite=Lax and scoped to /admin", async () => {
    const fresh = new AdminClient(admin.url);
    await fresh.loginOk(operator);
    const cookie = fresh.lastSetCookie.find((c) => c.startsWith("coursepay_admin="));
    assert.ok(cookie, "a session cookie is set at login");
    assert.match(cookie, /;\s*HttpOnly/i);
    assert.match(cookie, /;\s*SameSite=Lax/i);
    assert.match(cookie, /;\s*Path=\/admin/i);
  });

  test("a state-changing request from another origin is refused before anything runs", async () => {
    const before = await events();
    for (const headers of <Record<string, string>[]>[
      { origin: "https://evil.example" },
      { origin: "null" }, // sandboxed frames, data: URLs
      { referer: "https://evil.example/page" },
      { origin: `${admin.url}.evil.example` },
    ]) {
      const r = await checkPayment(headers);
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.doesNotMatch(await r.text(), /<script|stack|at /);
    }
    assert.equal(await events(), before, "no command ran");
  });

  test("the same request from the admin's own pages goes through", async () => {
    const before = await events();
    const r = await checkPayment({ origin: admin.url, referer: `${admin.url}/admin/resources/Order/records/${orderId}/show` });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    assert.equal(await events(), before + 1, "the staff check left its audit event");
  });

  test("the login form cannot be posted from another site (login CSRF)", async () => {
    const r = await fetch(`${admin.url}/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
      body: new URLSearchParams({ email: operator.email, password: operator.password }).toString(),
      redirect: "manual",
    });
    assert.equal(r.status, 403);
    assert.equal(r.headers.getSetCookie().length, 0, "no session handed out");
  });

  test("an API client without a session gets 401 JSON, not the login page", async () => {
    const anon = new AdminClient(admin.url);
    const r = await anon.json(`/admin/api/resources/Order/records/${orderId}/checkPayment`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(r.status, 401);
  });
});

describe("buyer API authentication is not cookie-based", () => {
  test("no api response sets a cookie other than the language preference", async () => {
    const email = `nocookie-${randomBytes(4).toString("hex")}@test.local`;
    const reg = await stack.fetchApi("/auth/register", { method: "POST", body: JSON.stringify({ email, password: "long enough pw" }) });
    const log = await stack.fetchApi("/auth/login", { method: "POST", body: JSON.stringify({ email, password: "long enough pw" }) });
    for (const r of [reg, log]) {
      assert.deepEqual(r.headers.getSetCookie(), [], "identity travels only as a bearer token: no CSRF surface");
      await r.arrayBuffer();
    }
  });
});
