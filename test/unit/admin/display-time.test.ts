import { test } from "node:test";
import assert from "node:assert/strict";
import { dayOf, dayStarts, formatInstant, formatWallClock, startOfDay, zoneLabel } from "../../../admin/display-time.ts";

const SH = "Asia/Shanghai";

test("one format with the zone shown, whatever the process's own zone", () => {
  assert.equal(formatInstant("2026-11-27T06:05:09.123Z", SH), "2026-11-27 14:05:09 UTC+8");
  assert.equal(formatInstant(new Date("2026-11-27T16:30:00Z"), SH), "2026-11-28 00:30:00 UTC+8", "midnight is 00, not 24");
  assert.equal(formatInstant("2026-07-01T12:00:00Z", "Europe/Berlin"), "2026-07-01 14:00:00 UTC+2");
  assert.equal(formatInstant("2026-01-01T12:00:00Z", "Asia/Kolkata"), "2026-01-01 17:30:00 UTC+5:30");
  assert.equal(formatInstant("2026-01-01T12:00:00Z", "America/Sao_Paulo"), "2026-01-01 09:00:00 UTC-3");
  assert.equal(formatInstant("2026-01-01T12:00:00Z", "UTC"), "2026-01-01 12:00:00 UTC");
  assert.equal(formatInstant(null, SH), "–");
  assert.equal(formatInstant("not a date", SH), "not a date");
  assert.equal(formatWallClock("2026-11-27T06:05:09Z", SH), "2026-11-27 14:05:09");
  assert.equal(formatWallClock(null, SH), "");
});

test("the zone's calendar day and its first instant", () => {
  assert.equal(dayOf(new Date("2026-11-27T15:59:59Z"), SH), "2026-11-27");
  assert.equal(dayOf(new Date("2026-11-27T16:00:00Z"), SH), "2026-11-28");
  assert.equal(startOfDay(new Date("2026-11-27T20:00:00Z"), SH).toISOString(), "2026-11-27T16:00:00.000Z");
  assert.equal(startOfDay(new Date("2026-11-27T03:00:00Z"), SH).toISOString(), "2026-11-26T16:00:00.000Z");
  // A DST day: Berlin's 2026-03-29 starts at 00:00 CET (UTC+1) and is 23 hours long.
  assert.equal(startOfDay(new Date("2026-03-29T20:00:00Z"), "Europe/Berlin").toISOString(), "2026-03-28T23:00:00.000Z");
  assert.equal(zoneLabel(new Date("2026-03-29T20:00:00Z"), "Europe/Berlin"), "UTC+2");
});

test("the chart's days: consecutive, oldest first, ending today", () => {
  const starts = dayStarts(new Date("2026-12-01T23:00:00Z"), 14, SH);
  assert.equal(starts.length, 14);
  assert.equal(dayOf(starts[13], SH), "2026-12-02");
  assert.equal(dayOf(starts[0], SH), "2026-11-19");
  for (let i = 1; i < 14; i++) assert.equal(starts[i].getTime() - starts[i - 1].getTime(), 24 * 3600_000);
  const berlin = dayStarts(new Date("2026-03-30T12:00:00Z"), 3, "Europe/Berlin").map((d) => d.toISOString());
  assert.deepEqual(berlin, ["2026-03-27T23:00:00.000Z", "2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z"]);
});
