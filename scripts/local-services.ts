// Local services launcher: gives the product a PostgreSQL and a Redis on a machine where none is
// configured. Rules, in order, for each service:
//   1. DATABASE_URL / REDIS_URL set  → use it as is.
//   2. something answers on the default local port and accepts us → use it.
//   3. otherwise start a private server from the machine's binaries, with its data in .data/,
//      on a free port, and stop it when we exit. Re-running reuses the data directory.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, chmodSync } from "node:fs";
import { createServer, connect } from "node:net";
import path from "node:path";
import pg from "pg";
import { Redis } from "ioredis";

export interface LocalServices {
  databaseUrl: string;
  redisUrl: string;
  /** What was started here (empty when everything was configured or already running). */
  started: string[];
  stop(): Promise<void>;
}

export class MissingBinaryError extends Error {}

type Log = (msg: string) => void;

const isRoot = process.getuid?.() === 0;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function portAnswers(port: number, host = "127.0.0.1", timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    const done = (ok: boolean) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, child?: ChildProcess) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before answering`);
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer within ${timeoutMs} ms`);
}

function findPostgresBin(name: string): string {
  const roots = ["/usr/lib/postgresql"];
  for (const root of roots) {
    if (!existsSync(root)) continue;
    const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const p = path.join(root, v, "bin", name);
      if (existsSync(p)) return p;
    }
  }
  const which = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new MissingBinaryError(
    `PostgreSQL server binary '${name}' not found (looked in /usr/lib/postgresql/*/bin and PATH). ` +
      `Install it with: apt-get install -y postgresql-15   — or set DATABASE_URL to a running server.`,
  );
}

function findRedisServer(): string {
  for (const p of ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]) if (existsSync(p)) return p;
  const which = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new MissingBinaryError(
    "redis-server not found. Install it with: apt-get install -y redis-server   — or set REDIS_URL to a running server.",
  );
}

// PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` system user. Node's
// spawn switches uid/gid itself, so the server is our direct child (a `runuser` wrapper in between
// did not pass on our stop signal reliably).
function postgresUser(): { uid: number; gid: number } | {} {
  if (!isRoot) return {};
  const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  const uid = id("-u"), gid = id("-g");
  if (uid.status !== 0) {
    throw new MissingBinaryError(
      "running as root, but there is no 'postgres' system user to run PostgreSQL as. " +
        "Install the server package (apt-get install -y postgresql-15), which creates it.",
    );
  }
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

async function canConnectPg(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The name of the database a URL names. */
const databaseName = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));
/** An SQL identifier, quoted. */
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Runs `fn` on a connection to the server's `postgres` database (creating and dropping others). */
async function onServer<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function ensureDatabaseExists(url: string): Promise<void> {
  const name = databaseName(url);
  await onServer(url, async (c) => {
    const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (r.rowCount === 0) await c.query(`CREATE DATABASE ${ident(name)}`);
  });
}

function postmasterPort(dataDir: string): number | null {
  // A postgres left running by an earlier launcher (killed without cleanup) still owns the data
  // directory; reuse it rather than failing on the lock.
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(lines[0]);
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  return Number(lines[3]) || null;
}

/**
 * `detached`: run the server in its own process group, so a Ctrl-C at the terminal (SIGINT to the
 * whole foreground group) does not stop it under the roles still using it; the launcher stops it
 * after them (npm start). Without it, a Ctrl-C stops it with its launcher (test runs, benchmarks).
 */
async function startPrivatePostgres(dataRoot: string, log: Log, detached = false): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = path.join(dataRoot, "postgres");
  const postgres = findPostgresBin("postgres");
  const initdb = findPostgresBin("initdb");
  mkdirSync(dataRoot, { recursive: true });
  if (!existsSync(path.join(dir, "PG_VERSION"))) {
    mkdirSync(dir, { recursive: true });
    if (isRoot) spawnSync("chown", ["postgres:postgres", dir]);
    chmodSync(dir, 0o700);
    log(`initialising a private PostgreSQL cluster in ${dir}`);
    const r = spawnSync(initdb, ["-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"], {
      encoding: "utf8", ...postgresUser(), cwd: "/",
    });
    if (r.status !== 0) {
      throw new Error(
        `initdb failed (${r.status}): ${r.stderr || r.stdout}` +
          (isRoot ? "\n(as root, the postgres user must be able to reach this folder: check the permissions of its parents)" : ""),
      );
    }
  }
  const running = postmasterPort(dir);
  if (running) {
    const url = `postgresql://postgres@127.0.0.1:${running}/coursepay`;
    log(`reusing the private PostgreSQL already running on port ${running}`);
    return { url, stop: async () => {} };
  }
  const port = await freePort();
  const args = [
    "-D", dir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
    "-c", "max_connections=200",
  ];
  const logFile = path.join(dataRoot, "postgres.log");
  const child = spawn(postgres, args, { stdio: ["ignore", "pipe", "pipe"], ...postgresUser(), cwd: "/", detached });
  const tail: string[] = [];
  const keep = (b: Buffer) => {
    tail.push(b.toString());
    if (tail.length > 50) tail.shift();
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const url = `postgresql://postgres@127.0.0.1:${port}/coursepay`;
  try {
    await waitFor("PostgreSQL", () => canConnectPg(url.replace(/\/coursepay$/, "/postgres")), 30_000, child);
  } catch (e) {
    writeFileSync(logFile, tail.join(""));
    child.kill("SIGINT");
    throw new Error(`${(e as Error).message}\n${tail.join("").slice(-2000)}`);
  }
  log(`private PostgreSQL on 127.0.0.1:${port} (data in ${dir})`);
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGINT"); // "fast" shutdown: abort transactions, checkpoint, exit
        setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
      }),
  };
}

