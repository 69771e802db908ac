// One reconciliation sweep: page through due UNPAID orders (keyset, one batch in memory), lease
// each batch and enqueue its payment checks. The checks themselves are rate-limited by the
// payment-check queue's limiter (ALIPAY_QUERY_QPS), shared by every worker replica.
import type { PrismaClient } from "@prisma/client";
import type { Logger } from "pino";
import { claimDueOrders, leaseMs, type Keyset } from "../core/orders/index.ts";
import type { Queues } from "../core/queues/index.ts";

export interface SweepResult {
  enqueued: number;
  batches: number;
}

export async function runSweep(
  deps: { prisma: PrismaClient; queues: Queues; logger?: Logger },
  opts: { batchSize: number; intervalSeconds: number; now?: Date; onProgress?: (enqueued: number) => Promise<void> | void },
): Promise<SweepResult> {
  const now = opts.now ?? new Date();
  const leaseUntil = new Date(now.getTime() + leaseMs(opts.intervalSeconds));
  let after: Keyset | null = null;
  let enqueued = 0;
  let batches = 0;
  for (;;) {
    const due = await claimDueOrders(deps.prisma, { now, limit: opts.batchSize, after, leaseUntil });
    if (due.length === 0) break;
    batches++;
    await deps.queues.enqueuePaymentChecks(due.map((o) => ({ orderId: o.id, source: "reconcile" as const })));
    enqueued += due.length;
    after = due[due.length - 1]!;
    await opts.onProgress?.(enqueued);
    if (due.length < opts.batchSize) break;
  }
  return { enqueued, batches };
}
