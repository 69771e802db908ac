// Bill reconciliation at scale: a day with --rows bill rows (about 10 % refunds) at the local gateway
// and the matching local orders, a known number of differences of every kind injected, then the real
// path in a worker process: the staff "reconcile this date" job → alipay.data.dataservice.bill.
// downloadurl.query → download → streaming parse → COPY → set-based matching.
//   npm run --silent bench:bill -- --rows 1000000
// Last line, one JSON object: rows, seconds (the attempt's start to its end, from bill_attempt),
// rowsPerS, rssGrowthMb (worker peak RSS − RSS once ready), differencesInjected, differencesFound
// (injected ones found), falseDifferences (found but not injected).
//
// The bill day is synthetic (sandbox/bill/synthetic.ts): its rows are computed from their index when
// the file is downloaded, and the local orders are COPYed from the same generator — a million
// sandbox trades would only measure the emulator. BILL_PENDING_DAYS=0 here, so payments missing from
// the bill are flagged in the same run (in production they wait for the cross-midnight allowance).
import os from "node:os";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { from as copyFrom } from "pg-copy-streams";
import { generateRsaKeyPair } from "../core/alipay/keys.ts";
import { addDays, beijingDay } from "../core/bills/format.ts";
import { createBillQueue } from "../core/bills/queue.ts";
import { createPrisma, sqlPoolOf } from "../core/db/index.ts";
import { createLogger } from "../core/logging/index.ts";
import { freePort } from "../scripts/local-services.ts";
import { createSandbox } from "../sandbox/app.ts";
import { syntheticTrades } from "../sandbox/bill/synthetic.ts";
import { provisionServices, rssBytes, spawnRole, waitFor, type RoleProcess } from "../test/support/index.ts";

const { values } = parseArgs({ options: { rows: { type: "string", default: "100000" }, inject: { type: "string", default: "20" } } });
const ROWS = Number(values.rows);
const INJECT = Number(values.inject);
const APP_ID = "2021000000000001";
const SELLER_ID = "2088000000000001";
const SEED = `b${Date.now().toString(36)}`;
const log = (m: string) => process.stderr.write(`[bench:bill] ${m}\n`);
const round = (n: number) => Math.round(n * 10) / 10;
const LOAD_BEFORE = os.loadavg()[0]!;

