// Helpers for the admin's integration and browser tests: the admin app in-process on port 0 against
// the test run's PostgreSQL and Redis, staff accounts, and a cookie-keeping HTTP client.
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { PrismaClient, StaffRole } from "@prisma/client";
import { createAdminApp, type AdminAppOptions } from "../../../admin/app.ts";
import { hashPassword } from "../../../core/auth/password.ts";
import { loadConfig, type Config } from "../../../core/config/index.ts";
import { createPrisma } from "../../../core/db/index.ts";
import { createLogger } from "../../../core/logging/index.ts";
import { createRedis } from "../../../core/redis/index.ts";
import { RoleLifecycle, closeServer, listen } from "../../../core/runtime/index.ts";
import type { RoleContext } from "../../../core/runtime/role.ts";
import { testRedisPrefix, type Stack } from "../../support/index.ts";

const keys = path.resolve(import.meta.dirname, "../../fixtures/keys");

export interface AdminUnderTest {
  url: string;
  config: Config;
  prisma: PrismaClient;
  ctx: RoleContext;
  close(): Promise<void>;
}

/**
 * Starts the admin app. With a `stack`, it shares the stack's configuration (its sandbox gateway,
 * keys and Redis prefix, so commands reach the sandbox and the worker's queues).
 */
export async function startAdmin(opts: { name: string; env?: Record<string, string>; stack?: Stack; app?: AdminAppOptions }): Promise<AdminUnderTest> {
  const base: NodeJS.ProcessEnv = opts.stack
    ? { ...opts.stack.env }
    : {
        NODE_ENV: "test",
        DATABASE_URL: process.env.DATABASE_URL,
        REDIS_URL: process.env.REDIS_URL,
        REDIS_PREFIX: testRedisPrefix(opts.name),
        ALIPAY_APP_PRIVATE_KEY_FILE: path.join(keys, "app_private_key.pem"),
        ALIPAY_PUBLIC_KEY_FILE: path.join(keys, "alipay_public_key.pem"),
      };
  const config = loadConfig({ ...base, LOG_LEVEL: process.env.LOG_LEVEL ?? "silent", ...opts.env });
  const logger = createLogger(`admin-test:${opts.name}`, config.logLevel);
  const lifecycle = new RoleLifecycle("admin", logger);
  const prisma = createPrisma(config.databaseUrl, { poolSize: 5 });
  lifecycle.onShutdown("database", () => prisma.$disconnect());
  const redis = createRedis(config.redisUrl);
  redis.on("error", () => {});
  lifecycle.onShutdown("redis", () => redis.quit().catch(() => redis.disconnect()));
  const ctx: RoleContext = { role: "admin", config, logger, prisma, redis, lifecycle };
  const app = await createAdminApp(ctx, opts.app);
  const server = createServer(app);
  const port = await listen(server, 0, "127.0.0.1");
  lifecycle.onShutdown("http", () => {
    const closed = closeServer(server);
    server.closeAllConnections();
    return closed;
  });
  return { url: `http://127.0.0.1:${port}`, config, prisma, ctx, close: () => lifecycle.shutdown() };
}

export interface TestStaff {
  id: number;
  email: string;
  password: string;
  role: StaffRole;
}

export async function createStaff(prisma: PrismaClient, role: StaffRole, tag: string = role): Promise<TestStaff> {
  const email = `${tag}-${randomBytes(4).toString("hex")}@staff.test`;
  const password = randomBytes(12).toString("base64url");
  const s = await prisma.staffUser.create({ data: { email, role, passwordHash: await hashPassword(password) } });
  return { id: s.id, email, password, role };
}

/** A minimal browser: keeps cookies, never follows redirects (tests look at them). */
export class AdminClient {
  private jar = new Map<string, string>();
  /** Raw Set-Cookie headers of the last response. */
  lastSetCookie: string[] = [];

  constructor(readonly baseUrl: string, private readonly headers: Record<string, string> = {}) {}

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  async request(pathname: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers({ ...this.headers, ...(init.headers as Record<string, string> | undefined) });
    if (this.jar.size) headers.set("cookie", [...this.jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(`${this.baseUrl}${pathname}`, { ...init, headers, redirect: "manual" });
    this.lastSetCookie = res.headers.getSetCookie();
    for (const c of this.lastSetCookie) {
      const [pair, ...attrs] = c.split(";");
      const [name, ...value] = pair.split("=");
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired) this.jar.delete(name.trim());
      else this.jar.set(name.trim(), value.join("="));
    }
    return res;
  }

  login(email: string, password: string): Promise<Response> {
    return this.request("/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email, password }).toString(),
    });
  }

  /** Logs in and fails the test unless the login was accepted. */
  async loginOk(staff: { email: string; password: string }): Promise<this> {
    const res = await this.login(staff.email, staff.password);
    await res.arrayBuffer();
    if (res.status !== 302 || res.headers.get("location") !== "/admin") throw new Error(`login of ${staff.email} refused: ${res.status}`);
    return this;
  }

  async json<T = unknown>(pathname: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const res = await this.request(pathname, { ...init, headers: { accept: "application/json", ...(init.headers as Record<string, string> | undefined) } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
}

/** A buyer and an order row written directly (no Alipay involved), for list/export tests. */
export async function seedOrders(
  prisma: PrismaClient,
  rows: { status?: "UNPAID" | "PAID" | "CLOSED"; totalFen?: number; createdAt?: Date; subject?: string; tradeNo?: string }[],
): Promise<{ buyer: { id: number; email: string }; orders: { id: number; outTradeNo: string }[] }> {
  const email = `buyer-${randomBytes(4).toString("hex")}@buyer.test`;
  const buyer = await prisma.user.create({ data: { email, passwordHash: "x" } });
  const orders = [];
  for (const r of rows) {
    const o = await prisma.order.create({
      data: {
        outTradeNo: `t_${randomBytes(8).toString("hex")}`,
        buyerId: buyer.id,
        subject: r.subject ?? "课程 / course",
        totalFen: r.totalFen ?? 9900,
        status: r.status ?? "UNPAID",
        tradeNo: r.tradeNo ?? null,
        expiresAt: new Date(Date.now() + 30 * 60_000),
        createdAt: r.createdAt,
        paidAt: r.status === "PAID" ? new Date() : null,
      },
    });
    orders.push({ id: o.id, outTradeNo: o.outTradeNo });
  }
  return { buyer: { id: buyer.id, email }, orders };
}
