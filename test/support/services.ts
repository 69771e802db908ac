// PostgreSQL + Redis for programs that run outside scripts/test.ts (benchmarks): the same services
// (configured, found, or started privately in .data/), a fresh database migrated with Prisma's own
// CLI, a fresh Redis key prefix, and cleanup of all three.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { deleteRedisPrefix, dropDatabase, ensureDatabaseExists, ensureLocalServices } from "../../scripts/local-services.ts";

const root = path.resolve(import.meta.dirname, "../..");

export interface ProvisionedServices {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** Drop the database and the prefix's keys; stop services started here. */
  cleanup(): Promise<void>;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    const child = spawn(cmd, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (b) => (out += b));
    child.stderr!.on("data", (b) => (out += b));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${out}`))));
  });
}

export async function provisionServices(name: string, log: (m: string) => void = (m) => process.stderr.write(`[services] ${m}\n`)): Promise<ProvisionedServices> {
  const services = await ensureLocalServices({ dataDir: path.join(root, ".data"), log });
  const id = `${name}_${Date.now().toString(36)}_${randomBytes(2).toString("hex")}`;
  const dbUrl = new URL(services.databaseUrl);
  const dbName = `coursepay_${id}`;
  dbUrl.pathname = `/${dbName}`;
  const databaseUrl = dbUrl.toString();
  const redisPrefix = `coursepay_${id}`;
  await ensureDatabaseExists(databaseUrl);
  await run("npx", ["prisma", "migrate", "deploy"], { ...process.env, DATABASE_URL: databaseUrl });
  log(`fresh database ${dbName}, Redis prefix ${redisPrefix}`);
  return {
    databaseUrl,
    redisUrl: services.redisUrl,
    redisPrefix,
    async cleanup() {
      await dropDatabase(databaseUrl).catch((e) => log(`could not drop ${dbName}: ${e.message}`));
      await deleteRedisPrefix(services.redisUrl, redisPrefix);
      await services.stop();
    },
  };
}
