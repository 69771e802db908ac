// The worker's bill schedule arithmetic: ticks at BILL_FETCH_AT, every BILL_RETRY_MINUTES, and at
// BILL_GIVE_UP_AT, in Beijing time whatever the server's zone.
import assert from "node:assert/strict";
import { test } from "node:test";
import { beijingMinutes, isTickMinute } from "../../../worker/bills.ts";

const s = { fetchAt: "10:00", giveUpAt: "18:00", retryMinutes: 30, pendingDays: 2, catchUpDays: 7, leaseSeconds: 600, schedule: true };
const bj = (hm: string) => new Date(`2026-12-02T${hm}:00+08:00`);

test("tick minutes: 10:00, 10:30 … 18:00 Beijing time, nothing before or after", () => {
  assert.equal(beijingMinutes(bj("10:00")), 600);
  for (const hm of ["10:00", "10:30", "11:00", "17:30", "18:00"]) assert.equal(isTickMinute(bj(hm), s), true, hm);
  for (const hm of ["09:59", "10:01", "10:29", "18:01", "18:30", "02:00"]) assert.equal(isTickMinute(bj(hm), s), false, hm);
  // A give-up time off the retry grid still gets its own tick.
  assert.equal(isTickMinute(bj("17:45"), { ...s, giveUpAt: "17:45" }), true);
});
