// The bill reconciliation queue: one BullMQ queue whose jobs are "run a tick" (the schedule and the
// start-up catch-up) or "reconcile this date now" (staff, from the admin). The worker consumes it
// with concurrency 1 per replica; the database claim (store.ts claimBatch) is what guarantees one
// attempt of a batch at a time across replicas — job ids only save duplicate work.
import { Queue, type ConnectionOptions } from "bullmq";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { bullConnection } from "../redis/index.ts";

export const BILL_QUEUE = "bill-reconcile";

export const BillJob = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("tick"), trigger: z.enum(["schedule", "catch_up"]), slot: z.string() }),
  z.object({ kind: z.literal("date"), billDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), actor: z.string().min(1) }),
]);
export type BillJob = z.infer<typeof BillJob>;

export interface BillQueue {
  queue: Queue;
  /** One job per slot however many replicas tick (the id is kept until the job is removed). */
  enqueueTick(trigger: "schedule" | "catch_up", slot: string): Promise<void>;
  /** Staff: reconcile this date now (a new audited attempt). */
  enqueueDate(billDate: string, actor: string): Promise<string>;
  close(): Promise<void>;
}

export function createBillQueue(config: Pick<Config, "redisUrl" | "redisPrefix">): BillQueue {
  const queue = new Queue(BILL_QUEUE, {
    connection: { ...bullConnection(config.redisUrl), enableOfflineQueue: false } as ConnectionOptions,
    prefix: config.redisPrefix,
  });
  queue.on("error", () => {});
  const opts = { attempts: 3, backoff: { type: "exponential", delay: 60_000 }, removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 } };
  return {
    queue,
    async enqueueTick(trigger, slot) {
      // BullMQ refuses a custom job id containing ':' (its key separator), and a slot is a minute
      // such as 2026-12-02T02:00: the id drops the colons.
      await queue.add("tick", BillJob.parse({ kind: "tick", trigger, slot }), { ...opts, jobId: `bill-${trigger}-${slot.replaceAll(":", "")}` });
    },
    async enqueueDate(billDate, actor) {
      const job = await queue.add("date", BillJob.parse({ kind: "date", billDate, actor }), opts);
      return job.id!;
    },
    close: () => queue.close(),
  };
}
