// Reconciliation ticks. Every worker replica runs the same node-cron schedule; each tick enqueues the
// sweep of its slot with jobId `sweep-<slot>`, so however many replicas tick, BullMQ keeps one job
// per slot and one sweep runs.
//
// Why a per-slot job id and not BullMQ's upsertJobScheduler: the tick source stays node-cron (one
// scheduling mechanism, visible in each worker's logs), the dedupe key is plain arithmetic on the
// clock that every replica computes alike, and nothing in Redis must be kept in sync with the
// configuration (a scheduler left behind by an old interval would keep firing). A missed slot
// (all workers down) needs no catch-up: the next sweep selects every order that is still due.
import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import { sweepSlot, type Queues } from "../core/queues/index.ts";

/**
 * A cron pattern that fires exactly every `intervalSeconds` on UTC boundaries, or, when the interval
 * does not divide a minute or an hour evenly, every second (the slot then changes every interval).
 */
export function cronPatternFor(intervalSeconds: number): { pattern: string; exact: boolean } {
  if (intervalSeconds < 60 && 60 % intervalSeconds === 0) return { pattern: `*/${intervalSeconds} * * * * *`, exact: true };
  const minutes = intervalSeconds / 60;
  if (Number.isInteger(minutes) && minutes < 60 && 60 % minutes === 0) return { pattern: `0 */${minutes} * * * *`, exact: true };
  return { pattern: "* * * * * *", exact: false };
}

export interface SweepTicks {
  stop(): Promise<void>;
}

export function startSweepTicks(opts: { queues: Queues; intervalSeconds: number; logger: Logger }): SweepTicks {
  const { pattern } = cronPatternFor(opts.intervalSeconds);
  let lastSlot = -1;
  const task: ScheduledTask = cron.schedule(
    pattern,
    async () => {
      const slot = sweepSlot(Date.now(), opts.intervalSeconds);
      if (slot === lastSlot) return;
      lastSlot = slot;
      try {
        await opts.queues.enqueueSweep({ slot, intervalSeconds: opts.intervalSeconds });
      } catch (e) {
        opts.logger.warn({ slot, err: (e as Error).message }, "could not enqueue the reconciliation sweep; the next tick will");
      }
    },
    { name: "reconcile-tick", timezone: "UTC", noOverlap: true },
  );
  return {
    async stop() {
      await task.destroy();
    },
  };
}
