// Notify throughput and latency through the real api, queue and worker (separate processes, like
// production), on a fresh database. Not a test.
//   npm run --silent bench:notify -- --count 100000 --rate 500     (open loop, R notifies/s)
//   npm run --silent bench:notify -- --count 100000                (unthrottled: closed loop, --concurrency in flight)
// Options: --duplicates 0.2 (share of sends that repeat an earlier notify), --workers 1, --apis 1
// (api processes; sends go to them in turn, as a load balancer would),
// --concurrency 64, --warmup 2000 (notifies for other orders sent first, at the same rate, and not
// measured: the roles' JIT, connection pools and prepared statements warm up as in a running system).
// Prints one JSON object as its last line:
//   sent, acked, applied, lost, duplicateTransitions, ackP50Ms, ackP99Ms, e2eP99Ms, throughputPerS (+ details)
// sent counts every send (a notify not answered `success` is sent again after 1 s, as Alipay would);
// applied = orders paid by their notify; lost = notifies answered `success` whose order never got paid;
// e2e = first send of a notify → its PAID event committed; throughputPerS = sends / (last inbox row
// processed − first send).
import { Agent, request } from "node:http";
import os from "node:os";
import { parseArgs } from "node:util";
import type { PrismaClient } from "@prisma/client";
import { generateRsaKeyPair } from "../core/alipay/keys.ts";
import { LOCAL_MERCHANT } from "../core/config/index.ts";
import { createPrisma } from "../core/db/index.ts";
import { newOutTradeNo } from "../core/orders/index.ts";
import { freePort } from "../scripts/local-services.ts";
import { buildSignedNotify } from "../sandbox/app.ts";
import { autovacuumOf, backendsOf, cpuMeter, provisionServices, redisServerOf, ROLE_START_CEILING_MS, spawnRole, statementStats, waitFor, type RoleProcess } from "../test/support/index.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "10000" },
    rate: { type: "string", default: "0" },
    duplicates: { type: "string", default: "0.2" },
    workers: { type: "string", default: "1" },
    apis: { type: "string", default: "1" },
    concurrency: { type: "string", default: "64" },
    warmup: { type: "string", default: "2000" },
    // Write a V8 CPU profile of each role (api, worker) into this directory when it exits.
    "cpu-prof": { type: "string" },
  },
});
const COUNT = Number(values.count);
const RATE = Number(values.rate);
const DUP = Number(values.duplicates);
const WORKERS = Number(values.workers);
const APIS = Number(values.apis);
const CONCURRENCY = Number(values.concurrency);
const WARMUP = Number(values.warmup);
const log = (m: string) => process.stderr.write(`[bench:notify] ${m}\n`);

const { appId: APP_ID, sellerId: SELLER_ID } = LOCAL_MERCHANT;
const PRICE_FEN = 9900;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const round = (n: number) => Math.round(n * 10) / 10;

/** Orders in bulk (the bench measures notifies, not order creation) and their signed notifies. */
async function ordersWithNotifies(prisma: PrismaClient, buyerId: number, n: number, privateKey: string): Promise<{ outTradeNos: string[]; bodies: string[] }> {
  const outTradeNos = Array.from({ length: n }, () => newOutTradeNo());
  const expiresAt = new Date(Date.now() + 24 * 3600_000);
  for (let i = 0; i < n; i += 5000) {
    await prisma.order.createMany({
      data: outTradeNos.slice(i, i + 5000).map((outTradeNo) => ({ outTradeNo, buyerId, subject: "bench", totalFen: PRICE_FEN, expiresAt, nextCheckAt: null })),
    });
  }
  // Signed before the clock starts: signing is Alipay's cost, not ours.
  const bodies = outTradeNos.map((outTradeNo) =>
    new URLSearchParams(buildSignedNotify({ outTradeNo, appId: APP_ID, sellerId: SELLER_ID, totalFen: PRICE_FEN }, {}, { privateKey })).toString(),
  );
  return { outTradeNos, bodies };
}

/** Each notify once, plus repeats of earlier ones spread through the run (`dup` of all sends). */
function sendSequence(unique: number, total: number): number[] {
  const sequence: number[] = [];
  let dupsLeft = total - unique;
  for (let i = 0; i < unique; i++) {
    sequence.push(i);
    const want = dupsLeft / (unique - i);
    for (let k = 0; k < Math.floor(want) + (Math.random() < want % 1 ? 1 : 0) && dupsLeft > 0; k++) {
      sequence.push(Math.floor(Math.random() * (i + 1)));
      dupsLeft--;
    }
  }
  return sequence;
}

