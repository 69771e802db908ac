// The refund state machine (core/refunds/transitions.ts), cell by cell, plus properties.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { RefundState } from "@prisma/client";
import {
  aboveApprovalThreshold, approvalRefusal, approverRole, decideRefund, externalRefundFen, initialState, MAYBE_AT_ALIPAY, nextRefundCheckAt, refundWindowOpen, REFUND_EVENT, COUNTED_STATES,
  type Actor, type EvidenceSource, type RefundCommand, type RefundContext, type RefundDecision, type RefundEvidence, type RefundFacts,
} from "../../../core/refunds/transitions.ts";

const T0 = new Date("2026-12-01T00:00:00Z");
const seconds = (n: number) => new Date(T0.getTime() + n * 1000);
const RULES = { approvalAboveFen: 50_000, settleDelayMs: 10_000 };
const ctx = (now = seconds(60)): RefundContext => ({ ...RULES, now });
const ALL: RefundState[] = ["AWAITING_APPROVAL", "QUEUED", "SUBMITTED", "UNKNOWN", "SUCCEEDED", "FAILED", "REJECTED"];
const SENT: RefundState[] = ["QUEUED", "SUBMITTED", "UNKNOWN"];

const refund = (state: RefundState, extra: Partial<RefundFacts> = {}): RefundFacts => ({
  state, amountFen: 60_000, source: "staff", requestedBy: "op@example.com", lastCallAt: seconds(0), unsettledCalls: 1, otherRefundsFen: 0, ...extra,
});
const admin: Actor = { email: "boss@example.com", role: "admin" };
const operator: Actor = { email: "op2@example.com", role: "operator" };
const ev = (evidence: RefundEvidence, from: EvidenceSource = "call"): RefundCommand => ({ kind: "evidence", evidence, from });

function expectTo(d: RefundDecision, to: RefundState, event?: string): void {
  assert.equal(d.kind, "transition", JSON.stringify(d));
  if (d.kind !== "transition") return;
  assert.equal(d.to, to);
  if (event) assert.equal(d.event, event);
}
const expectKind = (d: RefundDecision, kind: RefundDecision["kind"]) => assert.equal(d.kind, kind, JSON.stringify(d));

describe("where a refund starts", () => {
  test("staff at or below the threshold → QUEUED; above → AWAITING_APPROVAL; buyers always wait", () => {
    assert.equal(initialState("staff", 50_000, 0, RULES), "QUEUED");
    assert.equal(initialState("staff", 50_001, 0, RULES), "AWAITING_APPROVAL");
    assert.equal(initialState("buyer", 1, 0, RULES), "AWAITING_APPROVAL");
  });
  test("no threshold split: the order's other refunds through coursepay count, so 400 + 400 on one order waits for approval", () => {
    assert.equal(initialState("staff", 40_000, 0, RULES), "QUEUED");
    assert.equal(initialState("staff", 40_000, 40_000, RULES), "AWAITING_APPROVAL");
    assert.equal(initialState("staff", 10_000, 40_000, RULES), "QUEUED", "exactly at the threshold in all: no approval");
    assert.equal(aboveApprovalThreshold(10_001, 40_000, RULES), true);
    assert.equal(approverRole(10_000, 40_001, RULES), "admin");
    assert.equal(approverRole(10_000, 40_000, RULES), "operator");
  });
  test("approving the split part needs the admin role: an operator is refused, an admin (not the requester) approves", () => {
    const part = refund("AWAITING_APPROVAL", { amountFen: 20_000, otherRefundsFen: 40_000 });
    expectKind(decideRefund(part, { kind: "approve", actor: operator }, ctx()), "refused");
    expectTo(decideRefund(part, { kind: "approve", actor: admin }, ctx()), "QUEUED");
  });
  test("every state a refund can be in while money may still leave is counted against the total", () => {
    assert.deepEqual([...COUNTED_STATES].sort(), ["AWAITING_APPROVAL", "QUEUED", "SUBMITTED", "SUCCEEDED", "UNKNOWN"]);
  });
});

