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
import { LOCAL_MERCHANT } from "../core/config/index.ts";
import { createPrisma, sqlPoolOf } from "../core/db/index.ts";
import { createLogger } from "../core/logging/index.ts";
import { createSandbox } from "../sandbox/app.ts";
import { syntheticTrades } from "../sandbox/bill/synthetic.ts";
import { provisionServices, rssBytes, waitFor, type RoleProcess } from "../test/support/index.ts";
import { ourSideMeters, sandboxWorkerEnv, startWorkers } from "./sandbox-worker.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    inject: { type: "string", default: "20" },
    // Write a V8 CPU profile of the worker into this directory when it exits.
    "cpu-prof": { type: "string" },
  },
});
const ROWS = Number(values.rows);
const INJECT = Number(values.inject);
const { appId: APP_ID, sellerId: SELLER_ID } = LOCAL_MERCHANT;
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

  // Which trades get which difference: every kind, payments and refunds.
  const trades: { outTradeNo: string; refund: { outRequestNo: string; fen: number } | null }[] = [];
  for (const t of syntheticTrades(spec)) {
    if (trades.length >= 20 * INJECT + 100) break;
    trades.push({ outTradeNo: t.outTradeNo, refund: t.refund ? { outRequestNo: t.refund.outRequestNo, fen: t.refund.fen } : null });
  }
  const plain = trades.filter((t) => !t.refund);
  const withRefund = trades.filter((t) => t.refund);
  const take = (list: typeof trades, n: number) => list.splice(0, n);
  const injected = new Set<string>();
  const inject = (kind: string, refs: string[]) => refs.forEach((r) => injected.add(`${kind}:${r}`));
  // Payments: unpaid here; amount differs in the bill; left out of the bill; an order number we do not have.
  const unpaidHere = take(plain, INJECT).map((t) => t.outTradeNo);
  inject("paid_not_here", unpaidHere);
  const amountDiffers = take(plain, INJECT).map((t) => t.outTradeNo);
  inject("amount_differs", amountDiffers);
  const omitted = take(plain, INJECT).map((t) => t.outTradeNo);
  inject("paid_not_in_bill", omitted);
  const unknown = Array.from({ length: INJECT }, (_, i) => `bench_unknown_${SEED}_${i}`);
  inject("unknown_order", unknown);
  // Refunds: in the bill, no Refund row here; only the bill shows it; SUCCEEDED here, not in the
  // bill; SUCCEEDED here for another amount.
  const refundMissingHere = take(withRefund, INJECT).map((t) => t.refund!.outRequestNo);
  inject("refund_not_here", refundMissingHere);
  const extraRefunds = take(plain, INJECT).map((t, i) => ({ outTradeNo: t.outTradeNo, outRequestNo: `bench_extra_${SEED}_${i}` }));
  inject("refund_not_here", extraRefunds.map((r) => r.outRequestNo));
  const localOnlyRefunds = take(plain, INJECT).map((t, i) => ({ outTradeNo: t.outTradeNo, outRequestNo: `bench_local_${SEED}_${i}` }));
  inject("refund_not_at_alipay", localOnlyRefunds.map((r) => r.outRequestNo));
  const refundAmountDiffers = new Set(take(withRefund, INJECT).map((t) => t.refund!.outRequestNo));
  inject("amount_differs", [...refundAmountDiffers].map((r) => `refund:${r}`));
  sandbox.gateway.bills.addFaults({
    date: day,
    faults: [
      ...amountDiffers.map((outTradeNo) => ({ kind: "amountDiffers" as const, outTradeNo, amountFen: 1 })),
      ...omitted.map((outTradeNo) => ({ kind: "omitPayment" as const, outTradeNo })),
      ...unknown.map((outTradeNo) => ({ kind: "unknownTrade" as const, outTradeNo, amountFen: 4200 })),
      ...extraRefunds.map((r) => ({ kind: "extraRefund" as const, outTradeNo: r.outTradeNo, outRequestNo: r.outRequestNo, amountFen: 1 })),
    ],
  });

  // Alipay builds a day's bill once, overnight; so does the sandbox (outside the measured attempt).
  const prepareStart = Date.now();
  const zipBytes = await sandbox.gateway.bills.prepare(day);
  log(`bill file built at the sandbox: ${round(zipBytes / 2 ** 20)} MB in ${round((Date.now() - prepareStart) / 1000)} s`);

  // Local orders and refunds from the same generator, COPYed in.
  const buyer = await prisma.user.create({ data: { email: "bench-bill@local", passwordHash: "x" } });
  const unpaidSet = new Set(unpaidHere);
  const missingRefunds = new Set(refundMissingHere);
  const expires = new Date(`${day}T00:00:00+08:00`).toISOString();
  const noon = new Date(`${day}T12:00:00+08:00`).toISOString();
  const loadStart = Date.now();
  const client = await sqlPoolOf(prisma).connect();
  const copyLines = (sql: string, lines: () => Iterable<string>) =>
    pipeline(
      Readable.from((function* () {
        let buf = "";
        for (const line of lines()) {
          buf += line;
          if (buf.length > 256 * 1024) {
            yield buf;
            buf = "";
          }
        }
        if (buf) yield buf;
      })()),
      client.query(copyFrom(sql)),
    );
  try {
    await copyLines(`COPY "order" (out_trade_no, buyer_id, subject, total_fen, refunded_fen, status, trade_no, paid_at, expires_at, updated_at) FROM STDIN`, function* () {
      for (const t of syntheticTrades(spec)) {
        const paid = !unpaidSet.has(t.outTradeNo);
        const refunded = t.refund ? t.refund.fen : 0;
        const status = !paid ? "UNPAID" : refunded ? "PARTIALLY_REFUNDED" : "PAID";
        yield `${t.outTradeNo}\t${buyer.id}\tbench\t${t.totalFen}\t${paid ? refunded : 0}\t${status}\t${paid ? t.tradeNo : "\\N"}\t${paid ? new Date(t.paidAt).toISOString() : "\\N"}\t${expires}\t${expires}\n`;
      }
    });
    // Refund rows as core/refunds leaves a succeeded refund (docs/bills.md: matched by out_request_no).
    await client.query(`CREATE TEMP TABLE bench_refund_in (out_trade_no varchar(64), out_request_no varchar(64), amount_fen int, succeeded_at timestamptz)`);
    await copyLines(`COPY bench_refund_in (out_trade_no, out_request_no, amount_fen, succeeded_at) FROM STDIN`, function* () {
      for (const t of syntheticTrades(spec)) {
        if (!t.refund || missingRefunds.has(t.refund.outRequestNo)) continue;
        const fen = t.refund.fen + (refundAmountDiffers.has(t.refund.outRequestNo) ? 1 : 0);
        yield `${t.outTradeNo}\t${t.refund.outRequestNo}\t${fen}\t${new Date(t.refund.at).toISOString()}\n`;
      }
      for (const r of localOnlyRefunds) yield `${r.outTradeNo}\t${r.outRequestNo}\t1\t${noon}\n`;
    });
    await client.query(`
      INSERT INTO refund (order_id, out_request_no, amount_fen, state, source, reason, requested_by, submitted_at, succeeded_at, settled_by, created_at, updated_at)
      SELECT o.id, r.out_request_no, r.amount_fen, 'SUCCEEDED', 'staff', 'bench', 'bench@local', r.succeeded_at, r.succeeded_at, 'call', r.succeeded_at, r.succeeded_at
      FROM bench_refund_in r JOIN "order" o ON o.out_trade_no = r.out_trade_no`);
    await client.query(`ANALYZE refund`);
    await client.query(`ANALYZE "order"`);
  } finally {
    client.release();
  }
  log(`${ROWS} bill rows at the sandbox for ${day}; local orders loaded in ${round((Date.now() - loadStart) / 1000)} s; ${injected.size} differences injected`);

  const env = sandboxWorkerEnv(
    { services, sandboxUrl: sb.url, appId: APP_ID, sellerId: SELLER_ID, appPrivateKeyPem: appKeys.privateKeyPem, alipayPublicKeyPem: sandbox.gateway.alipayPublicKeyPem },
    // Only the staff job runs: no schedule tick competes with the measured attempt.
    { BILL_PENDING_DAYS: "0", BILL_SCHEDULE: "off" },
  );
  const [worker] = await startWorkers(env, { cpuProfDir: values["cpu-prof"] });
  roles.push(worker!);
  // The baseline once start-up allocation has settled: two RSS readings a second apart within 1 MB.
  let baseRss = rssBytes(worker!.pid);
  await waitFor("worker RSS to settle", async () => {
    const now = rssBytes(worker!.pid);
    const settled = Math.abs(now - baseRss) < 2 ** 20;
    baseRss = now;
    return settled;
  }, { timeoutMs: 60_000, intervalMs: 1000 });
  let peakRss = baseRss;
  const meters = await ourSideMeters(prisma, services, [worker!]);
  const loadAtStart = os.loadavg()[0]!;

  const queue = createBillQueue({ redisUrl: services.redisUrl, redisPrefix: services.redisPrefix });
  await queue.enqueueDate(day, "bench");
  await queue.close();
  await waitFor("the batch to finish", async () => {
    peakRss = Math.max(peakRss, rssBytes(worker!.pid));
    const b = await prisma.billBatch.findFirst({ where: { billDate: day } });
    return b !== null && ["matched", "differences", "no_bill", "corrupt", "failed"].includes(b.state);
  }, { timeoutMs: 30 * 60_000, intervalMs: 100 });
  const loadAtEnd = os.loadavg()[0]!;
  const cpuMs = meters.cpu.perUnitMs(1);
  const statements = await meters.statements.top(1, 8);
  const batch = await prisma.billBatch.findFirstOrThrow({ where: { billDate: day }, include: { attemptLog: true, differences: true } });
  const attempt = batch.attemptLog.at(-1)!;
  const seconds = (attempt.finishedAt!.getTime() - attempt.startedAt.getTime()) / 1000;
  const found = batch.differences.map((d) => `${d.kind}:${d.kind === "amount_differs" && d.outRequestNo ? `refund:${d.outRequestNo}` : d.ref}`);
  const foundInjected = found.filter((k) => injected.has(k)).length;
  const falseOnes = found.filter((k) => !injected.has(k));
  const missed = [...injected].filter((k) => !found.includes(k));
  if (falseOnes.length) log(`false differences (first 5): ${falseOnes.slice(0, 5).join(", ")}`);
  if (missed.length) log(`injected but not found (first 5): ${missed.slice(0, 5).join(", ")}`);
  if (batch.state !== "differences") log(`batch ended ${batch.state}: ${batch.lastError}`);
  const byKind: Record<string, number> = {};
  for (const k of found) byKind[k.split(":")[0]!] = (byKind[k.split(":")[0]!] ?? 0) + 1;
  const rows = batch.billTrades + batch.billRefunds;
  const detail = attempt.detail as { timingsMs?: Record<string, number> };
  console.log(JSON.stringify({
    rows,
    seconds: round(seconds),
    rowsPerS: Math.round(rows / seconds),
    rssGrowthMb: round((peakRss - baseRss) / 2 ** 20),
    differencesInjected: injected.size,
    differencesFound: foundInjected,
    falseDifferences: falseOnes.length,
    state: batch.state,
    foundByKind: byKind,
    /** CPU seconds from /proc while the attempt ran: comparable on a loaded machine, unlike `seconds` */
    cpuSeconds: {
      worker: round(cpuMs.worker! / 1000),
      postgres: round(cpuMs.postgres! / 1000),
      ourSide: round((cpuMs.worker! + cpuMs.postgres!) / 1000),
      sandboxAndBench: round(cpuMs.sandboxAndBench! / 1000),
    },
    /** the attempt's own phases (bill_attempt.detail.timingsMs) */
    ...(detail.timingsMs ? { phasesMs: detail.timingsMs } : {}),
    ...(statements ? { statements } : {}),
    rssBaseMb: round(baseRss / 2 ** 20),
    rssPeakMb: round(peakRss / 2 ** 20),
    machine: { nproc: os.availableParallelism(), loadAvgBefore: round(LOAD_BEFORE), loadAvgAtStart: round(loadAtStart), loadAvgEnd: round(loadAtEnd) },
  }));
} finally {
  await Promise.all(roles.map((r) => r.kill("SIGTERM")));
  await sandbox.close();
  await prisma.$disconnect();
  await services.cleanup();
}
