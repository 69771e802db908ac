// Which orders reconciliation asks Alipay about, and when. The sweep pages through due UNPAID orders
// (status = UNPAID AND next_check_at <= now, index order_status_next_check_at_idx) in keyset order,
// one batch in memory at a time, and leases each batch by pushing next_check_at forward: the check
// job then writes the real next time (schedule.ts). A lease that expires before its check ran (Redis
// lost the job, the queue is far behind) simply makes the order due again — it cannot be forgotten.
import type { PrismaClient } from "@prisma/client";

export interface DueOrder {
  id: number;
  nextCheckAt: Date;
}

export interface Keyset {
  nextCheckAt: Date;
  id: number;
}

/**
 * Claim up to `limit` due UNPAID orders after `after` (keyset), leasing them until `leaseUntil`.
 * SKIP LOCKED: rows being changed right now (a notify applying) are left for the next sweep.
 */
export async function claimDueOrders(
  prisma: PrismaClient,
  input: { now: Date; limit: number; after: Keyset | null; leaseUntil: Date },
): Promise<DueOrder[]> {
  const afterAt = input.after?.nextCheckAt ?? new Date(0);
  const afterId = input.after?.id ?? 0;
  const rows = await prisma.$queryRaw<{ id: number; next_check_at: Date }[]>`
    WITH due AS (
      SELECT id, next_check_at FROM "order"
      WHERE status = 'UNPAID'::"OrderStatus" AND next_check_at <= ${input.now}
        AND (next_check_at, id) > (${afterAt}, ${afterId})
      ORDER BY next_check_at, id
      LIMIT ${input.limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE "order" o SET next_check_at = ${input.leaseUntil}
    FROM due WHERE o.id = due.id
    RETURNING o.id, due.next_check_at`;
  return rows
    .map((r) => ({ id: r.id, nextCheckAt: r.next_check_at }))
    .sort((a, b) => a.nextCheckAt.getTime() - b.nextCheckAt.getTime() || a.id - b.id);
}

/** How long a swept order is left alone for its check to run: a few ticks, at least a minute. */
export function leaseMs(intervalSeconds: number): number {
  return Math.max(intervalSeconds * 3, 60) * 1000;
}
