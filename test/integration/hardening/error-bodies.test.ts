// Error responses say what the caller can act on and nothing more: no stack trace, no file path, no
// SQL, no driver message, no configuration, no secret. Errors are forced two ways: hostile requests
// against a healthy api, and every route of an api (and an admin) whose database is unreachable.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createApiApp } from "../../../api/app.ts";
import { createPrisma } from "../../../core/db/index.ts";
import { createOrderDeps } from "../../../core/orders/index.ts";
import { RoleLifecycle } from "../../../core/runtime/index.ts";
import type { RoleContext } from "../../../core/runtime/role.ts";
import { startStack, type Stack } from "../../support/index.ts";
import { startAdmin, type AdminUnderTest } from "../admin/support.ts";
import { serve } from "./serve.ts";
import { noMetrics } from "../../../core/metrics/port.ts";

// A database URL whose password must never be echoed, on a port where nothing listens.
const DB_PASSWORD = "db-password-never-shown";
const BROKEN_DATABASE_URL = `postgresql://coursepay:${DB_PASSWORD}@127.0.0.1:9/coursepay`;

let stack: Stack;
before(async () => {
  stack = await startStack({ name: "error-bodies", worker: false });
});
after(async () => {
  await stack?.close();
});

/** What must never be in a response body. */
function assertNothingInternal(what: string, body: string) {
  const forbidden: [string, RegExp][] = [
    ["a stack frame", /\n\s+at\s|\bat\s+\S+\s+\(|\bat\s+(async\s+)?file:/],
    ["a source path", /\/work\/|node_modules|[\w-]+\.(ts|js|mjs|cjs):\d+/],
    ["an error class name", /\b(TypeError|ReferenceError|SyntaxError|PrismaClient\w*Error|DriverAdapterError)\b/],
    ["a driver or network detail", /ECONNREFUSED|ECONNRESET|prisma|postgres|redis|ioredis|bullmq|\bpg\b/i],
    ["SQL", /\b(SELECT|INSERT|UPDATE)\b.+\b(FROM|INTO|SET)\b/i],
    ["a secret", new RegExp([DB_PASSWORD, stack.config.secrets.token, stack.config.secrets.session].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"))],
    ["key material", /-----BEGIN|MII[A-Za-z0-9+/]{20}/],
  ];
  for (const [name, re] of forbidden) assert.doesNotMatch(body, re, `${what}: the body contains ${name}:\n${body}`);
}

async function call(base: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, { redirect: "manual", ...init });
  return { status: res.status, type: res.headers.get("content-type") ?? "", retryAfter: res.headers.get("retry-after"), body: await res.text() };
}

describe("hostile requests against a healthy api", () => {
  const cases: [string, string, RequestInit, number][] = [
    ["malformed JSON", "/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: '{"email": "a@b.c", "password": ' }, 400],
    ["JSON of the wrong shape", "/auth/register", { method: "POST", headers: { "content-type": "application/json" }, body: '{"email": {"$gt": ""}, "password": [1]}' }, 400],
    ["an oversized JSON body", "/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pad: "x".repeat(100_000) }) }, 413],
    ["a JSON body in an unexpected charset", "/auth/login", { method: "POST", headers: { "content-type": "application/json; charset=x-klingon" }, body: "{}" }, 415],
    ["a broken percent-escape in the path", "/orders/%E0%A4%A", { headers: { authorization: "Bearer v1.x.y" } }, 400],
    ["a forged token", "/orders", { headers: { authorization: "Bearer v1.eyJzdWIiOjF9.AAAA" } }, 401],
    ["an order id out of range", "/orders/99999999999999999999", { headers: { authorization: "Bearer v1.x.y" } }, 401],
    ["an unknown route", "/nope/../../etc/passwd", {}, 404],
    ["an unknown method", "/courses", { method: "DELETE" }, 404],
    ["an oversized notify", "/alipay/notify", { method: "POST", body: "a=".padEnd(70_000, "b") }, 413],
    ["a garbage notify", "/alipay/notify", { method: "POST", body: "%%%\u0000\u00ff" }, 400],
    ["a garbage return", "/alipay/return?%zz=1&sign=%%", {}, 400],
  ];
  for (const [what, path, init, status] of cases) {
    test(`${what} → ${status}, with a short body`, async () => {
      const r = await call(stack.apiUrl, path, init);
      assert.equal(r.status, status, r.body);
      assertNothingInternal(what, r.body);
      if (r.type.startsWith("application/json")) {
        const body = JSON.parse(r.body) as { error?: unknown; requestId?: unknown };
        assert.equal(typeof body.error, "string");
      }
    });
  }

  test("a bad order id with a valid token is 404, not a parse error", async () => {
    const buyer = await stack.newBuyer();
    for (const id of ["abc", "-1", "1.5", "99999999999999999999", "%E0%A4%A"]) {
      const r = await call(stack.apiUrl, `/orders/${id}`, { headers: { authorization: `Bearer ${buyer.token}`, accept: "application/json" } });
      assert.ok(r.status === 404 || r.status === 400, `${id}: ${r.status} ${r.body}`);
      assertNothingInternal(`/orders/${id}`, r.body);
    }
  });
});

describe("every route while the database is unreachable", () => {
  let api: { url: string; close(): Promise<void> };
  let brokenLifecycle: RoleLifecycle;
  let admin: AdminUnderTest | null = null;

  before(async () => {
    const prisma = createPrisma(BROKEN_DATABASE_URL, { poolSize: 2 });
    brokenLifecycle = new RoleLifecycle("api-broken", stack.logger);
    brokenLifecycle.onShutdown("database", () => prisma.$disconnect());
    const config = { ...stack.config, databaseUrl: BROKEN_DATABASE_URL };
    const ctx: RoleContext = { role: "api", config, logger: stack.logger, prisma, redis: createRedisStub(), lifecycle: brokenLifecycle };
    const orders = createOrderDeps({ prisma, config, logger: stack.logger, queues: stack.api.queues, metrics: noMetrics });
    api = await serve(createApiApp(ctx, { queues: stack.api.queues, orders }));
    admin = await startAdmin({ name: "error-bodies-admin", stack, env: { DATABASE_URL: BROKEN_DATABASE_URL } });
  });
  after(async () => {
    await api?.close();
    await brokenLifecycle?.shutdown();
    await admin?.close();
  });

  test("the api answers 503 with Retry-After, a generic body and the request id", async () => {
    const buyer = await stack.newBuyer(); // a token made by the healthy api: same secret
    const json = { "content-type": "application/json", accept: "application/json" };
    const requests: [string, RequestInit][] = [
      ["/courses", {}],
      ["/auth/register", { method: "POST", headers: json, body: JSON.stringify({ email: "x@y.example", password: "long enough" }) }],
      ["/auth/login", { method: "POST", headers: json, body: JSON.stringify({ email: "x@y.example", password: "long enough" }) }],
      ["/orders", { headers: { ...json, authorization: `Bearer ${buyer.token}` } }],
      ["/orders", { method: "POST", headers: { ...json, authorization: `Bearer ${buyer.token}` }, body: JSON.stringify({ courseIds: [1] }) }],
      ["/orders/1", { headers: { ...json, authorization: `Bearer ${buyer.token}` } }],
      ["/orders/1/cancel", { method: "POST", headers: { ...json, authorization: `Bearer ${buyer.token}` } }],
      ["/", { headers: { accept: "text/html" } }],
      ["/alipay/return?out_trade_no=x&sign=y", {}],
    ];
    for (const [path, init] of requests) {
      const r = await call(api.url, path, init);
      // PostgreSQL being down is not the request's fault nor a bug: 503 with Retry-After (issue 10).
      assert.equal(r.status, 503, `${init.method ?? "GET"} ${path}: ${r.status} ${r.body}`);
      assert.match(r.retryAfter ?? "", /^\d+$/, `${path}: Retry-After`);
      assertNothingInternal(path, r.body);
      assert.match(r.type, /^application\/json/);
      const body = JSON.parse(r.body) as { error: string; requestId: string };
      assert.equal(body.error, "service temporarily unavailable; try again shortly");
      assert.match(body.requestId, /^[0-9a-f-]{36}$/);
    }
    const notify = await call(api.url, "/alipay/notify", { method: "POST", body: "out_trade_no=x&sign=y" });
    assert.deepEqual([notify.status, notify.body], [503, "failure"], "Alipay is asked to retry, and told nothing else");
    const ready = await call(api.url, "/readyz");
    assert.equal(ready.status, 503);
    assert.doesNotMatch(ready.body, new RegExp(DB_PASSWORD), "readiness names what is down, never its credentials");
  });

  test("the admin answers 5xx with a generic body", async () => {
    const login = await call(admin!.url, "/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "email=staff%40example.com&password=whatever-it-is",
    });
    assert.ok(login.status >= 500, `${login.status} ${login.body}`);
    assertNothingInternal("admin login", login.body);
  });
});

/** Readiness needs a Redis client; this one is never ready (the broken api's readiness is about the database). */
function createRedisStub(): RoleContext["redis"] {
  return { status: "end", ping: async () => "PONG" } as unknown as RoleContext["redis"];
}