describe("row: approve / reject (four eyes)", () => {
  test("AWAITING_APPROVAL + admin who is not the requester → QUEUED (approve) / REJECTED (reject)", () => {
    expectTo(decideRefund(refund("AWAITING_APPROVAL"), { kind: "approve", actor: admin }, ctx()), "QUEUED", REFUND_EVENT.approved);
    expectTo(decideRefund(refund("AWAITING_APPROVAL"), { kind: "reject", actor: admin, reason: "duplicate" }, ctx()), "REJECTED", REFUND_EVENT.rejected);
  });
  test("the requester cannot approve or reject their own refund, whatever their role", () => {
    const self: Actor = { email: "OP@example.com", role: "admin" };
    expectKind(decideRefund(refund("AWAITING_APPROVAL"), { kind: "approve", actor: self }, ctx()), "refused");
    expectKind(decideRefund(refund("AWAITING_APPROVAL"), { kind: "reject", actor: self, reason: "x" }, ctx()), "refused");
  });
  test("above the threshold an operator cannot approve; a viewer never can", () => {
    expectKind(decideRefund(refund("AWAITING_APPROVAL"), { kind: "approve", actor: operator }, ctx()), "refused");
    expectKind(decideRefund(refund("AWAITING_APPROVAL", { amountFen: 100 }), { kind: "approve", actor: { email: "v@x", role: "viewer" } }, ctx()), "refused");
  });
  test("at or below the threshold (a buyer's request) an operator may approve", () => {
    expectTo(decideRefund(refund("AWAITING_APPROVAL", { amountFen: 50_000, source: "buyer", requestedBy: "buyer:7" }), { kind: "approve", actor: operator }, ctx()), "QUEUED");
  });
  test("a rejection needs a reason", () => {
    expectKind(decideRefund(refund("AWAITING_APPROVAL"), { kind: "reject", actor: admin, reason: "  " }, ctx()), "refused");
  });
  for (const s of ALL.filter((x) => x !== "AWAITING_APPROVAL")) {
    test(`from ${s}: approve and reject are refused`, () => {
      expectKind(decideRefund(refund(s), { kind: "approve", actor: admin }, ctx()), "refused");
      expectKind(decideRefund(refund(s), { kind: "reject", actor: admin, reason: "r" }, ctx()), "refused");
    });
  }
  test("approvalRefusal names the reason", () => {
    assert.match(approvalRefusal(refund("AWAITING_APPROVAL"), operator, RULES)!.reason, /admin role/);
    assert.equal(approvalRefusal(refund("AWAITING_APPROVAL"), admin, RULES), null);
  });
});

describe("row: dispatch (the worker calls alipay.trade.refund)", () => {
  for (const s of SENT) test(`from ${s} → SUBMITTED (same out_request_no)`, () => expectTo(decideRefund(refund(s), { kind: "dispatch" }, ctx()), "SUBMITTED", REFUND_EVENT.submitted));
  for (const s of ["AWAITING_APPROVAL", "SUCCEEDED", "FAILED", "REJECTED"] as const) {
    test(`from ${s} → refused: nothing is sent`, () => expectKind(decideRefund(refund(s), { kind: "dispatch" }, ctx()), "refused"));
  }
});

describe("row: succeeded (call fund_change=Y, query REFUND_SUCCESS or no status, notify)", () => {
  for (const from of ["call", "query", "notify"] as const) {
    for (const s of SENT) test(`${from}: from ${s} → SUCCEEDED`, () => expectTo(decideRefund(refund(s), ev({ kind: "succeeded" }, from), ctx()), "SUCCEEDED", REFUND_EVENT.succeeded));
    test(`${from}: from SUCCEEDED → no-op (whichever came first already counted it)`, () => expectKind(decideRefund(refund("SUCCEEDED"), ev({ kind: "succeeded" }, from), ctx()), "noop"));
  }
  test("from FAILED → SUCCEEDED, flagged as an anomaly (money left although we recorded a failure)", () => {
    const d = decideRefund(refund("FAILED"), ev({ kind: "succeeded" }, "query"), ctx());
    expectTo(d, "SUCCEEDED", REFUND_EVENT.succeededAfterFailure);
    assert.equal(d.kind === "transition" && d.anomaly, true);
  });
  for (const s of ["AWAITING_APPROVAL", "REJECTED"] as const) {
    test(`from ${s} (never sent) → anomaly, no change`, () => expectKind(decideRefund(refund(s), ev({ kind: "succeeded" }, "notify"), ctx()), "anomaly"));
  }
});