async function redisAnswers(url: string): Promise<{ ok: boolean; policy?: string }> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on("error", () => {});
  try {
    await r.connect();
    const cfg = (await r.config("GET", "maxmemory-policy").catch(() => [])) as string[];
    return { ok: true, policy: cfg[1] };
  } catch {
    return { ok: false };
  } finally {
    r.disconnect();
  }
}

export async function startPrivateRedis(
  dataRoot: string, log: Log, fixedPort?: number, detached = false,
): Promise<{ url: string; port: number; stop: () => Promise<void> }> {
  const bin = findRedisServer();
  const dir = path.join(dataRoot, "redis");
  mkdirSync(dir, { recursive: true });
  // Like PostgreSQL's postmaster.pid: a Redis an earlier launcher left running owns this data
  // directory (two servers must not share one append-only file), so reuse it.
  const stateFile = path.join(dir, "launcher.json");
  if (existsSync(stateFile)) {
    const prev = JSON.parse(readFileSync(stateFile, "utf8")) as { pid: number; port: number };
    let alive = true;
    try {
      process.kill(prev.pid, 0);
    } catch {
      alive = false;
    }
    const url = `redis://127.0.0.1:${prev.port}`;
    if (alive && (fixedPort === undefined || fixedPort === prev.port) && (await redisAnswers(url)).ok) {
      log(`reusing the private Redis already running on port ${prev.port}`);
      return { url, port: prev.port, stop: async () => {} };
    }
  }
  const port = fixedPort ?? (await freePort());
  // noeviction: BullMQ loses jobs if Redis may evict keys. appendonly: queued jobs survive a restart.
  const child = spawn(bin, [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--maxmemory-policy", "noeviction",
    "--appendonly", "yes", "--save", "", "--daemonize", "no", "--protected-mode", "yes",
  ], { stdio: ["ignore", "pipe", "pipe"], detached });
  const tail: string[] = [];
  child.stdout!.on("data", (b: Buffer) => { tail.push(b.toString()); if (tail.length > 30) tail.shift(); });
  child.stderr!.on("data", (b: Buffer) => { tail.push(b.toString()); if (tail.length > 30) tail.shift(); });
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitFor("Redis", async () => (await redisAnswers(url)).ok, 15_000, child);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${(e as Error).message}\n${tail.join("").slice(-2000)}`);
  }
  writeFileSync(stateFile, JSON.stringify({ pid: child.pid, port }));
  log(`private Redis on 127.0.0.1:${port} (data in ${dir}, maxmemory-policy noeviction)`);
  return {
    url,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}

export async function ensureLocalServices(options: { dataDir: string; log?: Log; env?: NodeJS.ProcessEnv; detached?: boolean }): Promise<LocalServices> {
  const log = options.log ?? ((m) => process.stderr.write(`[services] ${m}\n`));
  const env = options.env ?? process.env;
  const started: string[] = [];
  const stops: Array<() => Promise<void>> = [];

  let databaseUrl = env.DATABASE_URL;
  if (databaseUrl) {
    log("using DATABASE_URL from the environment");
  } else if ((await portAnswers(5432)) && (await canConnectPg("postgresql://postgres@127.0.0.1:5432/postgres"))) {
    databaseUrl = "postgresql://postgres@127.0.0.1:5432/coursepay";
    log("using the PostgreSQL answering on 127.0.0.1:5432");
  } else {
    const pgSrv = await startPrivatePostgres(options.dataDir, log, options.detached);
    databaseUrl = pgSrv.url;
    stops.push(pgSrv.stop);
    started.push("postgresql");
  }

  let redisUrl = env.REDIS_URL;
  try {
    if (redisUrl) {
      log("using REDIS_URL from the environment");
    } else if ((await portAnswers(6379)) && (await redisAnswers("redis://127.0.0.1:6379")).ok) {
      redisUrl = "redis://127.0.0.1:6379";
      const { policy } = await redisAnswers(redisUrl);
      if (policy && policy !== "noeviction") log(`warning: Redis on 6379 has maxmemory-policy ${policy}; BullMQ needs noeviction`);
      log("using the Redis answering on 127.0.0.1:6379");
    } else {
      const r = await startPrivateRedis(options.dataDir, log, undefined, options.detached);
      redisUrl = r.url;
      stops.push(r.stop);
      started.push("redis");
    }
  } catch (e) {
    for (const s of stops.reverse()) await s();
    throw e;
  }

  return {
    databaseUrl,
    redisUrl,
    started,
    stop: async () => {
      for (const s of stops.reverse()) await s().catch(() => {});
    },
  };
}

/** Drop a throwaway database (tests, benchmarks), even with connections still open. */
export async function dropDatabase(url: string): Promise<void> {
  await onServer(url, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(databaseName(url))} WITH (FORCE)`));
}

/**
 * A copy of a database under a new name (CREATE DATABASE … TEMPLATE): a migrated, empty schema in
 * milliseconds instead of a `migrate deploy`. PostgreSQL refuses while anyone is connected to the
 * template, so the template must be one nobody uses (scripts/test.ts makes one per run).
 */
export async function cloneDatabase(templateUrl: string, url: string): Promise<void> {
  await onServer(url, (c) => c.query(`CREATE DATABASE ${ident(databaseName(url))} TEMPLATE ${ident(databaseName(templateUrl))}`));
}

/** Drop every database whose name starts with `prefix` (a test run's clones, left by a crashed file). */
export async function dropDatabasesStartingWith(url: string, prefix: string): Promise<void> {
  await onServer(url, async (c) => {
    const { rows } = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [prefix]);
    for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${ident(datname)} WITH (FORCE)`);
  });
}

/** Delete every Redis key under a prefix (a test run's or a benchmark's queues). */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
}
