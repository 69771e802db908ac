// Waiting for the worker to apply every inbox row, with a failure message that says why it did not:
// the queue's job counts, the pending rows and the last errors of failed or retried jobs.
import type { PrismaClient } from "@prisma/client";
import type { Queue } from "bullmq";
import { waitFor } from "../../support/index.ts";

/** `outTradeNos` scopes the wait to one test's orders (the run's test files share the database). */
export async function waitForInboxDrained(prisma: PrismaClient, queue: Queue, timeoutMs: number, outTradeNos?: string[]): Promise<void> {
  const where = { outcome: "pending" as const, ...(outTradeNos ? { outTradeNo: { in: outTradeNos } } : {}) };
  try {
    await waitFor("every inbox row processed", async () => (await prisma.paymentNotification.count({ where })) === 0, { timeoutMs, intervalMs: 200 });
  } catch (e) {
    const pending = await prisma.paymentNotification.findMany({ where, take: 5, select: { id: true, outTradeNo: true, receivedAt: true, attempts: true, lastError: true } });
    const counts = await queue.getJobCounts("waiting", "prioritized", "active", "delayed", "failed", "completed");
    const troubled = [...(await queue.getJobs(["failed"], 0, 4)), ...(await queue.getJobs(["delayed"], 0, 4))].map((j) => ({
      id: j.id, data: j.data, attemptsMade: j.attemptsMade, failedReason: j.failedReason, stacktrace: j.stacktrace?.[0]?.split("\n").slice(0, 3),
    }));
    throw new Error(`${(e as Error).message}\npending rows (first 5): ${JSON.stringify(pending)}\nqueue ${queue.name}: ${JSON.stringify(counts)}\nfailed/delayed jobs: ${JSON.stringify(troubled, null, 1)}`);
  }
}
