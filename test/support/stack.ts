// startStack(): the whole payment pipeline in one process, on port 0 — the sandbox gateway, the api
// and (optionally) a worker — against the test run's PostgreSQL and Redis (DATABASE_URL, REDIS_URL,
// REDIS_PREFIX from scripts/test.ts), with throwaway keys. For integration tests, e2e tests and benches.
//
//   const stack = await startStack({ name: "happy-path" });
//   const buyer = await stack.newBuyer();
//   const { order, payUrl } = await stack.placeOrder(buyer, [course.id]);
//   await stack.payAtSandbox(order.outTradeNo, payUrl);
//   await stack.waitForStatus(order.id, "PAID");
//   await stack.close();
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Course, Order, OrderStatus, PrismaClient } from "@prisma/client";
import type { Logger } from "pino";
import { createApiApp, createApiServices, type ApiServices } from "../../api/app.ts";
import { generateRsaKeyPair } from "../../core/alipay/keys.ts";
import { loadConfig, type Config } from "../../core/config/index.ts";
import { createPrisma } from "../../core/db/index.ts";
import { createLogger } from "../../core/logging/index.ts";
import { createRedis } from "../../core/redis/index.ts";
import { RoleLifecycle, closeServer, listen } from "../../core/runtime/index.ts";
import type { RoleContext } from "../../core/runtime/role.ts";
import { createSandbox, type Sandbox, type SandboxOptions } from "../../sandbox/app.ts";
import { SandboxControl } from "../../sandbox/control-client.ts";
import { startWorker, type RunningWorker, type WorkerOptions } from "../../worker/start.ts";
import { CONDITION_CEILING_MS, waitFor } from "./wait.ts";

export interface StackOptions {
  /** Names the Redis prefix (`<REDIS_PREFIX>_<name>`) and log lines. */
  name: string;
  /** Run a worker in this process (default true). */
  worker?: boolean | WorkerOptions;
  /** Extra environment for the roles, e.g. { RECONCILE_INTERVAL_SECONDS: "1" }. */
  env?: Record<string, string>;
  /** Use this Redis instead of the run's (e.g. a PrivateRedis the test stops and starts). */
  redisUrl?: string;
  /** Sandbox options (timeFactor scales its notify retry schedule; default 0.001: 4 min → 0.24 s). */
  sandbox?: Partial<Pick<SandboxOptions, "timeFactor" | "notifyTimeoutMs" | "retryScheduleMs">>;
  /** PostgreSQL pool size of the in-process roles (default 10). */
  poolSize?: number;
  /**
   * Certificate mode (公钥证书模式): the sandbox runs its CA (files in a temp data dir) and the roles
   * are configured with ALIPAY_APP_CERT_FILE / ALIPAY_CERT_FILE / ALIPAY_ROOT_CERT_FILE instead of
   * ALIPAY_PUBLIC_KEY.
   */
  certMode?: boolean;
}

export interface TestBuyer {
  id: number;
  email: string;
  token: string;
}