describe("row: processing (fund_change=N, REFUND_PROCESSING)", () => {
  for (const s of ["QUEUED", "UNKNOWN"] as const) test(`from ${s} → SUBMITTED`, () => expectTo(decideRefund(refund(s), ev({ kind: "processing" }), ctx()), "SUBMITTED"));
  for (const s of ["SUBMITTED", "SUCCEEDED", "FAILED", "REJECTED", "AWAITING_APPROVAL"] as const) {
    test(`from ${s} → no-op`, () => expectKind(decideRefund(refund(s), ev({ kind: "processing" }, "query"), ctx()), "noop"));
  }
});

describe("row: not refunded (query without refund data)", () => {
  for (const s of ["SUBMITTED", "UNKNOWN"] as const) {
    test(`from ${s}, settle delay passed → QUEUED (sent again with the same out_request_no)`, () => {
      expectTo(decideRefund(refund(s), ev({ kind: "not_refunded" }, "query"), ctx(seconds(10))), "QUEUED", REFUND_EVENT.requeued);
    });
    test(`from ${s}, right after the call → no-op (too soon to believe)`, () => {
      expectKind(decideRefund(refund(s), ev({ kind: "not_refunded" }, "query"), ctx(seconds(9))), "noop");
    });
    test(`from ${s}, not from a query → no-op`, () => {
      expectKind(decideRefund(refund(s), ev({ kind: "not_refunded" }, "call"), ctx()), "noop");
    });
  }
  for (const s of ["AWAITING_APPROVAL", "QUEUED", "SUCCEEDED", "FAILED", "REJECTED"] as const) {
    test(`from ${s} → no-op`, () => expectKind(decideRefund(refund(s), ev({ kind: "not_refunded" }, "query"), ctx()), "noop"));
  }
});

