// The state machine table of docs/architecture.md ("Order states"), cell by cell, plus properties over random evidence.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { OrderStatus } from "@prisma/client";
import { LOCAL_MERCHANT } from "../../../core/config/index.ts";
import { decide, EVENT, type DecideContext, type Decision, type Evidence, type OrderFacts, type TradeStatus } from "../../../core/orders/transitions.ts";

const T0 = new Date("2026-01-01T00:00:00Z");
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const MERCHANT = LOCAL_MERCHANT;
const GRACE_MS = 10 * 60_000;
const ctx = (now: Date = minutes(5)): DecideContext => ({ now, merchant: MERCHANT, graceMs: GRACE_MS });

const order = (status: OrderStatus, extra: Partial<OrderFacts> = {}): OrderFacts => ({
  status, totalFen: 9900, refundedFen: 0, alipayRefundFeeFen: 0, expiresAt: minutes(30), tradeNo: null, ...extra,
});

const notify = (tradeStatus: TradeStatus, extra: Partial<Extract<Evidence, { kind: "trade" }>> = {}): Evidence => ({
  kind: "trade", tradeStatus, totalFen: 9900, tradeNo: "2026010122001400000000000001",
  appId: MERCHANT.appId, sellerId: MERCHANT.sellerId, buyerAlipayId: "2088102000000001", paidAt: minutes(4), ...extra,
});
const query = (tradeStatus: TradeStatus, extra: Partial<Extract<Evidence, { kind: "trade" }>> = {}): Evidence => ({
  kind: "trade", tradeStatus, totalFen: 9900, tradeNo: "2026010122001400000000000001", ...extra,
});

function expectTransition(d: Decision, to: OrderStatus, event?: string): Extract<Decision, { kind: "transition" }> {
  assert.equal(d.kind, "transition", `expected a transition to ${to}, got ${JSON.stringify(d)}`);
  const t = d as Extract<Decision, { kind: "transition" }>;
  assert.equal(t.to, to);
  if (event) assert.equal(t.event, event);
  return t;
}
function expectKind(d: Decision, kind: Decision["kind"]): void {
  assert.equal(d.kind, kind, JSON.stringify(d));
}

const LOCALLY_ENDED: OrderStatus[] = ["CANCELLED", "CLOSED"];
const ALL: OrderStatus[] = ["UNPAID", "PAID", "CANCELLED", "CLOSED", "PARTIALLY_REFUNDED", "REFUNDED"];

describe("row: verified TRADE_SUCCESS / TRADE_FINISHED, amount and seller match", () => {
  for (const status of ["TRADE_SUCCESS", "TRADE_FINISHED"] as const) {
    test(`${status} from UNPAID → PAID, with trade_no, buyer and paid time`, () => {
      const t = expectTransition(decide(order("UNPAID"), notify(status), ctx()), "PAID", EVENT.paid);
      assert.equal(t.from, "UNPAID");
      assert.equal(t.anomaly, false);
      assert.equal(t.patch.tradeNo, "2026010122001400000000000001");
      assert.equal(t.patch.buyerAlipayId, "2088102000000001");
      assert.deepEqual(t.patch.paidAt, minutes(4));
      assert.equal(t.patch.needsReview, undefined);
    });
    test(`${status} from PAID → no-op (duplicate)`, () => {
      const d = decide(order("PAID", { tradeNo: "2026010122001400000000000001" }), notify(status), ctx());
      assert.deepEqual(d, { kind: "noop", reason: `already PAID (${status})`, why: { code: "order.already_trade", params: { status: "PAID", tradeStatus: status } }, duplicate: true });
    });
    for (const from of LOCALLY_ENDED) {
      test(`${status} from ${from} → PAID + anomaly for staff (money after a local close)`, () => {
        const t = expectTransition(decide(order(from), notify(status), ctx()), "PAID", EVENT.paidAfterClose);
        assert.equal(t.anomaly, true);
        assert.equal(t.patch.needsReview, true);
      });
    }
  }
  test("a query's TRADE_SUCCESS (no app/seller fields) also pays; paid time defaults to now", () => {
    const t = expectTransition(decide(order("UNPAID"), query("TRADE_SUCCESS"), ctx(minutes(7))), "PAID");
    assert.deepEqual(t.patch.paidAt, minutes(7));
  });
  test("paid evidence after expiry still pays (money is money)", () => {
    expectTransition(decide(order("UNPAID"), notify("TRADE_SUCCESS"), ctx(minutes(90))), "PAID");
  });
});