export interface Stack {
  name: string;
  apiUrl: string;
  sandboxUrl: string;
  /** The environment the roles were configured from: spawn child roles (worker/main.ts) with it. */
  env: NodeJS.ProcessEnv;
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
  sandbox: Sandbox;
  control: SandboxControl;
  /** The sandbox's Alipay private key: sign notifies the merchant will accept (buildSignedNotify). */
  alipayPrivateKey: string;
  api: ApiServices;
  worker: RunningWorker | null;
  /** Start a(nother) in-process worker, closed with the stack. */
  startWorker(options?: WorkerOptions): Promise<RunningWorker>;
  newBuyer(): Promise<TestBuyer>;
  newCourse(priceFen?: number): Promise<Course>;
  /** POST /orders through the api (`channel` / `userAgent`: which cashier, wap pay for phones). */
  placeOrder(buyer: TestBuyer, courseIds: number[], opts?: { channel?: "page" | "wap"; userAgent?: string }): Promise<{ order: { id: number; outTradeNo: string; totalFen: number; status: OrderStatus }; payUrl: string }>;
  /** A new buyer's order for one new course at this price, placed through the api and left unpaid. */
  unpaidOrder(priceFen?: number): Promise<Awaited<ReturnType<Stack["placeOrder"]>> & { buyer: TestBuyer }>;
  /** Open the pay URL at the sandbox, log in at the cashier (creates the trade) and pay without a browser. */
  payAtSandbox(outTradeNo: string, payUrl: string): Promise<{ returnUrl: string | null }>;
  /** fetch against the api with an optional bearer token. */
  fetchApi(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  /** POST a raw body to /alipay/notify. */
  postNotify(body: string | Record<string, string>): Promise<{ status: number; text: string }>;
  waitForStatus(orderId: number, status: OrderStatus, timeoutMs?: number): Promise<Order>;
  close(): Promise<void>;
}

let keyCache: { app: ReturnType<typeof generateRsaKeyPair>; alipay: ReturnType<typeof generateRsaKeyPair> } | null = null;
/** Throwaway key pairs, one set per process (RSA generation costs ~100 ms each). */
function throwawayKeys() {
  keyCache ??= { app: generateRsaKeyPair(), alipay: generateRsaKeyPair() };
  return keyCache;
}

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run tests through scripts/test.ts (npx tsx scripts/test.ts integration)`);
  return v;
}

/** Per-address limits for test stacks, whose every request comes from 127.0.0.1. */
export const TEST_ADDRESS_LIMITS = {
  REGISTER_LIMIT_PER_ADDRESS: "100000",
  NOTIFY_REJECTED_LIMIT_PER_ADDRESS: "100000",
  RETURN_LIMIT_PER_ADDRESS: "100000",
} as const;

/** `<REDIS_PREFIX>_<name>`: one key space per test file (and per stack), removed with the run's prefix. */
export function testRedisPrefix(name: string): string {
  const base = process.env.REDIS_PREFIX ?? "coursepay_test";
  return `${base}_${name.replace(/[^A-Za-z0-9_.-]/g, "_")}_${randomBytes(2).toString("hex")}`;
}

/** Fail a start-up step that would otherwise wait forever (roles retry Redis indefinitely by design). */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

/** An http server whose handler is set after it listens: the api's own URL must be known to configure it. */
function deferredServer(): { server: Server; setHandler(h: (req: IncomingMessage, res: ServerResponse) => void): void } {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end("starting");
  });
  return { server, setHandler: (h) => (handler = h) };
}

/** The Alipay half of the roles' configuration: the three certificate files, or the Alipay public key. */
function certModeEnv(sandbox: Sandbox): Record<string, string> {
  const certs = sandbox.gateway.certInfo();
  if (!certs) return { ALIPAY_PUBLIC_KEY: sandbox.gateway.alipayPublicKeyPem };
  return { ALIPAY_APP_CERT_FILE: certs.appCertFile!, ALIPAY_CERT_FILE: certs.alipayCertFile!, ALIPAY_ROOT_CERT_FILE: certs.alipayRootCertFile! };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const keys = throwawayKeys();
  const logLevel = (process.env.LOG_LEVEL ?? "silent") as Config["logLevel"];
  const logger = createLogger(`stack:${options.name}`, logLevel);
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch((e) => logger.warn({ err: e }, "close failed"));
  };

  try {
    // Certificate mode keeps its certificate files in a data dir the roles' config reads.
    const certDir = options.certMode ? mkdtempSync(join(tmpdir(), `coursepay-certs-${options.name.replace(/[^A-Za-z0-9_-]/g, "_")}-`)) : null;
    if (certDir) closers.push(async () => rmSync(certDir, { recursive: true, force: true }));
    const sandbox = createSandbox({
      merchantPublicKey: keys.app.publicKeyPem,
      dataDir: certDir,
      certMode: options.certMode,
      alipayKeys: keys.alipay,
      timeFactor: options.sandbox?.timeFactor ?? 0.001,
      notifyTimeoutMs: options.sandbox?.notifyTimeoutMs ?? 5000,
      retryScheduleMs: options.sandbox?.retryScheduleMs,
      logger: logger.child({ role: "sandbox" }),
    });
    const sb = await sandbox.listen(0);
    closers.push(() => sandbox.close());

    const api = deferredServer();
    const apiPort = await listen(api.server, 0, "127.0.0.1");
    // Closed before the database and Redis (see below); until then, this closes it on a failed start.
    let apiServerClosed = false;
    const closeApiServer = async () => {
      if (apiServerClosed) return;
      apiServerClosed = true;
      const done = closeServer(api.server);
      api.server.closeAllConnections();
      await done;
    };
    closers.push(closeApiServer);
    const apiUrl = `http://127.0.0.1:${apiPort}`;

