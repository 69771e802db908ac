// Reconciliation throughput: N due UNPAID orders, a third of them paid at the sandbox with every
// notify lost (no notify_url), a third waiting at the cashier, a third never opened. Worker process(es)
// sweep (node-cron ticks), and check each order with alipay.trade.query, rate-limited to --qps.
//   npm run --silent bench:reconcile -- --orders 100000 --qps 500
// Prints one JSON object as its last line: orders, reconciled, correct, seconds, checksPerS, rssGrowthMb
// reconciled = orders marked PAID; correct = of those, orders really paid at the sandbox (and wrong,
// orders marked PAID that were not, must be 0); seconds = first check → every order checked once;
// checksPerS = orders checked / that time (first to last check write); rssGrowthMb = worker peak RSS − RSS once ready.
import os from "node:os";
import { parseArgs } from "node:util";
import { generateRsaKeyPair } from "../core/alipay/keys.ts";
import { createLogger } from "../core/logging/index.ts";
import { LOCAL_MERCHANT } from "../core/config/index.ts";
import { createPrisma } from "../core/db/index.ts";
import { newOutTradeNo } from "../core/orders/index.ts";
import { createSandbox } from "../sandbox/app.ts";
import { provisionServices, rssBytes, type RoleProcess } from "../test/support/index.ts";
import { ourSideMeters, sandboxWorkerEnv, startWorkers } from "./sandbox-worker.ts";

const { values } = parseArgs({
  options: {
    orders: { type: "string", default: "3000" },
    qps: { type: "string", default: "100" },
    workers: { type: "string", default: "1" },
    // Write a V8 CPU profile of each worker into this directory when it exits.
    "cpu-prof": { type: "string" },
  },
});
const ORDERS = Number(values.orders);
// The worker's V8 heap cap, as recommended for deployment (docs/benchmarks.md): without a cap V8 lets
// the heap of a busy worker grow far past its live data before collecting. WORKER_NODE_OPTIONS=""
// measures without it.
const WORKER_NODE_OPTIONS = process.env.WORKER_NODE_OPTIONS ?? "--max-old-space-size=128";
const QPS = Number(values.qps);
const WORKERS = Number(values.workers);
const log = (m: string) => process.stderr.write(`[bench:reconcile] ${m}\n`);
const APP_ID = LOCAL_MERCHANT.appId;
const PRICE_FEN = 9900;
const round = (n: number) => Math.round(n * 10) / 10;