describe("row: verified TRADE_CLOSED without refund", () => {
  test("from UNPAID → CLOSED", () => {
    const t = expectTransition(decide(order("UNPAID"), notify("TRADE_CLOSED"), ctx()), "CLOSED", EVENT.closed);
    assert.deepEqual(t.patch.closedAt, minutes(5));
  });
  test("from PAID → refund path: never silently un-paid; anomaly for staff", () => {
    const d = decide(order("PAID"), notify("TRADE_CLOSED"), ctx());
    assert.deepEqual(d.kind === "anomaly" && d.event, EVENT.unexpectedStatus);
  });
  test("from PAID with refund_fee (full refund notify) → Alipay's total recorded (the whole order), refunded amount untouched", () => {
    const t = expectTransition(decide(order("PAID"), notify("TRADE_CLOSED", { refundFen: 9900 }), ctx()), "PAID", EVENT.refundReported);
    assert.equal(t.patch.alipayRefundFeeFen, 9900);
    assert.equal(t.patch.refundedFen, undefined, "only refund rows move refunded_fen");
  });
  test("TRADE_SUCCESS with refund_fee < total on PAID (partial refund notify) → Alipay's total recorded, status and refunded amount untouched", () => {
    const t = expectTransition(decide(order("PAID"), notify("TRADE_SUCCESS", { refundFen: 1000 }), ctx()), "PAID", EVENT.refundReported);
    assert.equal(t.patch.alipayRefundFeeFen, 1000);
    assert.equal(t.patch.refundedFen, undefined);
  });
  for (const from of LOCALLY_ENDED) {
    test(`from ${from} → no-op`, () => {
      const d = decide(order(from), notify("TRADE_CLOSED"), ctx());
      assert.equal(d.kind, "noop");
      assert.equal(d.kind === "noop" && d.duplicate, true);
    });
  }
});

describe("row: query says WAIT_BUYER_PAY after expiry", () => {
  test("from UNPAID, after expiry → close at Alipay first", () => {
    expectKind(decide(order("UNPAID"), query("WAIT_BUYER_PAY"), ctx(minutes(30))), "close_at_alipay_first");
  });
  test("from UNPAID, before expiry → no-op (the buyer is paying)", () => {
    expectKind(decide(order("UNPAID"), query("WAIT_BUYER_PAY"), ctx(minutes(29))), "noop");
  });
  for (const from of ["PAID", "CANCELLED", "CLOSED"] as const) {
    test(`from ${from} → nothing (–)`, () => expectKind(decide(order(from), query("WAIT_BUYER_PAY"), ctx(minutes(31))), "noop"));
  }
  test("our close succeeded → CLOSED; buyer cancel → CANCELLED; repeated → duplicate no-op", () => {
    expectTransition(decide(order("UNPAID"), { kind: "closed_at_alipay", target: "CLOSED" }, ctx(minutes(31))), "CLOSED", EVENT.closed);
    expectTransition(decide(order("UNPAID"), { kind: "closed_at_alipay", target: "CANCELLED" }, ctx()), "CANCELLED", EVENT.cancelled);
    assert.deepEqual(decide(order("CLOSED"), { kind: "closed_at_alipay", target: "CLOSED" }, ctx()), { kind: "noop", reason: "already CLOSED", why: { code: "order.already", params: { status: "CLOSED" } }, duplicate: true });
    expectKind(decide(order("PAID"), { kind: "closed_at_alipay", target: "CANCELLED" }, ctx()), "noop");
  });
});

describe("row: query says the trade does not exist", () => {
  test("from UNPAID after expiry + grace → CLOSED", () => {
    expectTransition(decide(order("UNPAID"), { kind: "trade_not_exist" }, ctx(minutes(40))), "CLOSED", EVENT.closed);
  });
  test("from UNPAID within expiry + grace → no-op (the buyer may still reach the cashier)", () => {
    expectKind(decide(order("UNPAID"), { kind: "trade_not_exist" }, ctx(minutes(5))), "noop");
    expectKind(decide(order("UNPAID"), { kind: "trade_not_exist" }, ctx(minutes(39))), "noop");
  });
  for (const from of ["PAID", "CANCELLED", "CLOSED"] as const) {
    test(`from ${from} → nothing (–)`, () => expectKind(decide(order(from), { kind: "trade_not_exist" }, ctx(minutes(60))), "noop"));
  }
});

