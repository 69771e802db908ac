// The bill batch / difference transition tables, cell by cell, and the schedule arithmetic.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { BillBatchState, BillDifferenceState } from "@prisma/client";
import { daysToTry } from "../../../core/bills/reconcile.ts";
import { giveUpInstant, nextBatchState, nextDifferenceState, type BatchEvent } from "../../../core/bills/transitions.ts";

const STATES: BillBatchState[] = ["waiting", "running", "matched", "differences", "no_bill", "corrupt", "failed"];

test("batch transitions: claim only from waiting/failed, rerun from any non-running state, results only from running", () => {
  const table: Record<BatchEvent, Partial<Record<BillBatchState, BillBatchState>>> = {
    claim: { waiting: "running", failed: "running" },
    rerun: { waiting: "running", failed: "running", matched: "running", differences: "running", no_bill: "running", corrupt: "running" },
    not_ready: { running: "waiting" },
    gave_up: { running: "no_bill" },
    corrupt: { running: "corrupt" },
    matched: { running: "matched" },
    differences: { running: "differences" },
    error: { running: "failed" },
  };
  for (const [event, row] of Object.entries(table) as [BatchEvent, Partial<Record<BillBatchState, BillBatchState>>][]) {
    for (const s of STATES) assert.equal(nextBatchState(s, event), row[s] ?? null, `${s} --${event}-->`);
  }
});

test("difference transitions: seen reopens an auto-closed one, resolved is final", () => {
  const states: BillDifferenceState[] = ["open", "resolved", "auto_closed"];
  const expect = {
    seen: { open: "open", resolved: null, auto_closed: "open" },
    not_seen: { open: "auto_closed", resolved: null, auto_closed: null },
    resolve: { open: "resolved", resolved: null, auto_closed: null },
  } as const;
  for (const [event, row] of Object.entries(expect)) {
    for (const s of states) assert.equal(nextDifferenceState(s, event as keyof typeof expect), row[s], `${s} --${event}-->`);
  }
});

test("give-up instant: BILL_GIVE_UP_AT Beijing time on the day after the bill's day", () => {
  assert.equal(giveUpInstant("2026-11-30", "18:00").toISOString(), "2026-12-01T10:00:00.000Z");
  assert.equal(giveUpInstant("2026-12-31", "18:00").toISOString(), "2027-01-01T10:00:00.000Z");
});

test("days to try: yesterday and the catch-up window, minus finished days, oldest first (Beijing dates)", () => {
  const now = new Date("2026-12-01T17:30:00Z"); // 01:30 on Dec 2 in Beijing
  assert.deepEqual(daysToTry(now, 3, new Set()), ["2026-11-29", "2026-11-30", "2026-12-01"]);
  assert.deepEqual(daysToTry(now, 3, new Set(["2026-11-30"])), ["2026-11-29", "2026-12-01"]);
});
