// The callback inbox's outcome table (core/orders/inbox.ts), cell by cell, and how raw text is kept.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { NotificationOutcome } from "@prisma/client";
import { because } from "../../../core/orders/reasons.ts";
import {
  canMove, INBOX_MOVES, intakeOutcome, isReprocessable, movesInto, NOTIFICATION_OUTCOMES, outcomeOfDecision, storedBody, UNVERIFIED_BODY_KEEP_CHARS,
} from "../../../core/orders/inbox.ts";

const FINAL: NotificationOutcome[] = ["applied", "duplicate", "ignored", "rejected", "anomaly"];

describe("moves between outcomes", () => {
  // The whole table, written out: [from, to, allowed].
  const expected: Record<NotificationOutcome, NotificationOutcome[]> = {
    pending: ["pending", "failed", ...FINAL],
    failed: ["pending", ...FINAL],
    applied: [], duplicate: [], ignored: [], rejected: [], anomaly: [],
  };
  for (const from of NOTIFICATION_OUTCOMES) {
    for (const to of NOTIFICATION_OUTCOMES) {
      const allowed = expected[from].includes(to);
      test(`${from} → ${to}: ${allowed ? "allowed" : "refused"}`, () => assert.equal(canMove(from, to), allowed));
    }
  }
  test("the table names every outcome of the schema's enum", () => {
    assert.deepEqual(Object.keys(INBOX_MOVES).sort(), [...NOTIFICATION_OUTCOMES].sort());
  });
  test("movesInto is the guard of a write: the outcomes a row may be in", () => {
    assert.deepEqual(movesInto("failed"), ["pending"]);
    assert.deepEqual(movesInto("pending"), ["pending", "failed"]);
    for (const to of FINAL) assert.deepEqual(movesInto(to), ["pending", "failed"]);
  });
  test("only pending and failed rows may be processed (again); every processed outcome is final", () => {
    assert.deepEqual(NOTIFICATION_OUTCOMES.filter(isReprocessable), ["pending", "failed"]);
    for (const o of FINAL) assert.deepEqual(INBOX_MOVES[o], []);
  });
});

describe("outcomes of decisions and of intake", () => {
  test("each decision kind maps to one outcome", () => {
    assert.equal(outcomeOfDecision({ kind: "transition", from: "UNPAID", to: "PAID", event: "paid", patch: {}, ...because("order.paid", { tradeStatus: "TRADE_SUCCESS" }), anomaly: false }), "applied");
    assert.equal(outcomeOfDecision({ kind: "anomaly", event: "anomaly.amount_mismatch", ...because("order.amount_mismatch", { paidFen: 1, totalFen: 2 }) }), "anomaly");
    assert.equal(outcomeOfDecision({ kind: "noop", ...because("order.already", { status: "PAID" }), duplicate: true }), "duplicate");
    assert.equal(outcomeOfDecision({ kind: "noop", ...because("order.waiting_for_buyer"), duplicate: false }), "ignored");
    assert.equal(outcomeOfDecision({ kind: "unknown", ...because("order.outcome_unknown", { detail: "timeout" }) }), "ignored");
    assert.equal(outcomeOfDecision({ kind: "close_at_alipay_first", ...because("order.expired_close_first") }), null);
  });
  test("intake: only a verified, parseable notify for one of our orders waits for the worker", () => {
    assert.equal(intakeOutcome("notify", true, true, true), "pending");
    assert.equal(intakeOutcome("notify", true, false, true), "rejected");
    assert.equal(intakeOutcome("notify", true, true, false), "rejected");
    assert.equal(intakeOutcome("notify", false, true, true), "rejected");
    assert.equal(intakeOutcome("return", true, true, true), "ignored");
    assert.equal(intakeOutcome("return", true, false, true), "ignored");
    assert.equal(intakeOutcome("return", false, true, true), "rejected");
  });
});

describe("stored bodies", () => {
  test("NUL is spelled out, the same for a notify body (bytes) and a return query (text)", () => {
    assert.equal(storedBody(Buffer.from("a=1\u0000&b=2"), true), "a=1\\u0000&b=2");
    assert.equal(storedBody("a=1\u0000&b=2", true), "a=1\\u0000&b=2");
    assert.equal(storedBody("a=1\u0000&b=2", false), "a=1\\u0000&b=2");
  });
  test("a verified body is kept whole, however long", () => {
    const long = `a=${"x".repeat(100_000)}`;
    assert.equal(storedBody(Buffer.from(long), true), long);
  });
  test("an unverified body is kept up to the bound, with what was dropped said", () => {
    const short = `a=${"x".repeat(UNVERIFIED_BODY_KEEP_CHARS - 2)}`;
    assert.equal(storedBody(short, false), short);
    const long = `a=${"x".repeat(10_000)}`;
    const kept = storedBody(Buffer.from(long), false);
    assert.ok(kept.startsWith(long.slice(0, UNVERIFIED_BODY_KEEP_CHARS)));
    assert.ok(kept.length < UNVERIFIED_BODY_KEEP_CHARS + 80, `${kept.length}`);
    assert.match(kept, new RegExp(`${long.length - UNVERIFIED_BODY_KEEP_CHARS} more characters not kept`));
  });
});
