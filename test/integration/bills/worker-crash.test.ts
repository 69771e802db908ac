// A worker killed (SIGKILL) in the middle of a bill batch: the batch's load-and-match transaction
// dies with it, and once the lease expires the next run takes the batch over as a new attempt and
// finishes it — with no duplicate difference records and no rows left from the dead attempt.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { addDays, beijingDay, reconcileBillDay } from "../../../core/bills/index.ts";
import { CONDITION_CEILING_MS, ROLE_START_CEILING_MS, waitFor } from "../../support/index.ts";
import { merchantKeyPair } from "../sandbox/helpers.ts";
import { billWorld, type BillWorld } from "./support.ts";

let w: BillWorld;
before(async () => {
  w = await billWorld();
});
after(async () => w.close());

test("worker killed mid-batch → the batch finishes on the next run, no duplicate differences", async () => {
  const D = addDays(beijingDay(new Date()), -70);
  const ROWS = 60_000;
  await w.bills.synthetic({ date: D, rows: ROWS, seed: "crash" }); // no local orders: every payment row is an unknown order
  // The child signs with this process's merchant key (the one the sandbox trusts), read from a file.
  const keyFile = path.join(w.t.dataDir, "alipay-public.pem");
  writeFileSync(keyFile, w.t.alipayPublicKeyPem);
  const merchantKeyFile = path.join(w.t.dataDir, "merchant-private.pem");
  writeFileSync(merchantKeyFile, merchantKeyPair().privateKeyPem, { mode: 0o600 });
  const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "run-day.ts"), w.t.url, keyFile, D, merchantKeyFile], {
    env: process.env, stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (b) => (out += b));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  // Kill it inside its load-and-match transaction: from its DELETE of the batch's old rows until its
  // COMMIT, that transaction holds a RowExclusiveLock on bill_row (COPY, then the matching).
  await waitFor("the child to be loading rows into bill_row", async () => {
    const [held] = await w.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
      WHERE c.relname = 'bill_row' AND l.mode = 'RowExclusiveLock' AND l.granted AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
    return held!.n > 0;
  }, { timeoutMs: ROLE_START_CEILING_MS, intervalMs: 10 });
  child.kill("SIGKILL");
  await exited;
  assert.equal(out, "", `the child was killed before finishing (it printed ${out})`);
  const dead = await w.prisma.billBatch.findFirstOrThrow({ where: { billDate: D } });
  assert.equal(dead.state, "running", "left running under its lease");
  assert.equal(await w.prisma.billDifference.count({ where: { batchId: dead.id } }), 0, "nothing from the killed attempt was committed");

  // A run while the lease holds is skipped; after it expires the batch is taken over.
  await waitFor("the lease to expire", async () => {
    const r = await reconcileBillDay(w.deps(), { billDate: D, trigger: "schedule" });
    return r.kind !== "skipped";
  }, { timeoutMs: CONDITION_CEILING_MS, intervalMs: 500 });
  const done = await w.prisma.billBatch.findFirstOrThrow({ where: { billDate: D }, include: { attemptLog: true } });
  assert.equal(done.state, "differences");
  assert.equal(done.attempts, 2);
  assert.deepEqual(done.attemptLog.map((a) => a.outcome).sort(), ["differences", "running"], "the dead attempt stays in the audit as never finished");
  const trades = done.billTrades;
  assert.equal(trades + done.billRefunds, ROWS);
  // No local orders or refunds: every payment row is an unknown order and every refund row a refund
  // we never made, each recorded once.
  const byKind = await w.prisma.billDifference.groupBy({ by: ["kind"], where: { batchId: done.id }, _count: { _all: true } });
  const count = (kind: string) => byKind.find((k) => k.kind === kind)?._count._all ?? 0;
  assert.equal(count("unknown_order"), trades, "one unknown_order difference per payment row, none twice");
  assert.equal(count("refund_not_here"), done.billRefunds, "one refund_not_here difference per refund row, none twice");
  assert.equal(byKind.reduce((n, k) => n + k._count._all, 0), ROWS, "no other difference");
  assert.equal(await w.prisma.billRow.count({ where: { batchId: done.id } }), ROWS, "the rows of one attempt only");
});
