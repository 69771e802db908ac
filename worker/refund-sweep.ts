// The refund half of each reconciliation tick: open refunds (QUEUED whose job was lost, SUBMITTED,
// UNKNOWN) whose next_check_at is due are leased and given a check job — a refund query for sent
// ones, a fresh submit for queued ones. The per-refund backoff lives in next_check_at
// (core/refunds nextRefundCheckAt), so a crash anywhere leaves no refund unsettled: it comes due again.
import type { PrismaClient } from "@prisma/client";
import type { Logger } from "pino";
import { leaseMs } from "../core/orders/index.ts";
import type { Queues } from "../core/queues/index.ts";
import { applyRefundEvidence, claimDueRefunds, ordersWithUnaccountedRefunds, type RefundDeps } from "../core/refunds/index.ts";

export async function runRefundSweep(
  deps: { prisma: PrismaClient; queues: Queues; logger?: Logger; refundDeps?: RefundDeps },
  opts: { batchSize: number; intervalSeconds: number; now?: Date },
): Promise<{ refundChecks: number; externalRecorded?: number }> {
  const now = opts.now ?? new Date();
  const leaseUntil = new Date(now.getTime() + leaseMs(opts.intervalSeconds));
  let total = 0;
  for (;;) {
    const due = await claimDueRefunds(deps.prisma, { now, limit: opts.batchSize, leaseUntil });
    for (const r of due) await deps.queues.enqueueRefund({ refundId: r.id, action: r.state === "QUEUED" ? "submit" : "check" });
    total += due.length;
    if (due.length < opts.batchSize) break;
  }
  // Backstop: orders where Alipay reports more refunded than refund rows account for (a crash between
  // applying a refund notify and recording the external refund it revealed). Idempotent.
  let externalRecorded = 0;
  if (deps.refundDeps) {
    for (const orderId of await ordersWithUnaccountedRefunds(deps.prisma, opts.batchSize)) {
      const r = await applyRefundEvidence(deps.refundDeps, { orderId, source: "reconcile" });
      externalRecorded += r?.external.length ?? 0;
    }
  }
  return { refundChecks: total, ...(externalRecorded ? { externalRecorded } : {}) };
}