describe("row: unknown result (timeout, 20000, ACQ.SYSTEM_ERROR)", () => {
  for (const from of ALL) {
    test(`from ${from} → nothing; check again later`, () => {
      assert.deepEqual(decide(order(from), { kind: "unknown", reason: "gateway_20000: isp.unknow-error" }, ctx(minutes(60))), {
        kind: "unknown", reason: "gateway_20000: isp.unknow-error", why: { code: "order.outcome_unknown", params: { detail: "gateway_20000: isp.unknow-error" } },
      });
    });
  }
});

describe("row: signature valid but amount / seller / app mismatch", () => {
  const cases: [string, Evidence, string][] = [
    ["amount", notify("TRADE_SUCCESS", { totalFen: 1 }), EVENT.amountMismatch],
    ["seller", notify("TRADE_SUCCESS", { sellerId: "2088999999999999" }), EVENT.merchantMismatch],
    ["absent seller", notify("TRADE_SUCCESS", { sellerId: null }), EVENT.merchantMismatch],
    ["app", notify("TRADE_SUCCESS", { appId: "2021999999999999" }), EVENT.merchantMismatch],
    ["amount on TRADE_CLOSED", notify("TRADE_CLOSED", { totalFen: 100 }), EVENT.amountMismatch],
    ["amount from a query", query("TRADE_SUCCESS", { totalFen: 9899 }), EVENT.amountMismatch],
  ];
  for (const from of ALL) {
    for (const [what, ev, event] of cases) {
      test(`${what} mismatch from ${from} → anomaly, no status change`, () => {
        const d = decide(order(from), ev, ctx());
        assert.equal(d.kind, "anomaly");
        assert.equal(d.kind === "anomaly" && d.event, event);
      });
    }
  }
  test("a different trade_no than the one recorded is an anomaly", () => {
    const d = decide(order("PAID", { tradeNo: "A" }), notify("TRADE_SUCCESS", { tradeNo: "B" }), ctx());
    assert.equal(d.kind === "anomaly" && d.event, EVENT.tradeNoMismatch);
  });
});

