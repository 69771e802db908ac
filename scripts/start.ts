// `npm start`: the whole product on one machine with local defaults.
//   services (PostgreSQL, Redis: configured, found, or started privately in .data/)
//   → migrations → demo seed → sandbox gateway → api, worker, admin → their URLs.
// Ctrl-C (or SIGTERM) stops the roles, then the private services.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { generateRsaKeyPair } from "../core/alipay/keys.ts";
import { seed } from "../prisma/seed.ts";
import { ensureDatabaseExists, ensureLocalServices, freePort, MissingBinaryError } from "./local-services.ts";
import { ensurePrismaClient, migrateDeploy } from "./prisma-cli.ts";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = path.resolve(process.env.COURSEPAY_DATA_DIR ?? path.join(root, ".data"));
const say = (m: string) => process.stdout.write(`[start] ${m}\n`);

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

async function waitHttp(url: string, child: ChildProcess, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms`);
}

const children: { role: string; child: ChildProcess }[] = [];
function startRole(role: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => process.stdout.write(`[${role}] ${line}\n`));
  }
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
  const services = await ensureLocalServices({ dataDir, log: (m) => say(m) });
  stopServices = services.stop;
  await ensureDatabaseExists(services.databaseUrl);
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
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    API_PORT: String(ports.api), ADMIN_PORT: String(ports.admin), WORKER_PORT: String(ports.worker), SANDBOX_PORT: String(ports.sandbox),
    API_PUBLIC_URL: urls.api, ADMIN_PUBLIC_URL: urls.admin, SANDBOX_PUBLIC_URL: urls.sandbox,
    TOKEN_SECRET: process.env.TOKEN_SECRET ?? secrets.tokenSecret,
    SESSION_SECRET: process.env.SESSION_SECRET ?? secrets.sessionSecret,
  };

  say("applying migrations (prisma migrate deploy)");
  await ensurePrismaClient(env);
  await migrateDeploy(env);
  await seed(services.databaseUrl, (line) => say(line));

  const useLocalSandbox = (process.env.ALIPAY_GATEWAY ?? "sandbox") === "sandbox";
  if (useLocalSandbox) {
    const sandboxData = path.join(dataDir, "sandbox");
    const sandbox = startRole("sandbox", "sandbox/main.ts", {
      ...env,
      SANDBOX_DATA_DIR: sandboxData,
      SANDBOX_MERCHANT_PUBLIC_KEY_FILE: secrets.appPublicKeyFile,
      SANDBOX_APP_ID: process.env.ALIPAY_APP_ID ?? "2021000000000001",
      SANDBOX_SELLER_ID: process.env.ALIPAY_SELLER_ID ?? "2088000000000001",
    });
    await waitHttp(`${urls.sandbox}/healthz`, sandbox, "sandbox");
    env.ALIPAY_PUBLIC_KEY_FILE ||= path.join(sandboxData, "alipay-public.pem");
    env.ALIPAY_APP_PRIVATE_KEY_FILE ||= secrets.appPrivateKeyFile;
  }
  const roles = [
    { role: "api", entry: "api/main.ts", url: urls.api },
    { role: "worker", entry: "worker/main.ts", url: urls.worker },
    { role: "admin", entry: "admin/main.ts", url: urls.admin },
  ];
  await Promise.all(roles.map(({ role, entry, url }) => waitHttp(`${url}/readyz`, startRole(role, entry, env), role)));

  say("coursepay is up:");
  say(`  shop (buyer pages, API)  ${urls.api}/`);
  say(`  admin (staff)            ${urls.admin}/admin`);
  if (useLocalSandbox) say(`  local Alipay sandbox     ${urls.sandbox}/gateway.do  (its trades: ${urls.sandbox}/sandbox/control/trades)`);
  say(`  worker health            ${urls.worker}/readyz`);
  say("Ctrl-C stops everything.");
} catch (e) {
  process.stderr.write(`[start] ${e instanceof MissingBinaryError ? "" : "failed: "}${(e as Error).message}\n`);
  await shutdown(1);
}
