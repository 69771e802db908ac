// "Is reconciliation failing now?", for alerts (issue 10 point 6). BullMQ keeps failed sweep jobs as
// history (JOB_OPTIONS: a day), so an alert on the failed set kept firing long after a short outage
// had ended. Instead, each sweep records its result here, one record in Redis for every worker
// replica (whichever replica ran the slot's sweep): the count of failures since the last success,
// and when the last success was. Exposed as gauges at scrape time by the worker and the admin.
import type { Redis } from "ioredis";

export interface SweepHealth {
  /** Sweeps failed in a row since the last one that succeeded (0 once one succeeds). */
  consecutiveFailures: number;
  /** Epoch ms of the last successful sweep; null if none was ever recorded. */
  lastSuccessAt: number | null;
}

const keyOf = (redisPrefix: string) => `${redisPrefix}:reconcile-sweep:health`;

export async function recordSweepResult(redis: Redis, redisPrefix: string, ok: boolean, now = Date.now()): Promise<void> {
  if (ok) await redis.hset(keyOf(redisPrefix), { consecutiveFailures: 0, lastSuccessAt: now });
  else await redis.hincrby(keyOf(redisPrefix), "consecutiveFailures", 1);
}

export async function readSweepHealth(redis: Redis, redisPrefix: string): Promise<SweepHealth> {
  const h = await redis.hgetall(keyOf(redisPrefix));
  const last = Number(h.lastSuccessAt);
  return { consecutiveFailures: Number(h.consecutiveFailures ?? 0) || 0, lastSuccessAt: Number.isFinite(last) && last > 0 ? last : null };
}
