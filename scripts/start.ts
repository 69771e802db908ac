// `npm start`: the whole product on one machine with local defaults.
//   sandbox gateway (needs neither database nor Redis: it starts first, beside everything else)
//   services (PostgreSQL, Redis: configured, found, or started privately in .data/) → migrations
//   → api, worker, admin, beside the demo seed → their URLs.
// Only what depends on something waits for it: the roles for the services and the schema (and, on the
// very first start, for the sandbox's Alipay key), the final block for the seed's new accounts.
// Ctrl-C (or SIGTERM) stops the roles, then the private services (which run in their own process
// group, so the terminal's Ctrl-C does not stop them under the roles).
//
// Run as compiled JavaScript (`npm start` builds .build/ first when a source changed), the roles
// start from .build/ too; run through tsx (`tsx scripts/start.ts`), they run through tsx.
// The roles' output goes whole to .data/logs/<role>.log; the console shows warnings and errors only
// (`npm start -- --verbose` or COURSEPAY_VERBOSE=1: everything).
import { spawn, type ChildProcess } from "node:child_process";
import { get } from "node:http";
import { randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { generateRsaKeyPair } from "../core/alipay/keys.ts";
import { LOCAL_MERCHANT } from "../core/config/index.ts";
import { DEMO_BUYER_EMAIL, DEMO_STAFF_EMAIL, seed } from "../prisma/seed.ts";
import { ensureDatabaseExists, ensureLocalServices, freePort, MissingBinaryError } from "./local-services.ts";
import { ensurePrismaClient, migrateDeploy, pendingMigrations } from "./prisma-cli.ts";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = path.resolve(process.env.COURSEPAY_DATA_DIR ?? path.join(root, ".data"));
const say = (m: string) => process.stdout.write(`[start] ${m}\n`);
const verbose = process.argv.includes("--verbose") || process.env.COURSEPAY_VERBOSE === "1";
// This file compiled (.build/scripts/start.js): start the roles' compiled entries as well.
const compiled = process.argv[1]?.endsWith(".js") ?? false;
const logsDir = path.join(dataDir, "logs");
// Where start-up time goes, printed with "coursepay is up": seconds since start at the end of each phase.
const started = Date.now();
const phases: string[] = [];
const phase = (name: string): void => void phases.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)}`);

// Local-only secrets and the merchant's key pair, made once and kept in .data/ (never committed).
function ensureLocalSecrets(): { tokenSecret: string; sessionSecret: string; appPrivateKeyFile: string; appPublicKeyFile: string } {
  const keysDir = path.join(dataDir, "keys");
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const appPrivateKeyFile = path.join(keysDir, "app-private.pem");
  const appPublicKeyFile = path.join(keysDir, "app-public.pem");
  if (!existsSync(appPrivateKeyFile)) {
    const pair = generateRsaKeyPair();
    writeFileSync(appPrivateKeyFile, pair.privateKeyPem, { mode: 0o600 });
    writeFileSync(appPublicKeyFile, pair.publicKeyPem);
    say(`generated the local merchant key pair in ${keysDir}`);
  }
  const secretsFile = path.join(dataDir, "secrets.json");
  if (!existsSync(secretsFile)) {
    const secrets = { tokenSecret: randomBytes(32).toString("base64url"), sessionSecret: randomBytes(32).toString("base64url") };
    writeFileSync(secretsFile, JSON.stringify(secrets), { mode: 0o600 });
  }
  chmodSync(secretsFile, 0o600);
  const secrets = JSON.parse(readFileSync(secretsFile, "utf8"));
  return { ...secrets, appPrivateKeyFile, appPublicKeyFile };
}

async function pickPort(variable: string, fallback: number): Promise<number> {
  if (process.env[variable]) return Number(process.env[variable]);
  const { createServer } = await import("node:net");
  const free = await new Promise<boolean>((resolve) => {
    const s = createServer().once("error", () => resolve(false)).listen(fallback, "127.0.0.1", () => s.close(() => resolve(true)));
  });
  if (free) return fallback;
  const port = await freePort();
  say(`port ${fallback} is busy; ${variable}=${port}`);
  return port;
}

// Readiness, not a deadline: a role that is still starting on a loaded machine is waited for (it fails
// fast if it exits); the ceiling only catches one that hangs.
// (node:http, not fetch: a fetch per poll cost the launcher ~0.5 s of CPU over a start.)
function answers200(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

async function waitHttp(url: string, child: ChildProcess, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    if (await answers200(url)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms`);
}

