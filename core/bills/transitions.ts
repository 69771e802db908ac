// The rules of bill batches and bill differences, in one place. Pure: the store (store.ts) turns
// them into guarded SQL (`UPDATE … WHERE state = ANY(<allowed from>)`), so PostgreSQL enforces
// exactly this table whichever process writes.
import type { BillBatchState, BillDifferenceState } from "@prisma/client";

export type BatchEvent =
  /** a scheduled or catch-up run starts */
  | "claim"
  /** staff asked to reconcile the date again: a new attempt, whatever the last one found */
  | "rerun"
  /** isp.bill_not_exist before the give-up time */
  | "not_ready"
  /** isp.bill_not_exist after the give-up time (alerted) */
  | "gave_up"
  /** not a bill, or its footer disagrees with its rows: nothing is matched */
  | "corrupt"
  /** matched with no open difference */
  | "matched"
  | "differences"
  /** network, gateway or database error: retried at the next tick */
  | "error";

export const FINISHED_BATCH_STATES: readonly BillBatchState[] = ["matched", "differences", "no_bill", "corrupt"];

const BATCH: Record<BatchEvent, { from: readonly BillBatchState[]; to: BillBatchState }> = {
  claim: { from: ["waiting", "failed"], to: "running" },
  rerun: { from: ["waiting", "failed", "matched", "differences", "no_bill", "corrupt"], to: "running" },
  not_ready: { from: ["running"], to: "waiting" },
  gave_up: { from: ["running"], to: "no_bill" },
  corrupt: { from: ["running"], to: "corrupt" },
  matched: { from: ["running"], to: "matched" },
  differences: { from: ["running"], to: "differences" },
  error: { from: ["running"], to: "failed" },
};

/** The state after `event`, or null when the event is not allowed from `state`. */
export function nextBatchState(state: BillBatchState, event: BatchEvent): BillBatchState | null {
  const rule = BATCH[event];
  return rule.from.includes(state) ? rule.to : null;
}

/** The states `event` may start from (the SQL guard). A `running` batch whose lease expired may also be claimed. */
export function batchStatesFor(event: BatchEvent): readonly BillBatchState[] {
  return BATCH[event].from;
}

export type DifferenceEvent =
  /** a run found it (again) */
  | "seen"
  /** a run no longer sees it, or the evidence it was about has changed (the order is paid now…) */
  | "not_seen"
  /** staff: mark resolved with a note, or trust Alipay and the state machine settled it */
  | "resolve";

const DIFFERENCE: Record<DifferenceEvent, { from: readonly BillDifferenceState[]; to: BillDifferenceState }> = {
  seen: { from: ["open", "auto_closed"], to: "open" },
  not_seen: { from: ["open"], to: "auto_closed" },
  resolve: { from: ["open"], to: "resolved" },
};

export function nextDifferenceState(state: BillDifferenceState, event: DifferenceEvent): BillDifferenceState | null {
  const rule = DIFFERENCE[event];
  return rule.from.includes(state) ? rule.to : null;
}

export function differenceStatesFor(event: DifferenceEvent): readonly BillDifferenceState[] {
  return DIFFERENCE[event].from;
}

/** Whether an attempt's answer means "give up": no bill by BILL_GIVE_UP_AT on the day after the bill's day. */
export function giveUpInstant(billDate: string, giveUpAt: string): Date {
  const d = new Date(`${billDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return new Date(`${d.toISOString().slice(0, 10)}T${giveUpAt}:00+08:00`);
}
