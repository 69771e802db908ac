// Micro-batching for a worker that applies many jobs at once (BullMQ concurrency N): the inbox reads
// and the decision writes that its concurrent jobs make in the same turn of the event loop reach
// PostgreSQL as one statement each (store.ts loadNotificationsWithOrders, writeDecisions) instead of
// one round trip — and, for the writes, one commit — per job. On this 2-core machine each round trip
// was a `writev` on both ends of the socket and the largest single item in the worker's profile
// (docs/benchmarks.md). Nothing about a decision changes: each is still taken alone by
// transitions.ts on the snapshot its job read, and written as its own compare-and-set with its own
// event and inbox outcome (store.ts stays the only writer); a failed guard fails only that decision,
// which is re-read and decided again (apply.ts).
import DataLoader from "dataloader";
import type { Order, PrismaClient } from "@prisma/client";
import { notifyApplyJob, type NotifyApplyJob, type Queues } from "../queues/index.ts";
import type { Logger } from "../logging/index.ts";
import * as store from "./store.ts";

export interface OrderBatching {
  readInbox(id: number): Promise<store.InboxRow | null>;
  write(plan: store.WritePlan): Promise<store.WriteResult | null>;
  /** An order by id: the reads of concurrent payment checks go as one statement (store.ts loadOrdersById). */
  readOrder(id: number): Promise<Order | null>;
}

/** Whatever has been asked by the end of this turn of the event loop (after I/O callbacks) goes as one batch. */
const afterThisTurn = (run: () => void) => setImmediate(run);

export function createOrderBatching(prisma: PrismaClient, options: { maxBatch?: number; logger?: Logger } = {}): OrderBatching {
  const common = { cache: false, batchScheduleFn: afterThisTurn, maxBatchSize: options.maxBatch ?? 64 } as const;
  const reads = new DataLoader<number, store.InboxRow | null>(async (ids) => {
    const rows = await store.loadNotificationsWithOrders(prisma, [...ids]);
    return ids.map((id) => rows.get(id) ?? null);
  }, common);
  const writes = new DataLoader<store.WritePlan, store.WriteResult | null>((plans) => writeInRounds(prisma, plans, options.logger), common);
  const orders = new DataLoader<number, Order | null>(async (ids) => {
    const rows = await store.loadOrdersById(prisma, [...ids]);
    return ids.map((id) => rows.get(id) ?? null);
  }, common);
  return { readInbox: (id) => reads.load(id), write: (plan) => writes.load(plan), readOrder: (id) => orders.load(id) };
}

/**
 * One statement per round. A round holds at most one decision per order that changes the order or
 * writes an event; decisions that only lock the order and mark their inbox row (a duplicate's) may
 * share a round with each other. Two decisions about one order were taken on the same snapshot
 * (copies of a notify in flight together): once an earlier round has shown the order no longer
 * matches a later decision's snapshot, that decision's guard cannot hold, so it is answered null
 * at once (apply.ts then re-reads and decides again) instead of costing a statement.
 */
async function writeInRounds(prisma: PrismaClient, plans: readonly store.WritePlan[], logger?: Logger): Promise<(store.WriteResult | null | Error)[]> {
  const results: (store.WriteResult | null | Error)[] = plans.map(() => null);
  const known = new Map<number, store.WritePlan["seen"]>();
  const onlyMarks = (p: store.WritePlan) => !p.event && Object.values(p.changes).every((v) => v === undefined);
  let pending = plans.map((_, i) => i);
  while (pending.length) {
    const inRound = new Map<number, "marks" | "writes">();
    const round: number[] = [];
    const later: number[] = [];
    for (const i of pending) {
      const p = plans[i]!;
      const now = known.get(p.orderId);
      if (now && (now.status !== p.seen.status || now.refundedFen !== p.seen.refundedFen || now.alipayRefundFeeFen !== p.seen.alipayRefundFeeFen)) continue; // null: decide again
      const kind = onlyMarks(p) ? "marks" : "writes";
      const taken = inRound.get(p.orderId);
      if (taken && (taken === "writes" || kind === "writes")) later.push(i);
      else {
        inRound.set(p.orderId, kind);
        round.push(i);
      }
    }
    if (!round.length) break;
    try {
      const written = await store.writeDecisions(prisma, round.map((i) => plans[i]!));
      round.forEach((i, j) => {
        const w = written[j]!;
        results[i] = w;
        if (w) known.set(w.order.id, { status: w.order.status, refundedFen: w.order.refundedFen, alipayRefundFeeFen: w.order.alipayRefundFeeFen });
      });
    } catch (e) {
      // What one decision cannot write (a deadlock with another writer, a constraint) must not fail
      // the others: each is written alone, and only its own job sees its error. Said in the log:
      // a batch that fails every time (e.g. a data model older than the schema) otherwise shows only
      // as a slower worker.
      logger?.warn({ err: (e as Error).message, decisions: round.length }, "a batch of decisions failed as one statement; writing each alone");
      for (const i of round) {
        try {
          results[i] = await store.writeDecision(prisma, plans[i]!);
        } catch (e) {
          results[i] = e instanceof Error ? e : new Error(String(e));
        }
      }
    }
    pending = later;
  }
  return results;
}

/**
 * The api's half (group commit): the inbox inserts of the notifies that arrive in the same turn of
 * the event loop go to PostgreSQL as ONE statement and one commit (store.ts recordNotifies), and
 * their apply jobs to Redis as one addBulk — instead of one statement, one commit and one enqueue
 * round trip per notify. What each notify's request awaits is unchanged: its own row committed,
 * then its own job accepted, before it answers `success` (intake.ts). A batch insert that fails is
 * retried notify by notify, so one bad row fails only its own request; a failed enqueue fails the
 * requests of that batch (each answers 503 and Alipay retries, as for a single failed enqueue).
 */
export interface IntakeBatching {
  recordNotify(n: store.NotifyToRecord, c: store.NotifyClassification): Promise<store.RecordedNotify>;
  /** `data` as queues.notifyApplyJob made it in the caller's request (its request id). */
  enqueueNotifyApply(data: NotifyApplyJob): Promise<string>;
}

export function createIntakeBatching(prisma: PrismaClient, queues: Pick<Queues, "enqueueNotifyApplies">, options: { maxBatch?: number } = {}): IntakeBatching {
  const common = { cache: false, batchScheduleFn: afterThisTurn, maxBatchSize: options.maxBatch ?? 64 } as const;
  type Item = { n: store.NotifyToRecord; c: store.NotifyClassification };
  const records = new DataLoader<Item, store.RecordedNotify>(async (items) => {
    try {
      return await store.recordNotifies(prisma, [...items]);
    } catch (e) {
      if (items.length === 1) return [e instanceof Error ? e : new Error(String(e))];
      return Promise.all(items.map((x) => store.recordNotify(prisma, x.n, x.c).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))))));
    }
  }, common);
  const enqueues = new DataLoader<NotifyApplyJob, string>(async (jobs) => {
    try {
      return await queues.enqueueNotifyApplies([...jobs]);
    } catch (e) {
      return jobs.map(() => (e instanceof Error ? e : new Error(String(e))));
    }
  }, common);
  return {
    recordNotify: (n, c) => records.load({ n, c }),
    enqueueNotifyApply: (data) => enqueues.load(notifyApplyJob(data)),
  };
}
