// The reconciliation tick arithmetic (worker/scheduler.ts, core/queues sweepSlot): which cron pattern an
// interval gets, and that replicas whose clocks fire a little apart still name the same slot.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import cron from "node-cron";
import { sweepSlot } from "../../../core/queues/index.ts";
import { cronPatternFor } from "../../../worker/scheduler.ts";

test("cronPatternFor: exact patterns for intervals that divide a minute or an hour, every second otherwise", () => {
  const cases: [number, string, boolean][] = [
    [1, "*/1 * * * * *", true],
    [15, "*/15 * * * * *", true],
    [30, "*/30 * * * * *", true],
    [60, "0 */1 * * * *", true],
    [300, "0 */5 * * * *", true],
    [1800, "0 */30 * * * *", true],
    [7, "* * * * * *", false],
    [45, "* * * * * *", false],
    [90, "* * * * * *", false],
    [420, "* * * * * *", false],
    [3600, "* * * * * *", false],
  ];
  for (const [interval, pattern, exact] of cases) {
    assert.deepEqual(cronPatternFor(interval), { pattern, exact }, `interval ${interval}`);
    assert.ok(cron.validate(pattern), `${pattern} is a valid node-cron pattern`);
  }
});

test("sweepSlot: one slot per interval, consecutive boundaries give consecutive slots", () => {
  assert.equal(sweepSlot(0, 60), 0);
  assert.equal(sweepSlot(60_000, 60), 1);
  assert.equal(sweepSlot(120_000, 60), 2);
  assert.equal(sweepSlot(1_700_000_000_000, 1), 1_700_000_000);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3600 }), fc.integer({ min: 1, max: 2_000_000_000 }), (interval, k) => {
      const boundary = k * interval * 1000;
      return sweepSlot(boundary + interval * 1000, interval) === sweepSlot(boundary, interval) + 1;
    }),
  );
});

test("sweepSlot: replicas firing up to just under half an interval apart around a boundary agree", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3600 }),
      fc.integer({ min: 1, max: 2_000_000_000 }),
      fc.double({ min: 0, max: 0.49, noNaN: true }),
      fc.double({ min: 0, max: 0.49, noNaN: true }),
      (interval, k, early, late) => {
        const boundary = k * interval * 1000;
        const a = sweepSlot(boundary - Math.floor(early * interval * 1000), interval);
        const b = sweepSlot(boundary + Math.floor(late * interval * 1000), interval);
        return a === k && b === k;
      },
    ),
  );
});

test("an exact pattern's firing times map to distinct, consecutive slots (one sweep per tick)", () => {
  for (const interval of [1, 5, 15, 60, 300]) {
    const fires = Array.from({ length: 50 }, (_, i) => (1_700_000_000 + i * interval) * 1000 - (1_700_000_000 * 1000) % (interval * 1000));
    const slots = fires.map((t) => sweepSlot(t, interval));
    for (let i = 1; i < slots.length; i++) assert.equal(slots[i], slots[i - 1]! + 1, `interval ${interval}`);
  }
});