/** pino's numeric levels: 40 warn, 50 error, 60 fatal. */
const WARN = 40;

/** What the console shows of a role's log line: warnings and errors, briefly; other lines only when verbose. */
function consoleLine(line: string): string | null {
  if (verbose) return line;
  if (!line.startsWith("{")) return line; // not a log record (a crash trace, a library's print)
  try {
    const rec = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } | string };
    if ((rec.level ?? 0) < WARN) return null;
    const err = typeof rec.err === "string" ? rec.err : rec.err?.message;
    return `${rec.level! >= 50 ? "ERROR" : "warn"}: ${rec.msg ?? ""}${err ? ` (${err})` : ""}`;
  } catch {
    return line;
  }
}

const children: { role: string; child: ChildProcess }[] = [];
function startRole(role: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const args = compiled ? [path.join(root, ".build", entry.replace(/\.ts$/, ".js"))] : ["--import", "tsx", entry];
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  mkdirSync(logsDir, { recursive: true });
  const logFile = createWriteStream(path.join(logsDir, `${role}.log`), { flags: "a" });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      logFile.write(`${line}\n`);
      const shown = consoleLine(line);
      if (shown !== null) process.stdout.write(`[${role}] ${shown}\n`);
    });
  }
  child.once("exit", () => logFile.end());
  child.on("exit", (code, signal) => {
    if (!shuttingDown) {
      process.stdout.write(`[start] ${role} exited (${signal ?? code}); stopping everything\n`);
      void shutdown(1);
    }
  });
  children.push({ role, child });
  return child;
}

