// `npm run --silent bench:admin -- --orders N [--iterations R] [--proposed-indexes] [--keep]`
//
// How fast the back office answers with N orders in the database. Like scripts/test.ts it starts
// (or finds) PostgreSQL and Redis, makes a fresh database and Redis prefix, migrates, and removes
// both at the end. It fills the database with generate_series SQL (orders, their lines, events and
// inbox rows, with a realistic status mix over a year), starts the admin in this process on port 0,
// logs in, and times AdminJS's own JSON API:
//   list      /admin/api/resources/Order/actions/list               (page 1, newest first)
//   filter    the same with filters: status, buyer, date range, out_trade_no, trade_no, search box
//   show      /admin/api/resources/Order/records/:id/show            (with lines, timeline, callbacks)
//   dashboard /admin/api/dashboard
// For each, it also reports how many order rows sequential scans read per request
// (pg_stat_user_tables.seq_tup_read): ~N means a full scan, ~0 means indexes did the work.
// --proposed-indexes adds the two indexes asked of the lead (order(needs_review, created_at),
// order(paid_at)) to measure their effect.
// Progress goes to stderr; stdout gets one JSON line.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { createAdminApp } from "../admin/app.ts";
import { generateRsaKeyPair } from "../core/alipay/keys.ts";
import { hashPassword } from "../core/auth/password.ts";
import { loadConfig } from "../core/config/index.ts";
import { createPrisma } from "../core/db/index.ts";
import { createLogger } from "../core/logging/index.ts";
import { createRedis } from "../core/redis/index.ts";
import { RoleLifecycle, closeServer, listen } from "../core/runtime/index.ts";
import { deleteRedisPrefix, dropDatabase, ensureDatabaseExists, ensureLocalServices } from "../scripts/local-services.ts";

const root = path.resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    orders: { type: "string", default: "100000" },
    iterations: { type: "string", default: "100" },
    keep: { type: "boolean", default: false },
    "proposed-indexes": { type: "boolean", default: false },
  },
});
const N = Number(args.orders);
const R = Number(args.iterations);
if (!Number.isSafeInteger(N) || N < 1000 || !Number.isSafeInteger(R) || R < 10) {
  process.stderr.write("usage: npm run --silent bench:admin -- --orders N (≥ 1000) [--iterations R (≥ 10)] [--proposed-indexes] [--keep]\n");
  process.exit(2);
}
const say = (m: string) => process.stderr.write(`[bench:admin] ${m}\n`);

const CHUNK = 200_000;

