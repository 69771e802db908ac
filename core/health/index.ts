import { Router } from "express";
import type { Redis } from "ioredis";
import type { PrismaClient } from "@prisma/client";

export type Dependency = "database" | "redis";

export interface ReadinessProbe {
  name: Dependency;
  check: () => Promise<unknown>;
}

const PROBE_TIMEOUT_MS = 1500;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

export function databaseProbe(prisma: PrismaClient): ReadinessProbe {
  return { name: "database", check: () => prisma.$queryRaw`SELECT 1` };
}

export function redisProbe(redis: Redis): ReadinessProbe {
  // ioredis queues commands while disconnected; asking a disconnected client would hang until the
  // timeout, so answer "down" at once unless the connection is ready.
  return {
    name: "redis",
    check: async () => {
      if (redis.status !== "ready") throw new Error(`connection ${redis.status}`);
      return redis.ping();
    },
  };
}

export async function checkReadiness(probes: ReadinessProbe[]) {
  const results = await Promise.all(
    probes.map(async (p) => {
      try {
        await withTimeout(p.check(), PROBE_TIMEOUT_MS);
        return { name: p.name, ok: true as const };
      } catch (e) {
        return { name: p.name, ok: false as const, error: (e as Error).message };
      }
    }),
  );
  const down = results.filter((r) => !r.ok);
  return { ready: down.length === 0, down: down.map((d) => d.name), results };
}

/** `/healthz`: the process is alive. `/readyz`: its database and Redis answer (503 naming what is down). */
export function healthRoutes(role: string, probes: ReadinessProbe[]): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ role, status: "alive" });
  });
  router.get("/readyz", async (_req, res) => {
    const r = await checkReadiness(probes);
    res.status(r.ready ? 200 : 503).json({
      role,
      status: r.ready ? "ready" : `not ready: ${r.down.join(", ")} down`,
      checks: Object.fromEntries(r.results.map((x) => [x.name, x.ok ? "up" : `down (${x.error})`])),
    });
  });
  return router;
}
