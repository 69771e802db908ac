// `npm test`: type-check, then unit and integration tests against real PostgreSQL and Redis.
// Each run gets a fresh database (migrated with Prisma's own CLI) and a fresh Redis key prefix,
// both removed afterwards. `npm run test:e2e` runs the browser tests the same way.
//   tsx scripts/test.ts [unit|integration|e2e|all] [-- extra node --test args / files]
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, statSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { cloneDatabase, deleteRedisPrefix, dropDatabasesStartingWith, ensureDatabaseExists, ensureLocalServices } from "./local-services.ts";
import { ensurePrismaClient, migrateDeploy } from "./prisma-cli.ts";

const root = path.resolve(import.meta.dirname, "..");
const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
const positional = sep >= 0 ? argv.slice(0, sep) : argv;
const extra = sep >= 0 ? argv.slice(sep + 1) : [];
const suite = positional[0] ?? "default";
const suites: Record<string, string[]> = {
  default: ["test/unit", "test/integration"],
  unit: ["test/unit"],
  integration: ["test/integration"],
  e2e: ["test/e2e"],
  all: ["test/unit", "test/integration", "test/e2e"],
};
if (!suites[suite]) {
  process.stderr.write(`unknown suite "${suite}": use one of ${Object.keys(suites).join(", ")}\n`);
  process.exit(2);
}

function testFiles(dir: string): string[] {
  const abs = path.join(root, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) return testFiles(rel);
    return name.endsWith(".test.ts") ? [rel] : [];
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const step = (msg: string) => process.stderr.write(`\n[test] ${msg}\n`);

await ensurePrismaClient();
if (suite !== "e2e" && !process.env.SKIP_TYPECHECK) {
  step("type-check (tsc --noEmit)");
  const tsc = spawnSync("npx", ["tsc", "--noEmit", "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
  if (tsc.status !== 0) {
    process.stderr.write("[test] type-check failed\n");
    process.exit(1);
  }
}

const files = extra.some((a) => a.endsWith(".ts")) ? [] : suites[suite].flatMap(testFiles);
const runId = `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
step(`services`);
// Each run gets servers of its own (when none is configured or answering on the default ports):
// runs side by side must not stop each other's PostgreSQL or Redis. initdb costs about a second.
const runDataDir = path.join(root, ".data", "test-runs", runId);
const services = await ensureLocalServices({ dataDir: runDataDir, log: (m) => process.stderr.write(`[services] ${m}\n`) });

const dbUrl = new URL(services.databaseUrl);
dbUrl.pathname = `/coursepay_test_${runId}`;
const databaseUrl = dbUrl.toString();
const redisPrefix = `coursepay_test_${runId}`;
let exitCode = 1;

try {
  step(`fresh database coursepay_test_${runId}, Redis prefix ${redisPrefix}`);
  await ensureDatabaseExists(databaseUrl);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "test",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    DATABASE_URL: databaseUrl,
    REDIS_URL: services.redisUrl,
    REDIS_PREFIX: redisPrefix,
    COURSEPAY_TEST_RUN_ID: runId,
    COURSEPAY_ARTIFACTS_DIR: path.join(root, "test-artifacts"),
  };
  mkdirSync(env.COURSEPAY_ARTIFACTS_DIR!, { recursive: true });
  await migrateDeploy(env);
  // An untouched copy of the migrated database: a test file that needs a database of its own (every
  // e2e file: test/support/database.ts) clones it, since nobody is ever connected to it.
  const templateUrl = new URL(databaseUrl);
  templateUrl.pathname = `/coursepay_test_${runId}_template`;
  await cloneDatabase(databaseUrl, templateUrl.toString());
  env.COURSEPAY_TEST_TEMPLATE_DATABASE_URL = templateUrl.toString();
  step(`${files.length} test files (${suites[suite].join(", ")})`);
  exitCode = await run(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...extra, ...files], env);
} catch (e) {
  process.stderr.write(`[test] ${(e as Error).message}\n`);
  exitCode = 1;
} finally {
  if (!process.env.KEEP_TEST_DATA) {
    // The run's database, its template and any per-file clone a crashed file left behind.
    await dropDatabasesStartingWith(databaseUrl, `coursepay_test_${runId}`).catch((e) => process.stderr.write(`[test] could not drop the test databases: ${e.message}\n`));
    await deleteRedisPrefix(services.redisUrl, redisPrefix).catch((e) => process.stderr.write(`[test] could not clean Redis keys: ${e.message}\n`));
  }
  await services.stop();
  rmSync(runDataDir, { recursive: true, force: true });
}
process.exit(exitCode);