describe("refund evidence (issue 11): refund_fee is Alipay's claim; refunded_fen is the sum of SUCCEEDED refund rows", () => {
  // Cell by cell: each order status × refund notify (TRADE_SUCCESS / TRADE_CLOSED with refund_fee).
  for (const from of ["UNPAID", "CLOSED", "CANCELLED"] as const) {
    test(`TRADE_CLOSED + refund_fee for an order never recorded as paid (${from}) → PAID (payment recorded), Alipay's total recorded (a closed trade: all of it), flagged`, () => {
      const t = expectTransition(decide(order(from), notify("TRADE_CLOSED", { refundFen: 5000 }), ctx()), "PAID", EVENT.refundWithoutPayment);
      assert.equal(t.anomaly, true);
      assert.equal(t.patch.needsReview, true);
      assert.equal(t.patch.alipayRefundFeeFen, 9900);
      assert.equal(t.patch.refundedFen, undefined, "the refund comes as a refund row (core/refunds)");
      assert.equal(t.patch.tradeNo, "2026010122001400000000000001");
      assert.deepEqual(t.patch.paidAt, minutes(4));
    });
  }
  test("TRADE_SUCCESS + refund_fee for an UNPAID order → PAID, payment recorded, Alipay's total recorded, flagged", () => {
    const t = expectTransition(decide(order("UNPAID"), notify("TRADE_SUCCESS", { refundFen: 1000 }), ctx()), "PAID", EVENT.refundWithoutPayment);
    assert.equal(t.patch.needsReview, true);
    assert.equal(t.patch.alipayRefundFeeFen, 1000);
    assert.equal(t.patch.refundedFen, undefined);
  });
  for (const from of ["CLOSED", "CANCELLED"] as const) {
    test(`TRADE_SUCCESS + refund_fee for an order ${from} here → PAID (money after a local close), Alipay's total recorded, flagged`, () => {
      const t = expectTransition(decide(order(from), notify("TRADE_SUCCESS", { refundFen: 1000 }), ctx()), "PAID", EVENT.paidAfterClose);
      assert.equal(t.patch.alipayRefundFeeFen, 1000);
      assert.equal(t.patch.needsReview, true);
    });
  }
  for (const from of ["PAID", "PARTIALLY_REFUNDED", "REFUNDED"] as const) {
    for (const ts of ["TRADE_SUCCESS", "TRADE_FINISHED", "TRADE_CLOSED"] as const) {
      const refundFen = ts === "TRADE_CLOSED" ? 9900 : 6000;
      test(`${from} + ${ts} with refund_fee above what Alipay reported before → status unchanged, refund_reported, only alipayRefundFeeFen set`, () => {
        const t = expectTransition(decide(order(from, { refundedFen: from === "PAID" ? 0 : 5000, alipayRefundFeeFen: 1000 }), notify(ts, { refundFen }), ctx()), from, EVENT.refundReported);
        assert.deepEqual(t.patch, { alipayRefundFeeFen: refundFen });
      });
      test(`${from} + ${ts} with refund_fee at or below what Alipay reported before (a repeat, or a stale notify) → duplicate no-op`, () => {
        const d = decide(order(from, { alipayRefundFeeFen: 9900 }), notify(ts, { refundFen }), ctx());
        assert.equal(d.kind === "noop" && d.duplicate, true, JSON.stringify(d));
      });
    }
  }
  for (const from of ["PARTIALLY_REFUNDED", "REFUNDED"] as const) {
    test(`${from} + refund_fee our refund rows already account for (the notify of a refund settled by its call) → duplicate no-op, nothing recorded`, () => {
      const d = decide(order(from, { refundedFen: 6000 }), notify("TRADE_SUCCESS", { refundFen: 6000 }), ctx());
      assert.equal(d.kind === "noop" && d.duplicate, true, JSON.stringify(d));
    });
  }
  test("refund_fee above the total is capped at the total", () => {
    const t = expectTransition(decide(order("PAID"), notify("TRADE_SUCCESS", { refundFen: 99_999 }), ctx()), "PAID", EVENT.refundReported);
    assert.equal(t.patch.alipayRefundFeeFen, 9900);
  });
  test("the example of the review: our 50 in flight, a console refund of 10 (refund_fee 60), then ours succeeds → PARTIALLY_REFUNDED at 60, never 100", () => {
    let o = order("PAID", { totalFen: 100 });
    const reported = expectTransition(decide(o, notify("TRADE_SUCCESS", { refundFen: 60, totalFen: 100 }), ctx()), "PAID", EVENT.refundReported);
    o = { ...o, alipayRefundFeeFen: reported.patch.alipayRefundFeeFen! };
    // core/refunds records the 10 no refund of ours explains as an external row, which succeeds:
    const external = expectTransition(decide(o, { kind: "refund_succeeded", refundFen: 10, outRequestNo: "ex_1" }, ctx()), "PARTIALLY_REFUNDED");
    o = { ...o, status: external.to, refundedFen: external.patch.refundedFen! };
    const ours = expectTransition(decide(o, { kind: "refund_succeeded", refundFen: 50, outRequestNo: "rf_1" }, ctx()), "PARTIALLY_REFUNDED");
    assert.equal(ours.patch.refundedFen, 60);
  });
  test("after it, the query's TRADE_CLOSED changes nothing (the payment is not erased)", () => {
    expectKind(decide(order("REFUNDED", { refundedFen: 9900 }), query("TRADE_CLOSED"), ctx(minutes(60))), "noop");
  });
  const succeeded = (refundFen: number): Evidence => ({ kind: "refund_succeeded", refundFen, outRequestNo: "rf_1" });
  test("our refund succeeded: PAID → PARTIALLY_REFUNDED; adds to what was refunded; reaching the total → REFUNDED", () => {
    const a = expectTransition(decide(order("PAID"), succeeded(3000), ctx()), "PARTIALLY_REFUNDED", EVENT.partiallyRefunded);
    assert.equal(a.patch.refundedFen, 3000);
    const b = expectTransition(decide(order("PARTIALLY_REFUNDED", { refundedFen: 3000 }), succeeded(3000), ctx()), "PARTIALLY_REFUNDED");
    assert.equal(b.patch.refundedFen, 6000);
    const c = expectTransition(decide(order("PARTIALLY_REFUNDED", { refundedFen: 6000 }), succeeded(3900), ctx()), "REFUNDED", EVENT.refunded);
    assert.equal(c.patch.refundedFen, 9900);
  });
  test("a refund succeeded beyond the total (contradicting evidence) → anomaly, the order unchanged (refunded_fen never above the total)", () => {
    expectKind(decide(order("REFUNDED", { refundedFen: 9900 }), succeeded(100), ctx()), "anomaly");
    expectKind(decide(order("PARTIALLY_REFUNDED", { refundedFen: 9000 }), succeeded(901), ctx()), "anomaly");
  });
  test("a refund succeeded for an order never paid here → anomaly", () => {
    for (const from of ["UNPAID", "CLOSED", "CANCELLED"] as const) expectKind(decide(order(from), succeeded(100), ctx()), "anomaly");
  });
});