/** Fills the database: buyers, courses, orders (+ one line each), events, inbox rows. */
async function fill(db: pg.Client): Promise<{ seconds: number; buyers: number }> {
  const started = Date.now();
  const buyers = Math.max(100, Math.floor(N / 10));
  await db.query(`INSERT INTO course (title, price_fen) SELECT '课程 ' || g, 100 * (50 + g * 37 % 400) FROM generate_series(1, 20) g`);
  await db.query(
    `INSERT INTO buyer (email, display_name, password_hash) SELECT 'buyer' || g || '@bench.test', 'Buyer ' || g, 'x' FROM generate_series(1, $1::int) g`,
    [buyers],
  );
  // Status mix: 70% paid, 20% closed (expired), 5% cancelled, 4% unpaid (the last hours), 1% refunded.
  // Orders spread evenly over the past 365 days, in id order.
  for (let from = 1; from <= N; from += CHUNK) {
    const to = Math.min(N, from + CHUNK - 1);
    await db.query(
      `INSERT INTO "order" (out_trade_no, buyer_id, subject, total_fen, refunded_fen, status, trade_no, buyer_alipay_id,
                            paid_at, closed_at, expires_at, next_check_at, needs_review, created_at, updated_at)
       SELECT 'cp_' || md5('bench' || g), 1 + (g::bigint * 7919) % $3::int, '课程 ' || (1 + g % 20), p.fen,
              CASE WHEN s.st = 'REFUNDED' THEN p.fen ELSE 0 END, s.st::"OrderStatus",
              CASE WHEN s.st IN ('PAID', 'REFUNDED') THEN '2026' || lpad(g::text, 24, '0') END,
              CASE WHEN s.st IN ('PAID', 'REFUNDED') THEN '2088' || lpad((g % 1000000)::text, 12, '0') END,
              CASE WHEN s.st IN ('PAID', 'REFUNDED') THEN t.at + interval '3 minutes' END,
              CASE WHEN s.st IN ('CLOSED', 'CANCELLED') THEN t.at + interval '40 minutes' END,
              t.at + interval '30 minutes',
              CASE WHEN s.st = 'UNPAID' THEN t.at + interval '2 minutes' END,
              g % 5000 = 0, t.at, t.at
       FROM generate_series($1::int, $2::int) g,
            LATERAL (SELECT now() - (($4::int - g)::float8 / $4::int) * interval '365 days' AS at) t,
            LATERAL (SELECT 100 * (50 + g * 37 % 400) AS fen) p,
            LATERAL (SELECT CASE WHEN g > $4::int * 0.96 AND g % 2 = 0 THEN 'UNPAID'
                                 WHEN g % 100 = 0 THEN 'REFUNDED'
                                 WHEN g % 20 = 1 THEN 'CANCELLED'
                                 WHEN g % 5 = 2 THEN 'CLOSED'
                                 ELSE 'PAID' END AS st) s`,
      [from, to, buyers, N],
    );
    say(`orders ${to.toLocaleString()} / ${N.toLocaleString()}`);
  }
  say("order lines, events, inbox rows");
  await db.query(`INSERT INTO order_detail (order_id, course_id, price_fen, real_price_fen) SELECT id, 1 + id % 20, total_fen, total_fen FROM "order"`);
  await db.query(`INSERT INTO order_event (order_id, type, to_status, source, actor, payload, created_at)
                  SELECT id, 'created', 'UNPAID', 'buyer', 'buyer:' || buyer_id, '{}', created_at FROM "order"`);
  await db.query(`INSERT INTO order_event (order_id, type, from_status, to_status, source, payload, created_at)
                  SELECT id, 'paid', 'UNPAID', 'PAID', 'notify', '{"reason":"TRADE_SUCCESS"}', paid_at FROM "order" WHERE paid_at IS NOT NULL`);
  await db.query(`INSERT INTO order_event (order_id, type, from_status, to_status, source, payload, created_at)
                  SELECT id, 'closed', 'UNPAID', status, 'expiry', '{"reason":"expired"}', closed_at FROM "order" WHERE closed_at IS NOT NULL`);
  await db.query(`INSERT INTO payment_notification (kind, raw_body, verified, notify_id, out_trade_no, order_id, trade_no, trade_status,
                                                    total_fen, received_at, processed_at, outcome, attempts)
                  SELECT 'notify', 'trade_status=TRADE_SUCCESS&out_trade_no=' || out_trade_no, true, md5('n' || id), out_trade_no, id, trade_no,
                         'TRADE_SUCCESS', total_fen, paid_at, paid_at, 'applied', 1 FROM "order" WHERE paid_at IS NOT NULL`);
  if (args["proposed-indexes"]) {
    // Not in the schema yet (asked of the lead): needs_review (filter, dashboard) and paid_at (dashboard).
    say("creating the proposed indexes");
    await db.query(`CREATE INDEX order_needs_review_created_at_idx ON "order" (needs_review, created_at)`);
    await db.query(`CREATE INDEX order_paid_at_idx ON "order" (paid_at)`);
  }
  // What autovacuum would have done by now: statistics, and the visibility map (index-only scans).
  say("VACUUM ANALYZE");
  await db.query("VACUUM ANALYZE");
  return { seconds: (Date.now() - started) / 1000, buyers };
}

function percentile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] * 10) / 10;
}
const p95 = (samples: number[]) => percentile(samples, 0.95);
const p50 = (samples: number[]) => percentile(samples, 0.5);

