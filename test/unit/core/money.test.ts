import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fenToYuan, yuanToFen, parseYuan, MoneyFormatError } from "../../../core/money/index.ts";

test("fen ↔ yuan round-trips without floating point", () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (fen) => yuanToFen(fenToYuan(fen)) === fen));
  assert.equal(fenToYuan(1230), "12.30");
  assert.equal(fenToYuan(1), "0.01");
  assert.equal(fenToYuan(0), "0.00");
  assert.equal(yuanToFen("0.1"), 10);
  assert.equal(yuanToFen("100000000"), 10_000_000_000);
  // 0.07 * 100 is 7.000000000000001 in floating point; string arithmetic must give exactly 7.
  assert.equal(yuanToFen("0.07"), 7);
});

test("yuan strings that are not exact amounts are rejected", () => {
  for (const bad of ["", "1.234", "-1", "+1", "1e3", " 1", "1 ", "01", ".5", "1.", "NaN", "1,00", "１"]) {
    assert.throws(() => yuanToFen(bad), MoneyFormatError, bad);
    assert.equal(parseYuan(bad), null);
  }
  assert.equal(parseYuan(undefined), null);
  assert.throws(() => fenToYuan(-1), RangeError);
  assert.throws(() => fenToYuan(1.5), RangeError);
});