/** Wait until no inbox row is pending (or nothing moved for 30 s). */
async function drain(prisma: PrismaClient): Promise<void> {
  let lastPending = -1;
  let lastChange = Date.now();
  for (;;) {
    const pending = await prisma.paymentNotification.count({ where: { outcome: "pending" } });
    if (pending === 0) return;
    if (pending !== lastPending) {
      lastPending = pending;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 30_000) {
      log(`${pending} inbox rows still pending after 30 s without progress`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const LOAD_BEFORE = os.loadavg()[0]!;
const services = await provisionServices("bench_notify", log);
const roles: RoleProcess[] = [];
const prisma = createPrisma(services.databaseUrl, { poolSize: 4 });
try {
  const unique = Math.round(COUNT * (1 - DUP));
  const alipayKeys = generateRsaKeyPair(); // plays the sandbox's Alipay key
  const appKeys = generateRsaKeyPair();
  const buyer = await prisma.user.create({ data: { email: "bench@local", passwordHash: "x" } });
  const signStart = Date.now();
  const measured = await ordersWithNotifies(prisma, buyer.id, unique, alipayKeys.privateKeyPem);
  const warm = await ordersWithNotifies(prisma, buyer.id, WARMUP, alipayKeys.privateKeyPem);
  log(`${unique + WARMUP} orders created and their notifies signed in ${((Date.now() - signStart) / 1000).toFixed(1)} s`);
  const sequence = sendSequence(unique, COUNT);

  const apiPorts: number[] = [];
  for (let a = 0; a < APIS; a++) apiPorts.push(await freePort());
  const apiPort = apiPorts[0]!;
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    REDIS_PREFIX: services.redisPrefix,
    API_PORT: String(apiPort),
    API_PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
    // Nothing here talks to a gateway: notifies only. Reconciliation is kept out of the way.
    ALIPAY_GATEWAY: "http://127.0.0.1:9/gateway.do",
    ALIPAY_APP_ID: APP_ID,
    ALIPAY_SELLER_ID: SELLER_ID,
    ALIPAY_APP_PRIVATE_KEY: appKeys.privateKeyPem,
    ALIPAY_PUBLIC_KEY: alipayKeys.publicKeyPem,
    TOKEN_SECRET: "bench-token-secret-0123456789abcdef0123",
    SESSION_SECRET: "bench-session-secret-0123456789abcdef01",
    RECONCILE_FIRST_CHECK_SECONDS: "86400",
    WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? "32",
  };
  const profile = values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] : [];
  for (const port of apiPorts) roles.push(spawnRole("api", env, { LOG_LEVEL: "warn", API_PORT: String(port) }, profile));
  const apiPids = new Set(roles.map((r) => r.pid));
  const readyUrls = apiPorts.map((port) => `http://127.0.0.1:${port}/readyz`);
  for (let w = 0; w < WORKERS; w++) {
    const port = await freePort();
    roles.push(spawnRole("worker", env, { LOG_LEVEL: "warn", WORKER_PORT: String(port) }, profile));
    readyUrls.push(`http://127.0.0.1:${port}/readyz`); // a worker serves HTTP only once it consumes
  }
  for (const url of readyUrls) {
    await waitFor(url, async () => (await fetch(url).catch(() => null))?.ok, { timeoutMs: ROLE_START_CEILING_MS, intervalMs: 200 });
  }

  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(CONCURRENCY, 256) });
  let turn = 0;
  const post = (body: string) =>
    new Promise<{ status: number; text: string }>((resolve) => {
      const req = request(
        { host: "127.0.0.1", port: apiPorts[turn++ % apiPorts.length], path: "/alipay/notify", method: "POST", agent, headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8", "content-length": Buffer.byteLength(body) } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", (e) => resolve({ status: 0, text: e.message }));
      req.end(body);
    });

  const replies = new Map<string, number>();
  let retried = 0;
  /**
   * Send `sequence` (indexes into `bodies`) at RATE (open loop) or CONCURRENCY in flight (closed loop).
   * Like Alipay, a send not answered exactly `success` is sent again (here after 1 s, until acknowledged).
   */
  async function run(bodies: string[], seq: number[], onSent: (idx: number, ms: number, ok: boolean, at: number) => void): Promise<number> {
    const start = Date.now();
    const retries = new Set<Promise<void>>();
    const send = async (idx: number): Promise<void> => {
      const at = Date.now();
      const t0 = performance.now();
      const r = await post(bodies[idx]!);
      const ok = r.status === 200 && r.text === "success";
      const key = `${r.status} ${r.text.slice(0, 60)}`;
      replies.set(key, (replies.get(key) ?? 0) + 1);
      onSent(idx, performance.now() - t0, ok, at);
      if (!ok) {
        retried++;
        const p = new Promise<void>((r2) => setTimeout(r2, 1000)).then(() => send(idx)).finally(() => retries.delete(p));
        retries.add(p);
      }
    };
    if (RATE > 0) {
      // Open loop: send on schedule whatever the replies do (a slow server shows as latency, not as a lower rate).
      const inflight = new Set<Promise<void>>();
      let next = 0;
      while (next < seq.length) {
        const due = Math.min(seq.length, Math.floor(((Date.now() - start) / 1000) * RATE) + 1);
        for (; next < due; next++) {
          const p = send(seq[next]!).finally(() => inflight.delete(p));
          inflight.add(p);
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      await Promise.all(inflight);
    } else {
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < seq.length) await send(seq[next++]!);
      }));
    }
    while (retries.size) await Promise.all([...retries]);
    return start;
  }

  if (WARMUP > 0) {
    log(`warm-up: ${WARMUP} notifies for other orders (not measured)`);
    await run(warm.bodies, warm.bodies.map((_, i) => i), () => {});
    await drain(prisma);
  }

  const rolePids = new Set(roles.map((r) => r.pid));
  const cpu = cpuMeter({
    api: (pid) => apiPids.has(pid),
    worker: (pid) => rolePids.has(pid) && !apiPids.has(pid),
    postgres: backendsOf(services.databaseUrl),
    postgresAutovacuum: autovacuumOf(services.databaseUrl),
    redis: redisServerOf(services.redisUrl),
    bench: (pid) => pid === process.pid,
  });
  const statements = statementStats(prisma);
  await statements.reset();
  const firstSentAt = new Array<number>(unique).fill(0);
  const ackMs: number[] = [];
  const slowSeconds = new Set<number>();
  let acked = 0;
  let sent = 0;
  let runStart = Date.now();
  log(`sending ${sequence.length} notifies (${unique} distinct) ${RATE > 0 ? `at ${RATE}/s` : `unthrottled, ${CONCURRENCY} in flight`}`);
  const ackedOnce = new Set<number>();
  replies.clear();
  retried = 0;
  runStart = await run(measured.bodies, sequence, (idx, ms, ok, at) => {
    if (firstSentAt[idx] === 0) firstSentAt[idx] = at;
    sent++;
    ackMs.push(ms);
    if (ms > 50) slowSeconds.add(Math.floor((at - runStart) / 1000));
    if (ok) {
      acked++;
      ackedOnce.add(idx);
    }
  });
  log(`sent in ${((Date.now() - runStart) / 1000).toFixed(1)} s; waiting for the worker to drain`);
  await drain(prisma);
  const cpuMsPerNotify = cpu.perUnitMs(sequence.length);
  const topStatements = await statements.top(sequence.length);
  const statementTotals = await statements.totals(sequence.length);
  const statementGroups = await statements.byGroup(sequence.length, {
    "api: inbox insert, batch (recordNotifies)": "WITH input AS MATERIALIZED",
    "api: inbox insert, one (recordNotify)": "INSERT INTO payment_notification",
    "worker: inbox read (loadNotificationsWithOrders)": "SELECT n\\.",
    "worker: decisions (writeDecision(s))": "WITH (o|d)",
  });
  const backends = cpu.processes("postgres");

  const indexOf = new Map(measured.outTradeNos.map((o, i) => [o, i]));
  const paidEvents = (await prisma.$queryRaw<{ out_trade_no: string; at: Date }[]>`
    SELECT o.out_trade_no, e.created_at AS at FROM order_event e JOIN "order" o ON o.id = e.order_id
    WHERE e.from_status = 'UNPAID' AND e.to_status = 'PAID'`).filter((e) => indexOf.has(e.out_trade_no));
  const paidOrders = new Set(paidEvents.map((e) => e.out_trade_no));
  const e2e = paidEvents.map((e) => e.at.getTime() - firstSentAt[indexOf.get(e.out_trade_no)!]!).sort((a, b) => a - b);
  const [{ last }] = await prisma.$queryRaw<{ last: Date }[]>`SELECT max(processed_at) AS last FROM payment_notification`;
  const processedSeconds = ((last?.getTime() ?? Date.now()) - runStart) / 1000;
  ackMs.sort((a, b) => a - b);

  const result = {
    sent,
    acked,
    applied: paidOrders.size,
    // acknowledged with `success` but never applied: what Alipay would never send again
    lost: [...ackedOnce].filter((i) => !paidOrders.has(measured.outTradeNos[i]!)).length,
    duplicateTransitions: paidEvents.length - paidOrders.size,
    ackP50Ms: round(percentile(ackMs, 50)),
    ackP99Ms: round(percentile(ackMs, 99)),
    e2eP99Ms: round(percentile(e2e, 99)),
    throughputPerS: round(sent / processedSeconds),
    rate: RATE || null,
    /** sends answered other than `success`, sent again a second later as Alipay would */
    retried,
    replies: Object.fromEntries(replies),
    distinct: unique,
    seconds: round(processedSeconds),
    e2eP50Ms: round(percentile(e2e, 50)),
    ackP90Ms: round(percentile(ackMs, 90)),
    ackP95Ms: round(percentile(ackMs, 95)),
    ackMaxMs: round(ackMs.at(-1) ?? 0),
    /** seconds (from the first send) in which some ack took over 50 ms: clustered = stalls, spread = saturation */
    slowAckSeconds: [...slowSeconds].sort((a, b) => a - b).slice(0, 40),
    warmup: WARMUP,
    workers: WORKERS,
    apis: APIS,
    cpuMsPerNotify,
    /** api + worker + postgres + redis (the load generator excluded) */
    cpuMsTotal: round(cpuMsPerNotify.api! + cpuMsPerNotify.worker! + cpuMsPerNotify.postgres! + cpuMsPerNotify.redis!),
    // Other work on the machine competes for the same cores: the 1-minute load average before this
    // bench started anything, and at its end (which includes the bench's own processes).
    /** pg_stat_statements (when the server preloads it): calls and execution ms per notify */
    ...(topStatements ? { statements: topStatements } : {}),
    /**
     * Where PostgreSQL's CPU went, per notify: the statements' execution and planning (wall ms from
     * pg_stat_statements: includes lock waits), autovacuum, and what is outside statements
     * (parse/analyze of unnamed statements, commits and their WAL flush, protocol and socket work,
     * backend start-ups). Sessions and commits from pg_stat_database.
     */
    postgres: {
      cpuMs: cpuMsPerNotify.postgres,
      autovacuumCpuMs: cpuMsPerNotify.postgresAutovacuum,
      ...(statementTotals
        ? {
          statementExecMs: statementTotals.execMsPerUnit,
          statementPlanMs: statementTotals.planMsPerUnit,
          outsideStatementsMs: round(cpuMsPerNotify.postgres! - cpuMsPerNotify.postgresAutovacuum! - statementTotals.execMsPerUnit - statementTotals.planMsPerUnit),
          statementsPerNotify: statementTotals.callsPerUnit,
          commitsPerNotify: statementTotals.commitsPerUnit,
          rollbacksPerNotify: statementTotals.rollbacksPerUnit,
          walBytesPerNotify: statementTotals.walBytesPerUnit,
          sessionsStarted: statementTotals.sessions,
          statementEntriesEvicted: statementTotals.evictions,
        }
        : {}),
      ...(statementGroups ? { statementGroups } : {}),
      backendProcessesSeen: backends.seen,
      backendProcessesStarted: backends.started,
    },
    machine: { nproc: os.availableParallelism(), memGb: round(os.totalmem() / 2 ** 30), loadAvgBefore: round(LOAD_BEFORE), loadAvgEnd: round(os.loadavg()[0]!) },
  };
  agent.destroy();
  console.log(JSON.stringify(result));
} finally {
  await Promise.all(roles.map((r) => r.kill("SIGTERM")));
  await prisma.$disconnect();
  await services.cleanup();
}