describe("row: failed (business error, REFUND_FAIL)", () => {
  const failed: RefundEvidence = { kind: "failed", code: "ACQ.SELLER_BALANCE_NOT_ENOUGH", message: "卖家余额不足" };
  const statusError: RefundEvidence = { kind: "failed", code: "ACQ.TRADE_STATUS_ERROR", message: "交易状态不合法" };
  // The call being answered is counted in unsettledCalls (submitRefund counts it before calling).
  for (const s of SENT) {
    test(`call, the first since the refund was known absent (unsettledCalls 1), from ${s} → FAILED (final)`, () => {
      expectTo(decideRefund(refund(s, { unsettledCalls: 1 }), ev(failed), ctx()), "FAILED", REFUND_EVENT.failed);
    });
    test(`call, the very first ever (unsettledCalls 0: never dispatched through the counter), from ${s} → FAILED`, () => {
      expectTo(decideRefund(refund(s, { unsettledCalls: 0 }), ev(failed), ctx()), "FAILED", REFUND_EVENT.failed);
    });
    test(`query REFUND_FAIL from ${s} → FAILED whatever the calls (the query is authoritative)`, () => {
      expectTo(decideRefund(refund(s, { unsettledCalls: 5 }), ev({ kind: "failed", code: "REFUND_FAIL", message: "" }, "query"), ctx()), "FAILED");
    });
  }
  for (const s of ["QUEUED", "SUBMITTED"] as const) {
    test(`call on a RESEND (unsettledCalls 2: the first call's outcome was unknown), from ${s} → UNKNOWN, never FAILED (the query decides)`, () => {
      const d = decideRefund(refund(s, { unsettledCalls: 2 }), ev(statusError), ctx());
      expectTo(d, "UNKNOWN", REFUND_EVENT.unknown);
      assert.match(d.kind === "transition" ? d.reason : "", /resend/);
    });
  }
  test("call on a resend from UNKNOWN → no-op (stays UNKNOWN for the query)", () => {
    expectKind(decideRefund(refund("UNKNOWN", { unsettledCalls: 3 }), ev(statusError), ctx()), "noop");
  });
  test("the review's scenario: timeout after Alipay applied it, then ACQ.TRADE_STATUS_ERROR on the resend → UNKNOWN, then the query's refund data → SUCCEEDED", () => {
    let r = refund("SUBMITTED", { unsettledCalls: 1 });
    const timedOut = decideRefund(r, ev({ kind: "unknown", reason: "timeout" }), ctx());
    expectTo(timedOut, "UNKNOWN");
    r = { ...r, state: "SUBMITTED", unsettledCalls: 2 }; // the job's retry dispatched it again
    const resend = decideRefund(r, ev(statusError), ctx());
    expectTo(resend, "UNKNOWN");
    r = { ...r, state: "UNKNOWN" };
    expectTo(decideRefund(r, ev({ kind: "succeeded" }, "query"), ctx()), "SUCCEEDED");
  });
  test("a persistent error cannot loop: resend error → UNKNOWN; query: no refund data → QUEUED (counter reset); next call's error → FAILED", () => {
    let r = refund("SUBMITTED", { unsettledCalls: 2 });
    expectTo(decideRefund(r, ev(failed), ctx()), "UNKNOWN");
    r = { ...r, state: "UNKNOWN" };
    expectTo(decideRefund(r, ev({ kind: "not_refunded" }, "query"), ctx(seconds(30))), "QUEUED", REFUND_EVENT.requeued);
    r = { ...r, state: "SUBMITTED", unsettledCalls: 1 }; // store: knownAbsent resets to 0, the dispatch counts 1
    expectTo(decideRefund(r, ev(failed), ctx()), "FAILED", REFUND_EVENT.failed);
  });
  for (const s of ["AWAITING_APPROVAL", "SUCCEEDED", "FAILED", "REJECTED"] as const) {
    test(`from ${s} → no-op`, () => expectKind(decideRefund(refund(s), ev(failed), ctx()), "noop"));
    test(`from ${s}, on a resend → no-op`, () => expectKind(decideRefund(refund(s, { unsettledCalls: 4 }), ev(failed), ctx()), "noop"));
  }
});

describe("external refunds: what Alipay's cumulative refund_fee shows beyond our rows", () => {
  test("only sent refunds whose outcome is open may be at Alipay unknown to us", () => {
    assert.deepEqual([...MAYBE_AT_ALIPAY].sort(), ["SUBMITTED", "UNKNOWN"]);
  });
  test("nothing beyond what succeeded → 0 (a repeat or a stale notify)", () => {
    assert.equal(externalRefundFen(50, 50, []), 0);
    assert.equal(externalRefundFen(20, 50, []), 0);
    assert.equal(externalRefundFen(0, 0, [30]), 0);
  });
  test("nothing in flight → all of the excess is external", () => assert.equal(externalRefundFen(60, 50, []), 10));
  test("the review's example: ours 50 in flight, refund_fee 60 → 10 external (ours settles later to 60, never 100)", () => {
    assert.equal(externalRefundFen(60, 0, [50]), 10);
  });
  test("a notify naming ours, after ours is settled: refund_fee 60, succeeded 50 (ours) → 10 external", () => assert.equal(externalRefundFen(60, 50, []), 10));
  test("an excess our in-flight refunds account for exactly → 0 (they settle by their own evidence)", () => {
    assert.equal(externalRefundFen(50, 0, [50]), 0);
    assert.equal(externalRefundFen(50, 0, [30, 20, 40]), 0);
  });
  test("a refund is made whole or not at all: 10 cannot be a part of our 50 → 10 external", () => assert.equal(externalRefundFen(10, 0, [50]), 10));
  test("the largest fitting combination of in-flight refunds is taken (never records more than certainly external)", () => {
    assert.equal(externalRefundFen(45, 0, [30, 20]), 15); // 30 fits, 30+20 does not: at least 15 external
    assert.equal(externalRefundFen(100, 10, [30, 20, 40]), 0);
    assert.equal(externalRefundFen(100, 0, [30, 25, 40]), 5);
  });
  test("two console refunds seen one after the other: each time only the new part is external", () => {
    const first = externalRefundFen(10, 0, []);
    const second = externalRefundFen(30, first, []);
    assert.deepEqual([first, second], [10, 20]);
  });
  test("property: never negative, never more than the excess, 0 when in-flight refunds cover it exactly", () => {
    fc.assert(fc.property(fc.nat(10_000), fc.nat(10_000), fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 6 }), (reported, succeeded, inFlight) => {
      const x = externalRefundFen(reported, succeeded, inFlight);
      const excess = Math.max(0, reported - succeeded);
      const exact = externalRefundFen(succeeded + inFlight.reduce((a, b) => a + b, 0), succeeded, inFlight);
      return x >= 0 && x <= excess && exact === 0;
    }), { numRuns: 1000 });
  });
});

