// What the benches that run worker processes against the in-process local gateway share: the
// worker's environment (the sandbox's URL and keys, the run's database and Redis prefix), starting
// worker processes (optionally writing a V8 CPU profile each), and the CPU meter of "our side" —
// worker processes and the run's PostgreSQL backends (the sandbox and the bench loop, in this
// process, and the run's Redis server apart) — with pg_stat_statements when the server preloads it.
import type { PrismaClient } from "@prisma/client";
import { freePort } from "../scripts/local-services.ts";
import { backendsOf, cpuMeter, redisServerOf, ROLE_START_CEILING_MS, spawnRole, statementStats, waitFor, type ProvisionedServices, type RoleProcess } from "../test/support/index.ts";

export interface SandboxWorkerEnvInput {
  services: ProvisionedServices;
  sandboxUrl: string;
  appId: string;
  sellerId?: string;
  appPrivateKeyPem: string;
  alipayPublicKeyPem: string;
}

/** The environment of a worker that talks to the local gateway at `sandboxUrl`, on the bench's database. */
export function sandboxWorkerEnv(input: SandboxWorkerEnvInput, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: "test",
    LOG_LEVEL: "warn",
    DATABASE_URL: input.services.databaseUrl,
    REDIS_URL: input.services.redisUrl,
    REDIS_PREFIX: input.services.redisPrefix,
    ALIPAY_GATEWAY: "sandbox",
    SANDBOX_PUBLIC_URL: input.sandboxUrl,
    ALIPAY_APP_ID: input.appId,
    ...(input.sellerId ? { ALIPAY_SELLER_ID: input.sellerId } : {}),
    ALIPAY_APP_PRIVATE_KEY: input.appPrivateKeyPem,
    ALIPAY_PUBLIC_KEY: input.alipayPublicKeyPem,
    ...extra,
  };
}

/** Starts `count` worker processes and waits until each answers /readyz. `cpuProfDir`: --cpu-prof into it. */
export async function startWorkers(
  env: NodeJS.ProcessEnv,
  opts: { count?: number; cpuProfDir?: string; nodeOptions?: string },
): Promise<RoleProcess[]> {
  const roles: RoleProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < (opts.count ?? 1); i++) {
    const port = await freePort();
    ports.push(port);
    const profile = opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
    roles.push(spawnRole("worker", env, { LOG_LEVEL: "warn", WORKER_PORT: String(port), ...(opts.nodeOptions !== undefined ? { NODE_OPTIONS: opts.nodeOptions } : {}) }, profile));
  }
  for (const port of ports) {
    await waitFor(`worker on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok, { timeoutMs: ROLE_START_CEILING_MS, intervalMs: 100 });
  }
  return roles;
}

/** CPU of the workers, the run's PostgreSQL backends, its Redis server and this process (sandbox + bench), and pg_stat_statements, from now. */
export async function ourSideMeters(prisma: PrismaClient, services: ProvisionedServices, workers: RoleProcess[]) {
  const workerPids = new Set(workers.map((r) => r.pid));
  const statements = statementStats(prisma);
  await statements.reset();
  const cpu = cpuMeter({
    worker: (pid) => workerPids.has(pid),
    postgres: backendsOf(services.databaseUrl),
    redis: redisServerOf(services.redisUrl),
    sandboxAndBench: (pid) => pid === process.pid,
  });
  return { cpu, statements };
}
