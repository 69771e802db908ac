import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { firstCheckAt, nextCheckAt } from "../../../core/orders/schedule.ts";
import { closeVerdict, evidenceFromQuery } from "../../../core/orders/evidence.ts";
import { newOutTradeNo, orderSubject } from "../../../core/orders/commands.ts";

const T0 = new Date("2026-01-01T00:00:00Z").getTime();
const policy = { firstCheckSeconds: 60, graceMs: 10 * 60_000 };

test("first check one interval after creation, never after expiry", () => {
  assert.equal(firstCheckAt(new Date(T0), new Date(T0 + 30 * 60_000), policy).getTime(), T0 + 60_000);
  assert.equal(firstCheckAt(new Date(T0), new Date(T0 + 30_000), policy).getTime(), T0 + 30_000);
});

test("gaps double up to the cap and never jump over expiry or expiry + grace", () => {
  const expires = new Date(T0 + 30 * 60_000);
  assert.equal(nextCheckAt(expires, 1, new Date(T0), policy).getTime(), T0 + 120_000);
  assert.equal(nextCheckAt(expires, 2, new Date(T0), policy).getTime(), T0 + 240_000);
  assert.equal(nextCheckAt(expires, 10, new Date(T0), policy).getTime(), T0 + 600_000, "capped at 10 minutes");
  assert.equal(nextCheckAt(expires, 10, new Date(T0 + 25 * 60_000), policy).getTime(), expires.getTime(), "pinned to expiry");
  assert.equal(nextCheckAt(expires, 10, new Date(T0 + 35 * 60_000), policy).getTime(), T0 + 40 * 60_000, "pinned to expiry + grace");
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3 * 3600_000 }), (attempts, offset) => {
      const now = new Date(T0 + offset);
      const next = nextCheckAt(expires, attempts, now, policy).getTime();
      return next > now.getTime() && next - now.getTime() <= 600_000;
    }),
  );
});

test("query answers map to evidence: TRADE_NOT_EXIST, unknowns, other business errors", () => {
  assert.deepEqual(evidenceFromQuery({ kind: "business_error", code: "40004", msg: "Business Failed", subCode: "ACQ.TRADE_NOT_EXIST", subMsg: "交易不存在" }), { kind: "trade_not_exist" });
  assert.equal(evidenceFromQuery({ kind: "unknown", reason: "timeout" }).kind, "unknown");
  assert.equal(evidenceFromQuery({ kind: "business_error", code: "40004", msg: "", subCode: "ACQ.INVALID_PARAMETER", subMsg: "" }).kind, "unknown");
});

test("close answers: closed, nothing to close, already closed, refused (query first), unknown", () => {
  assert.equal(closeVerdict({ kind: "ok", tradeNo: "t", outTradeNo: "o" }).kind, "closed");
  for (const subCode of ["ACQ.TRADE_NOT_EXIST", "ACQ.TRADE_HAS_CLOSE"]) {
    assert.equal(closeVerdict({ kind: "business_error", code: "40004", msg: "", subCode, subMsg: "" }).kind, "closed");
  }
  assert.equal(closeVerdict({ kind: "business_error", code: "40004", msg: "", subCode: "ACQ.TRADE_STATUS_ERROR", subMsg: "" }).kind, "query_first");
  assert.equal(closeVerdict({ kind: "unknown", reason: "gateway_20000" }).kind, "unknown");
});

test("out_trade_no: ≤ 64 chars of [A-Za-z0-9_], unique without the clock", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const id = newOutTradeNo();
    assert.match(id, /^[A-Za-z0-9_]{1,64}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 10_000);
});

test("subject: no / = &, at most 256 characters", () => {
  assert.equal(orderSubject(["Python 入门 / Python for Beginners"]), "Python 入门 Python for Beginners");
  assert.equal(orderSubject(["a=b&c", "x"]), "a b c 等 2 门课程");
  assert.equal(orderSubject(["x".repeat(400)]).length, 256);
});