// ---- properties -------------------------------------------------------------------------------

const statusArb = fc.constantFrom<OrderStatus>(...ALL);
const tradeStatusArb = fc.constantFrom<TradeStatus>("WAIT_BUYER_PAY", "TRADE_CLOSED", "TRADE_SUCCESS", "TRADE_FINISHED");
const evidenceArb: fc.Arbitrary<Evidence> = fc.oneof(
  fc.record({
    kind: fc.constant("trade" as const),
    tradeStatus: tradeStatusArb,
    totalFen: fc.constantFrom(9900, 9900, 9900, 1),
    tradeNo: fc.constantFrom("T1", null),
    appId: fc.constantFrom(MERCHANT.appId, MERCHANT.appId, "2021999999999999", undefined),
    sellerId: fc.constantFrom(MERCHANT.sellerId, MERCHANT.sellerId, null, undefined),
    refundFen: fc.constantFrom(null, 0, 1000, 9900),
  }),
  fc.constant<Evidence>({ kind: "trade_not_exist" }),
  fc.constantFrom<Evidence>({ kind: "closed_at_alipay", target: "CLOSED" }, { kind: "closed_at_alipay", target: "CANCELLED" }),
  fc.constant<Evidence>({ kind: "unknown", reason: "timeout" }),
);
const nowArb = fc.integer({ min: 0, max: 120 }).map(minutes);

function applyDecision(o: OrderFacts, d: Decision): OrderFacts {
  if (d.kind !== "transition") return o;
  return { ...o, status: d.to, tradeNo: d.patch.tradeNo ?? o.tradeNo, refundedFen: d.patch.refundedFen ?? o.refundedFen, alipayRefundFeeFen: d.patch.alipayRefundFeeFen ?? o.alipayRefundFeeFen };
}

test("property: the same evidence twice never transitions twice (idempotency of the rules)", () => {
  fc.assert(
    fc.property(statusArb, evidenceArb, nowArb, (status, ev, now) => {
      const first = decide(order(status), ev, ctx(now));
      const second = decide(applyDecision(order(status), first), ev, ctx(now));
      return second.kind !== "transition";
    }),
    { numRuns: 2000 },
  );
});

test("property: only verified paid statuses with matching amount, app and seller lead to PAID", () => {
  fc.assert(
    fc.property(statusArb, evidenceArb, nowArb, (status, ev, now) => {
      const d = decide(order(status), ev, ctx(now));
      if (d.kind !== "transition" || d.to !== "PAID" || d.from === "PAID") return true;
      // TRADE_CLOSED with refund_fee: a refunded trade was paid (the payment is recorded, flagged).
      const paidEvidence = ev.kind === "trade" && (ev.tradeStatus === "TRADE_SUCCESS" || ev.tradeStatus === "TRADE_FINISHED" || (ev.tradeStatus === "TRADE_CLOSED" && (ev.refundFen ?? 0) > 0));
      return paidEvidence && ev.totalFen === 9900 &&
        (ev.appId === undefined || ev.appId === MERCHANT.appId) && (ev.sellerId === undefined || ev.sellerId === MERCHANT.sellerId);
    }),
    { numRuns: 2000 },
  );
});

test("property: trade evidence never moves refunded_fen (only refund rows do) and Alipay's reported total only rises, never above the total", () => {
  fc.assert(
    fc.property(statusArb, evidenceArb, nowArb, fc.constantFrom(0, 1000, 9900), (status, ev, now, reported) => {
      const o = order(status, { alipayRefundFeeFen: reported });
      const d = decide(o, ev, ctx(now));
      if (d.kind !== "transition") return true;
      const fee = d.patch.alipayRefundFeeFen;
      return d.patch.refundedFen === undefined && (fee === undefined || (fee > reported && fee <= o.totalFen));
    }),
    { numRuns: 2000 },
  );
});

test("property: a paid order never leaves the paid family, and transitions always start from the current status", () => {
  fc.assert(
    fc.property(statusArb, evidenceArb, nowArb, (status, ev, now) => {
      const d = decide(order(status), ev, ctx(now));
      if (d.kind !== "transition") return true;
      const paidFamily = ["PAID", "PARTIALLY_REFUNDED", "REFUNDED"];
      return d.from === status && (!paidFamily.includes(status) || paidFamily.includes(d.to));
    }),
    { numRuns: 2000 },
  );
});