const services = await provisionServices("bench_bill", log);
const prisma = createPrisma(services.databaseUrl, { poolSize: 4 });
const appKeys = generateRsaKeyPair();
const sandbox = createSandbox({ merchantPublicKey: appKeys.publicKeyPem, dataDir: null, logger: createLogger("sandbox", "warn"), appId: APP_ID, sellerId: SELLER_ID });
const roles: RoleProcess[] = [];
try {
  const sb = await sandbox.listen(0);
  const day = addDays(beijingDay(new Date()), -2);
  const spec = { date: day, rows: ROWS, seed: SEED };
  sandbox.gateway.bills.setSynthetic(spec);

  // Which trades get which difference (every kind; refund kinds only when the refund table exists).
  const hasRefunds = (await sqlPoolOf(prisma).query<{ ok: boolean }>(`SELECT to_regclass('refund') IS NOT NULL AS ok`)).rows[0]!.ok;
  const trades: { outTradeNo: string; refund: string | null }[] = [];
  for (const t of syntheticTrades(spec)) if (trades.length < 10 * INJECT + 100) trades.push({ outTradeNo: t.outTradeNo, refund: t.refund?.outRequestNo ?? null });
  const plain = trades.filter((t) => !t.refund);
  const withRefund = trades.filter((t) => t.refund);
  const take = (list: typeof trades, n: number) => list.splice(0, n);
  const injected = new Set<string>();
  const unpaidHere = take(plain, INJECT).map((t) => t.outTradeNo);
  unpaidHere.forEach((o) => injected.add(`paid_not_here:${o}`));
  const amountDiffers = take(plain, INJECT).map((t) => t.outTradeNo);
  amountDiffers.forEach((o) => injected.add(`amount_differs:${o}`));
  const omitted = take(plain, INJECT).map((t) => t.outTradeNo);
  omitted.forEach((o) => injected.add(`paid_not_in_bill:${o}`));
  const unknown = Array.from({ length: INJECT }, (_, i) => `bench_unknown_${SEED}_${i}`);
  unknown.forEach((o) => injected.add(`unknown_order:${o}`));
  const refundMissingHere = hasRefunds ? take(withRefund, INJECT).map((t) => t.refund!) : [];
  refundMissingHere.forEach((r) => injected.add(`refund_not_here:${r}`));
  const extraRefunds = hasRefunds ? take(plain, INJECT).map((t, i) => ({ outTradeNo: t.outTradeNo, outRequestNo: `bench_extra_${i}` })) : [];
  extraRefunds.forEach((r) => injected.add(`refund_not_here:${r.outRequestNo}`));
  sandbox.gateway.bills.addFaults({
    date: day,
    faults: [
      ...amountDiffers.map((outTradeNo) => ({ kind: "amountDiffers" as const, outTradeNo, amountFen: 1 })),
      ...omitted.map((outTradeNo) => ({ kind: "omitPayment" as const, outTradeNo })),
      ...unknown.map((outTradeNo) => ({ kind: "unknownTrade" as const, outTradeNo, amountFen: 4200 })),
      ...extraRefunds.map((r) => ({ kind: "extraRefund" as const, outTradeNo: r.outTradeNo, outRequestNo: r.outRequestNo, amountFen: 1 })),
    ],
  });

  // Local orders (and refunds) from the same generator, COPYed in.
  const buyer = await prisma.user.create({ data: { email: "bench-bill@local", passwordHash: "x" } });
  const unpaidSet = new Set(unpaidHere);
  const missingRefunds = new Set(refundMissingHere);
  const expires = new Date(`${day}T00:00:00+08:00`).toISOString();
  const loadStart = Date.now();
  const client = await sqlPoolOf(prisma).connect();
  try {
    await pipeline(
      Readable.from((function* () {
        let buf = "";
        for (const t of syntheticTrades(spec)) {
          const paid = !unpaidSet.has(t.outTradeNo);
          const refunded = t.refund ? t.refund.fen : 0;
          const status = !paid ? "UNPAID" : refunded ? "PARTIALLY_REFUNDED" : "PAID";
          buf += `${t.outTradeNo}\t${buyer.id}\tbench\t${t.totalFen}\t${paid ? refunded : 0}\t${status}\t${paid ? t.tradeNo : "\\N"}\t${paid ? new Date(t.paidAt).toISOString() : "\\N"}\t${expires}\t${expires}\n`;
          if (buf.length > 256 * 1024) {
            yield buf;
            buf = "";
          }
        }
        if (buf) yield buf;
      })()),
      client.query(copyFrom(`COPY "order" (out_trade_no, buyer_id, subject, total_fen, refunded_fen, status, trade_no, paid_at, expires_at, updated_at) FROM STDIN`)),
    );
    if (hasRefunds) {
      // The refund table's contract (docs/bills.md): order_id, out_request_no, amount_fen, state, succeeded_at, created_at.
      await client.query(`CREATE TEMP TABLE bench_refund_in (out_trade_no varchar(64), out_request_no varchar(64), amount_fen int, succeeded_at timestamptz, created_at timestamptz)`);
      await pipeline(
        Readable.from((function* () {
          let buf = "";
          for (const t of syntheticTrades(spec)) {
            if (!t.refund || missingRefunds.has(t.refund.outRequestNo)) continue;
            const at = new Date(t.refund.at).toISOString();
            buf += `${t.outTradeNo}\t${t.refund.outRequestNo}\t${t.refund.fen}\t${at}\t${at}\n`;
            if (buf.length > 256 * 1024) {
              yield buf;
              buf = "";
            }
          }
          if (buf) yield buf;
        })()),
        client.query(copyFrom(`COPY bench_refund_in (out_trade_no, out_request_no, amount_fen, succeeded_at, created_at) FROM STDIN`)),
      );
      await client.query(`
        INSERT INTO refund (order_id, out_request_no, amount_fen, state, succeeded_at, created_at)
        SELECT o.id, r.out_request_no, r.amount_fen, 'SUCCEEDED', r.succeeded_at, r.created_at FROM bench_refund_in r JOIN "order" o ON o.out_trade_no = r.out_trade_no`);
      await client.query(`ANALYZE refund`);
    }
    await client.query(`ANALYZE "order"`);
  } finally {
    client.release();
  }
  log(`${ROWS} bill rows at the sandbox for ${day}; local orders loaded in ${round((Date.now() - loadStart) / 1000)} s; ${injected.size} differences injected${hasRefunds ? "" : " (no refund table: refund kinds not injected)"}`);

  const env: NodeJS.ProcessEnv = {
    NODE_ENV: "test",
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    REDIS_PREFIX: services.redisPrefix,
    ALIPAY_GATEWAY: "sandbox",
    SANDBOX_PUBLIC_URL: sb.url,
    ALIPAY_APP_ID: APP_ID,
    ALIPAY_SELLER_ID: SELLER_ID,
    ALIPAY_APP_PRIVATE_KEY: appKeys.privateKeyPem,
    ALIPAY_PUBLIC_KEY: sandbox.gateway.alipayPublicKeyPem,
    BILL_PENDING_DAYS: "0",
    // Only the staff job runs: no schedule tick competes with the measured attempt.
    BILL_SCHEDULE: "off",
  };
  const port = await freePort();
  const worker = spawnRole("worker", env, { LOG_LEVEL: "warn", WORKER_PORT: String(port) });
  roles.push(worker);
  await waitFor("worker ready", async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok, { timeoutMs: 120_000, intervalMs: 200 });
  await new Promise((r) => setTimeout(r, 1000)); // let start-up allocation settle before the baseline
  const baseRss = rssBytes(worker.pid);
  let peakRss = baseRss;

  const queue = createBillQueue({ redisUrl: services.redisUrl, redisPrefix: services.redisPrefix });
  await queue.enqueueDate(day, "bench");
  await queue.close();
  await waitFor("the batch to finish", async () => {
    peakRss = Math.max(peakRss, rssBytes(worker.pid));
    const b = await prisma.billBatch.findFirst({ where: { billDate: day } });
    return b !== null && ["matched", "differences", "no_bill", "corrupt", "failed"].includes(b.state);
  }, { timeoutMs: 30 * 60_000, intervalMs: 100 });
  const batch = await prisma.billBatch.findFirstOrThrow({ where: { billDate: day }, include: { attemptLog: true, differences: true } });
  const attempt = batch.attemptLog.at(-1)!;
  const seconds = (attempt.finishedAt!.getTime() - attempt.startedAt.getTime()) / 1000;
  const found = batch.differences.map((d) => `${d.kind}:${d.kind === "amount_differs" && d.outRequestNo ? `refund:${d.outRequestNo}` : d.ref}`);
  const foundInjected = found.filter((k) => injected.has(k)).length;
  const falseOnes = found.filter((k) => !injected.has(k));
  if (falseOnes.length) log(`false differences (first 5): ${falseOnes.slice(0, 5).join(", ")}`);
  if (batch.state !== "differences") log(`batch ended ${batch.state}: ${batch.lastError}`);
  const rows = batch.billTrades + batch.billRefunds;
  console.log(JSON.stringify({
    rows,
    seconds: round(seconds),
    rowsPerS: Math.round(rows / seconds),
    rssGrowthMb: round((peakRss - baseRss) / 2 ** 20),
    differencesInjected: injected.size,
    differencesFound: foundInjected,
    falseDifferences: falseOnes.length,
    state: batch.state,
    rssBaseMb: round(baseRss / 2 ** 20),
    rssPeakMb: round(peakRss / 2 ** 20),
    refundKindsInjected: hasRefunds,
    machine: { nproc: os.availableParallelism(), loadAvgBefore: round(LOAD_BEFORE), loadAvgEnd: round(os.loadavg()[0]!) },
  }));
} finally {
  await Promise.all(roles.map((r) => r.kill("SIGTERM")));
  await sandbox.close();
  await prisma.$disconnect();
  await services.cleanup();
}