describe("row: unknown (timeout, 20000, ACQ.SYSTEM_ERROR, unverifiable)", () => {
  for (const s of ["QUEUED", "SUBMITTED"] as const) test(`from ${s} → UNKNOWN`, () => expectTo(decideRefund(refund(s), ev({ kind: "unknown", reason: "timeout" }), ctx()), "UNKNOWN", REFUND_EVENT.unknown));
  for (const s of ["UNKNOWN", "AWAITING_APPROVAL", "SUCCEEDED", "FAILED", "REJECTED"] as const) {
    test(`from ${s} → no-op`, () => expectKind(decideRefund(refund(s), ev({ kind: "unknown", reason: "timeout" }), ctx()), "noop"));
  }
});

describe("window and backoff", () => {
  test("the buyer's window is open until paidAt + days, closed without a payment", () => {
    const paid = new Date("2026-12-01T00:00:00Z");
    assert.equal(refundWindowOpen(paid, new Date("2026-12-08T00:00:00Z"), 7), true);
    assert.equal(refundWindowOpen(paid, new Date("2026-12-08T00:00:01Z"), 7), false);
    assert.equal(refundWindowOpen(null, paid, 7), false);
  });
  test("checks back off by doubling from the settle delay, capped at 10 minutes", () => {
    assert.equal(nextRefundCheckAt(T0, 0, 10_000).getTime() - T0.getTime(), 10_000);
    assert.equal(nextRefundCheckAt(T0, 2, 10_000).getTime() - T0.getTime(), 40_000);
    assert.equal(nextRefundCheckAt(T0, 30, 10_000).getTime() - T0.getTime(), 600_000);
  });
});

// ---- properties ---------------------------------------------------------------------------------

const stateArb = fc.constantFrom<RefundState>(...ALL);
const evidenceArb = fc.constantFrom<RefundEvidence>(
  { kind: "succeeded" }, { kind: "processing" }, { kind: "not_refunded" }, { kind: "failed", code: "ACQ.X", message: "x" }, { kind: "unknown", reason: "t" },
);
const fromArb = fc.constantFrom<EvidenceSource>("call", "query", "notify");

test("property: SUCCEEDED is never left, and nothing but a refund query's 'no refund data' sends a refund back to QUEUED", () => {
  fc.assert(fc.property(stateArb, evidenceArb, fromArb, fc.integer({ min: 0, max: 60 }), (s, e, from, t) => {
    const d = decideRefund(refund(s), ev(e, from), ctx(seconds(t)));
    if (d.kind !== "transition") return true;
    if (s === "SUCCEEDED") return false;
    if (d.to === "QUEUED") return e.kind === "not_refunded" && from === "query" && t >= 10;
    return true;
  }), { numRuns: 3000 });
});

test("property: the same evidence twice never transitions twice", () => {
  fc.assert(fc.property(stateArb, evidenceArb, fromArb, (s, e, from) => {
    const first = decideRefund(refund(s), ev(e, from), ctx());
    if (first.kind !== "transition") return true;
    const second = decideRefund(refund(first.to), ev(e, from), ctx());
    return second.kind !== "transition";
  }), { numRuns: 3000 });
});