function migrate(env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["prisma", "migrate", "deploy"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (b) => (out += b));
    child.stderr!.on("data", (b) => (out += b));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed:\n${out}`))));
  });
}

const services = await ensureLocalServices({ dataDir: path.join(root, ".data"), log: say });
const runId = `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
const dbName = `coursepay_bench_${runId}`;
const dbUrl = new URL(services.databaseUrl);
dbUrl.pathname = `/${dbName}`;
const redisPrefix = `coursepay_bench_${runId}`;
const lifecycle = new RoleLifecycle("bench-admin", createLogger("bench-admin", "silent"));
let exitCode = 0;
let db: pg.Client | null = null;

try {
  await ensureDatabaseExists(dbUrl.toString());
  say(`database ${dbName}: migrating`);
  const keys = generateRsaKeyPair();
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL: services.redisUrl,
    REDIS_PREFIX: redisPrefix,
    ALIPAY_APP_PRIVATE_KEY: keys.privateKeyPem,
    ALIPAY_PUBLIC_KEY: keys.publicKeyPem,
  };
  await migrate({ ...process.env, ...env });

  const client = new pg.Client({ connectionString: dbUrl.toString() });
  db = client;
  client.on("error", () => {}); // terminated by the DROP DATABASE below after a failure
  await client.connect();
  say(`filling ${N.toLocaleString()} orders`);
  const filled = await fill(client);
  say(`filled in ${filled.seconds.toFixed(1)} s`);

  const config = loadConfig(env);
  const logger = createLogger("bench-admin", "silent");
  const prisma = createPrisma(config.databaseUrl, { poolSize: 10 });
  lifecycle.onShutdown("database", () => prisma.$disconnect());
  const redis = createRedis(config.redisUrl);
  lifecycle.onShutdown("redis", () => redis.quit());
  const app = await createAdminApp({ role: "admin", config, logger, prisma, redis, lifecycle });
  const server = createServer(app);
  const port = await listen(server, 0, "127.0.0.1");
  lifecycle.onShutdown("http", () => closeServer(server));
  const base = `http://127.0.0.1:${port}`;

  const password = randomBytes(12).toString("base64url");
  await prisma.staffUser.create({ data: { email: "bench@staff.test", role: "admin", passwordHash: await hashPassword(password) } });
  const login = await fetch(`${base}/admin/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email: "bench@staff.test", password }).toString(),
  });
  const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  if (login.status !== 302 || !cookie) throw new Error(`login failed: ${login.status}`);

  const get = async (pathname: string): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${base}${pathname}`, { headers: { cookie, accept: "application/json" } });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${pathname} → ${res.status}`);
    return ms;
  };

  // Sample values for the filters and shows.
  const sample = (await client.query(
    `SELECT id, out_trade_no, trade_no, buyer_id FROM "order" WHERE id IN (SELECT (1 + (random() * ($1::int - 1))::int) FROM generate_series(1, 200)) AND trade_no IS NOT NULL`,
    [N],
  )).rows as { id: number; out_trade_no: string; trade_no: string; buyer_id: number }[];
  const pick = <T>(xs: T[], i: number) => xs[i % xs.length];
  const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();
  const L = "/admin/api/resources/Order/actions/list";
  const filters: Record<string, (i: number) => string> = {
    status: (i) => `${L}?filters.status=${pick(["PAID", "UNPAID", "CLOSED", "REFUNDED", "CANCELLED"], i)}`,
    buyer: (i) => `${L}?filters.buyer=${pick(sample, i).buyer_id}`,
    dateRange: (i) => `${L}?filters.createdAt~~from=${day(30 + (i % 300))}&filters.createdAt~~to=${day(29 + (i % 300))}`,
    statusAndDate: (i) => `${L}?filters.status=PAID&filters.createdAt~~from=${day(8 + (i % 300))}&filters.createdAt~~to=${day(1 + (i % 300))}`,
    outTradeNo: (i) => `${L}?filters.outTradeNo=${pick(sample, i).out_trade_no}`,
    tradeNo: (i) => `${L}?filters.tradeNo=${pick(sample, i).trade_no}`,
    search: (i) => `${L}?filters.q=${encodeURIComponent(i % 2 ? pick(sample, i).out_trade_no : `buyer${pick(sample, i).buyer_id}@bench.test`)}`,
    needsReview: () => `${L}?filters.needsReview=true`,
  };
  // Rows the order table gave to sequential scans (pg_stat_user_tables.seq_tup_read). A LIMIT-ed seq
  // scan that stops early is cheap; a scenario reading ~N rows per request is a full scan.
  const seqRows = async () =>
    Number((await client.query(`SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'order'`)).rows[0].seq_tup_read);
  // A busy backend flushes its counters at most once a second, an idle one after 10 s (PostgreSQL 15
  // PGSTAT_IDLE_INTERVAL): wait that long so each scenario is charged only its own reads.
  const settleStats = () => new Promise((r) => setTimeout(r, 11_000));

  const scenarios: Record<string, (i: number) => string> = {
    list: (i) => `${L}?page=${1 + (i % 5)}`,
    ...Object.fromEntries(Object.entries(filters).map(([k, f]) => [`filter.${k}`, f])),
    show: (i) => `/admin/api/resources/Order/records/${pick(sample, i).id}/show`,
    dashboard: () => "/admin/api/dashboard",
  };
  const measured: Record<string, { samples: number[]; seqRowsPerRequest: number }> = {};
  for (const [name, url] of Object.entries(scenarios)) {
    for (let i = 0; i < 5; i++) await get(url(i)); // warm-up
    await settleStats();
    const before = await seqRows();
    const samples: number[] = [];
    for (let i = 0; i < R; i++) samples.push(await get(url(i)));
    await settleStats();
    measured[name] = { samples, seqRowsPerRequest: Math.round(((await seqRows()) - before) / R) };
    say(`${name}: p95 ${p95(samples)} ms`);
  }

  // Export throughput over one month of orders.
  const t0 = performance.now();
  const exp = await fetch(`${base}/admin/export/orders.csv?filters.createdAt~~from=${day(60)}&filters.createdAt~~to=${day(30)}`, { headers: { cookie } });
  const csv = await exp.text();
  const exportRows = csv.split("\r\n").length - 2;
  const exportSeconds = (performance.now() - t0) / 1000;

  const filterAll = Object.keys(filters).flatMap((k) => measured[`filter.${k}`].samples);
  const result = {
    bench: "admin",
    orders: N,
    iterations: R,
    proposedIndexes: args["proposed-indexes"],
    fillSeconds: Math.round(filled.seconds * 10) / 10,
    listP95Ms: p95(measured.list.samples),
    filterP95Ms: p95(filterAll),
    showP95Ms: p95(measured.show.samples),
    dashboardP95Ms: p95(measured.dashboard.samples),
    scenarios: Object.fromEntries(Object.entries(measured).map(([k, m]) => [k, { p50Ms: p50(m.samples), p95Ms: p95(m.samples), seqRowsPerRequest: m.seqRowsPerRequest }])),
    exportRows,
    exportRowsPerSecond: Math.round(exportRows / exportSeconds),
    node: process.version,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
} catch (e) {
  process.stderr.write(`[bench:admin] failed: ${(e as Error).stack ?? e}\n`);
  exitCode = 1;
} finally {
  await db?.end().catch(() => {});
  await lifecycle.shutdown();
  if (!args.keep) {
    const dbUrl = new URL(services.databaseUrl);
    dbUrl.pathname = `/${dbName}`;
    await dropDatabase(dbUrl.toString());
    await deleteRedisPrefix(services.redisUrl, redisPrefix);
  } else {
    say(`kept database ${dbName}`);
  }
  await services.stop();
}
process.exit(exitCode);