const LOAD_BEFORE = os.loadavg()[0]!;
const services = await provisionServices("bench_reconcile", log);
const roles: RoleProcess[] = [];
const prisma = createPrisma(services.databaseUrl, { poolSize: 4 });
const appKeys = generateRsaKeyPair();
const sandbox = createSandbox({ merchantPublicKey: appKeys.publicKeyPem, dataDir: null, logger: createLogger("sandbox", "warn"), appId: APP_ID });
try {
  const sb = await sandbox.listen(0);

  // Orders, all due now, expiring tomorrow (nothing here is about expiry).
  const buyer = await prisma.user.create({ data: { email: "bench@local", passwordHash: "x" } });
  const outTradeNos = Array.from({ length: ORDERS }, () => newOutTradeNo());
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 24 * 3600_000);
  for (let i = 0; i < ORDERS; i += 5000) {
    await prisma.order.createMany({
      data: outTradeNos.slice(i, i + 5000).map((outTradeNo) => ({ outTradeNo, buyerId: buyer.id, subject: "bench", totalFen: PRICE_FEN, expiresAt, nextCheckAt: now })),
    });
  }
  // At the sandbox: a third paid (no notify_url: every notify is lost), a third waiting (logged in at the cashier), a third never opened.
  const paid = new Set<string>();
  outTradeNos.forEach((outTradeNo, i) => {
    if (i % 3 === 2) return;
    const opened = sandbox.gateway.trades.openAtLogin({ outTradeNo, appId: APP_ID, totalFen: PRICE_FEN, subject: "bench", productCode: "FAST_INSTANT_TRADE_PAY" });
    if (!opened.ok) throw new Error(opened.subMsg);
    if (i % 3 === 0) {
      sandbox.gateway.trades.pay(opened.value);
      paid.add(outTradeNo);
    }
  });
  log(`${ORDERS} orders; ${paid.size} paid at the sandbox without notifies`);

  const env = sandboxWorkerEnv(
    { services, sandboxUrl: sb.url, appId: APP_ID, appPrivateKeyPem: appKeys.privateKeyPem, alipayPublicKeyPem: sandbox.gateway.alipayPublicKeyPem },
    {
      ALIPAY_QUERY_QPS: String(QPS),
      RECONCILE_INTERVAL_SECONDS: "1",
      RECONCILE_BATCH_SIZE: "1000",
      // A check that leaves an order unpaid schedules the next one far beyond this run.
      RECONCILE_FIRST_CHECK_SECONDS: "3600",
    },
  );
  const started = Date.now();
  roles.push(...(await startWorkers(env, { count: WORKERS, cpuProfDir: values["cpu-prof"], nodeOptions: WORKER_NODE_OPTIONS })));
  const baseRss = roles.map((r) => rssBytes(r.pid));
  // worker processes, the run's PostgreSQL backends, its Redis server, and this process (the in-process sandbox signing every response, and this loop)
  const { cpu, statements } = await ourSideMeters(prisma, services, roles);
  const rssSeries: number[] = [];
  let lastSample = 0;
  const peakRss = [...baseRss];

  let firstCheckAt = 0;
  let checked = 0;
  const deadline = Date.now() + Math.max(120_000, (ORDERS / QPS) * 3000);
  for (;;) {
    roles.forEach((r, i) => (peakRss[i] = Math.max(peakRss[i]!, rssBytes(r.pid))));
    if (Date.now() - lastSample >= 5000) {
      lastSample = Date.now();
      rssSeries.push(round(rssBytes(roles[0]!.pid) / 2 ** 20));
    }
    const [row] = await prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "order" WHERE check_attempts > 0 OR status <> 'UNPAID'`;
    checked = row!.n;
    if (checked > 0 && !firstCheckAt) firstCheckAt = Date.now();
    if (checked >= ORDERS) break;
    if (Date.now() > deadline) {
      log(`stopped at the deadline: ${checked}/${ORDERS} checked`);
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const lastCheckAt = Date.now();
  const cpuMsPerCheck = cpu.perUnitMs(checked);
  const topStatements = await statements.top(checked);

  const paidHere = await prisma.order.findMany({ where: { status: "PAID" }, select: { outTradeNo: true } });
  const correct = paidHere.filter((o) => paid.has(o.outTradeNo)).length;
  // Every check writes the order (the next check time, or PAID): the first and last such write
  // bound the checking period, independent of this loop's polling interval.
  const [span] = await prisma.$queryRaw<{ first: Date; last: Date }[]>`
    SELECT min(updated_at) AS first, max(updated_at) AS last FROM "order" WHERE check_attempts > 0 OR status <> 'UNPAID'`;
  const seconds = span?.first ? (span.last.getTime() - span.first.getTime()) / 1000 : (lastCheckAt - firstCheckAt) / 1000;
  const result = {
    orders: ORDERS,
    reconciled: paidHere.length,
    correct,
    seconds: round(seconds),
    checksPerS: round(checked / seconds),
    rssGrowthMb: round(Math.max(...peakRss.map((p, i) => p - baseRss[i]!)) / 2 ** 20),
    rssBaseMb: round(Math.max(...baseRss) / 2 ** 20),
    rssPeakMb: round(Math.max(...peakRss) / 2 ** 20),
    /** the first worker's RSS every 5 s, MB: a plateau is warm-up, a slope would be a leak */
    rssEvery5sMb: rssSeries,
    paidAtSandbox: paid.size,
    wrong: paidHere.length - correct,
    checked,
    qps: QPS,
    workers: WORKERS,
    workerNodeOptions: WORKER_NODE_OPTIONS,
    cpuMsPerCheck,
    /** worker + postgres: our side of a check (the sandbox gateway and this loop excluded) */
    cpuMsTotal: round(cpuMsPerCheck.worker! + cpuMsPerCheck.postgres!),
    /** pg_stat_statements (when the server preloads it): calls and execution ms per check */
    ...(topStatements ? { statements: topStatements } : {}),
    totalSeconds: round((lastCheckAt - started) / 1000),
    // Other work on the machine competes for the same cores: the 1-minute load average before this
    // bench started anything, and at its end (which includes the bench's own processes).
    machine: { nproc: os.availableParallelism(), memGb: round(os.totalmem() / 2 ** 30), loadAvgBefore: round(LOAD_BEFORE), loadAvgEnd: round(os.loadavg()[0]!) },
  };
  console.log(JSON.stringify(result));
} finally {
  await Promise.all(roles.map((r) => r.kill("SIGTERM")));
  await sandbox.close();
  await prisma.$disconnect();
  await services.cleanup();
}