let shuttingDown = false;
let stopServices: () => Promise<void> = async () => {};
async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  say("stopping…");
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
          setTimeout(() => child.kill("SIGKILL"), 20_000).unref();
        }),
    ),
  );
  await stopServices();
  say("stopped");
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  // Created first with the default mode: the private PostgreSQL (run as the postgres user) keeps its
  // cluster under it, and ensureLocalSecrets's 0700 `keys/` must not be what creates it.
  mkdirSync(dataDir, { recursive: true });
  const secrets = ensureLocalSecrets();
  const ports = {
    api: await pickPort("API_PORT", 3000),
    admin: await pickPort("ADMIN_PORT", 3001),
    worker: await pickPort("WORKER_PORT", 3002),
    sandbox: await pickPort("SANDBOX_PORT", 3003),
  };
  const host = process.env.HOST ?? "127.0.0.1";
  const urls = {
    api: process.env.API_PUBLIC_URL ?? `http://${host}:${ports.api}`,
    admin: process.env.ADMIN_PUBLIC_URL ?? `http://${host}:${ports.admin}`,
    worker: `http://${host}:${ports.worker}`,
    sandbox: process.env.SANDBOX_PUBLIC_URL ?? `http://${host}:${ports.sandbox}`,
  };
  const roleEnv: NodeJS.ProcessEnv = {
    ...process.env,
    API_PORT: String(ports.api), ADMIN_PORT: String(ports.admin), WORKER_PORT: String(ports.worker), SANDBOX_PORT: String(ports.sandbox),
    API_PUBLIC_URL: urls.api, ADMIN_PUBLIC_URL: urls.admin, SANDBOX_PUBLIC_URL: urls.sandbox,
    TOKEN_SECRET: process.env.TOKEN_SECRET ?? secrets.tokenSecret,
    SESSION_SECRET: process.env.SESSION_SECRET ?? secrets.sessionSecret,
  };

  // The sandbox first: it needs no database or Redis, so it starts while the services do.
  const useLocalSandbox = (process.env.ALIPAY_GATEWAY ?? "sandbox") === "sandbox";
  let sandboxUp: Promise<void> = Promise.resolve();
  let sandboxKeyWritten: Promise<void> = Promise.resolve();
  if (useLocalSandbox) {
    const sandboxData = path.join(dataDir, "sandbox");
    const alipayPublicKeyFile = path.join(sandboxData, "alipay-public.pem");
    // The sandbox writes its Alipay key on its first start; the roles read it. Once it exists
    // (every later start), the roles need not wait for the sandbox.
    const keyExisted = existsSync(alipayPublicKeyFile);
    const sandbox = startRole("sandbox", "sandbox/main.ts", {
      ...roleEnv,
      SANDBOX_DATA_DIR: sandboxData,
      SANDBOX_MERCHANT_PUBLIC_KEY_FILE: secrets.appPublicKeyFile,
      SANDBOX_APP_ID: process.env.ALIPAY_APP_ID ?? LOCAL_MERCHANT.appId,
      SANDBOX_SELLER_ID: process.env.ALIPAY_SELLER_ID ?? LOCAL_MERCHANT.sellerId,
    });
    sandboxUp = waitHttp(`${urls.sandbox}/healthz`, sandbox, "sandbox").then(() => phase("sandbox"));
    if (!keyExisted) sandboxKeyWritten = sandboxUp;
    roleEnv.ALIPAY_PUBLIC_KEY_FILE ||= alipayPublicKeyFile;
    roleEnv.ALIPAY_APP_PRIVATE_KEY_FILE ||= secrets.appPrivateKeyFile;
  }
  // Until the services are up, a failure of the sandbox is reported by whichever comes first.
  sandboxUp.catch(() => {});

  const services = await ensureLocalServices({ dataDir, log: (m) => say(m), detached: true });
  phase("services");
  stopServices = services.stop;
  await ensureDatabaseExists(services.databaseUrl);
  const env: NodeJS.ProcessEnv = { ...roleEnv, DATABASE_URL: services.databaseUrl, REDIS_URL: services.redisUrl };

  await ensurePrismaClient(env);
  // `prisma migrate deploy` costs seconds (npx, then Prisma's schema engine) even with nothing to do.
  const pending = await pendingMigrations(services.databaseUrl);
  if (pending.length > 0) {
    say(`applying ${pending.length} migration(s) (prisma migrate deploy)`);
    await migrateDeploy(env);
  }
  phase("migrations");
  // Passwords are printed in the final block, where the following log lines cannot push them away.
  const seeded = seed(services.databaseUrl, () => {}).then((accounts) => {
    phase("seed");
    return accounts;
  });
  seeded.catch(() => {});

  await sandboxKeyWritten;
  const roles = [
    { role: "api", entry: "api/main.ts", url: urls.api },
    { role: "worker", entry: "worker/main.ts", url: urls.worker },
    { role: "admin", entry: "admin/main.ts", url: urls.admin },
  ];
  const [accounts] = await Promise.all([
    seeded,
    sandboxUp,
    ...roles.map(({ role, entry, url }) => waitHttp(`${url}/readyz`, startRole(role, entry, env), role).then(() => phase(role))),
  ]);

  say(`coursepay is up (in ${((Date.now() - started) / 1000).toFixed(1)} s: ${phases.join(", ")}):`);
  say(`  shop (buyer pages, API)  ${urls.api}/`);
  say(`  admin (staff)            ${urls.admin}/admin`);
  if (useLocalSandbox) say(`  local Alipay sandbox     ${urls.sandbox}/gateway.do  (its trades: ${urls.sandbox}/sandbox/control/trades)`);
  say(`  worker health            ${urls.worker}/readyz`);
  if (accounts.length > 0) {
    say("sign in with (passwords shown this once, stored only as hashes):");
    for (const a of accounts) say(`  ${a.line}`);
  } else {
    say("sign in:");
    say(`  staff: ${DEMO_STAFF_EMAIL} — password shown at the first start; new one: npm run staff -- reset ${DEMO_STAFF_EMAIL}`);
    say(`  buyer: ${DEMO_BUYER_EMAIL} (password shown at the first start), or register a new buyer at ${urls.api}/signin`);
  }
  say(`logs: ${logsDir}/<role>.log (the console shows warnings and errors; --verbose shows everything)`);
  say("Ctrl-C stops everything.");
} catch (e) {
  process.stderr.write(`[start] ${e instanceof MissingBinaryError ? "" : "failed: "}${(e as Error).message}\n`);
  await shutdown(1);
}