    const env: NodeJS.ProcessEnv = {
      NODE_ENV: "test",
      LOG_LEVEL: logLevel,
      DATABASE_URL: requireEnv("DATABASE_URL"),
      REDIS_URL: options.redisUrl ?? requireEnv("REDIS_URL"),
      REDIS_PREFIX: testRedisPrefix(options.name),
      API_PORT: "0",
      WORKER_PORT: "0",
      ADMIN_PORT: "0",
      API_PUBLIC_URL: apiUrl,
      SANDBOX_PUBLIC_URL: sb.url,
      ALIPAY_GATEWAY: "sandbox",
      ALIPAY_APP_PRIVATE_KEY: keys.app.privateKeyPem,
      ...certModeEnv(sandbox),
      ALIPAY_TIMEOUT_MS: "3000",
      // Tests create buyers and send junk callbacks from 127.0.0.1 by the hundred: the per-address
      // limits of the product (core/config) would refuse them. Tests of those limits set their own.
      ...TEST_ADDRESS_LIMITS,
      ...options.env,
    };
    const config = loadConfig(env);
    const prisma = createPrisma(config.databaseUrl, { poolSize: options.poolSize ?? 10 });
    closers.push(() => prisma.$disconnect());
    const redis = createRedis(config.redisUrl);
    redis.on("error", () => {});
    closers.push(() => redis.quit().catch(() => redis.disconnect()));
    const lifecycle = new RoleLifecycle(`stack:${options.name}`, logger);
    closers.push(() => lifecycle.shutdown());
    const ctx: RoleContext = { role: "api", config, logger: logger.child({ role: "api" }), prisma, redis, lifecycle };

    const apiServices = createApiServices(ctx);
    api.setHandler(createApiApp(ctx, apiServices));
    closers.push(closeApiServer);

    const workers: RunningWorker[] = [];
    const startInProcessWorker = async (o: WorkerOptions = {}) => {
      const w = await bounded(
        startWorker({ ...ctx, role: "worker", logger: logger.child({ role: "worker" }) }, { ticks: false, ...o }),
        20_000,
        `worker did not connect to Redis at ${config.redisUrl}`,
      );
      workers.push(w);
      closers.push(() => w.close());
      return w;
    };
    const worker = options.worker === false ? null : await startInProcessWorker(typeof options.worker === "object" ? options.worker : {});
    const control = new SandboxControl(sb.url);

    const fetchApi = (path: string, init: RequestInit & { token?: string } = {}) => {
      const headers = new Headers(init.headers);
      if (init.token) headers.set("authorization", `Bearer ${init.token}`);
      if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
      return fetch(`${apiUrl}${path}`, { ...init, headers });
    };

    const stack: Stack = {
      name: options.name,
      apiUrl,
      sandboxUrl: sb.url,
      env,
      config,
      prisma,
      logger,
      sandbox,
      control,
      alipayPrivateKey: keys.alipay.privateKeyPem,
      api: apiServices,
      worker,
      startWorker: startInProcessWorker,
      fetchApi,
      async newBuyer() {
        const email = `buyer-${randomBytes(6).toString("hex")}@test.local`;
        const res = await fetchApi("/auth/register", { method: "POST", body: JSON.stringify({ email, password: "correct horse battery" }) });
        if (res.status !== 201) throw new Error(`register failed: ${res.status} ${await res.text()}`);
        const body = (await res.json()) as { token: string; buyer: { id: number } };
        return { id: body.buyer.id, email, token: body.token };
      },
      newCourse(priceFen = 9900) {
        return prisma.course.create({ data: { title: `Course ${randomBytes(3).toString("hex")}`, priceFen } });
      },
      async placeOrder(buyer, courseIds, opts = {}) {
        const res = await fetchApi("/orders", {
          method: "POST",
          token: buyer.token,
          headers: opts.userAgent ? { "user-agent": opts.userAgent } : {},
          body: JSON.stringify({ courseIds, channel: opts.channel }),
        });
        if (res.status !== 201) throw new Error(`order failed: ${res.status} ${await res.text()}`);
        return (await res.json()) as Awaited<ReturnType<Stack["placeOrder"]>>;
      },
      async unpaidOrder(priceFen = 9900) {
        const buyer = await stack.newBuyer();
        const course = await stack.newCourse(priceFen);
        return { ...(await stack.placeOrder(buyer, [course.id])), buyer };
      },
      async payAtSandbox(outTradeNo, payUrl) {
        await control.openCashier(payUrl);
        const r = await control.pay(outTradeNo);
        return { returnUrl: r.returnUrl };
      },
      async postNotify(body) {
        const text = typeof body === "string" ? body : new URLSearchParams(body).toString();
        const res = await fetch(`${apiUrl}/alipay/notify`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, body: text });
        return { status: res.status, text: await res.text() };
      },
      waitForStatus(orderId, status, timeoutMs = CONDITION_CEILING_MS) {
        return waitFor(`order ${orderId} to be ${status}`, async () => {
          const o = await prisma.order.findUnique({ where: { id: orderId } });
          return o?.status === status ? o : null;
        }, { timeoutMs });
      },
      close,
    };
    return stack;
  } catch (e) {
    await close();
    throw e;
  }
}
