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
  status, totalFen: 9900, refundedFen: 0, expiresAt: minutes(30), tradeNo: null, ...extra,
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
      assert.deepEqual(d, { kind: "noop", reason: `already PAID (${status})`, duplicate: true });
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
  test("from PAID with refund_fee = total (full refund notify) → REFUNDED", () => {
    const t = expectTransition(decide(order("PAID"), notify("TRADE_CLOSED", { refundFen: 9900 }), ctx()), "REFUNDED", EVENT.refunded);
    assert.equal(t.patch.refundedFen, 9900);
  });
  test("TRADE_SUCCESS with refund_fee < total on PAID (partial refund notify) → PARTIALLY_REFUNDED", () => {
    const t = expectTransition(decide(order("PAID"), notify("TRADE_SUCCESS", { refundFen: 1000 }), ctx()), "PARTIALLY_REFUNDED");
    assert.equal(t.patch.refundedFen, 1000);
    expectKind(decide(order("PARTIALLY_REFUNDED", { refundedFen: 1000 }), notify("TRADE_SUCCESS", { refundFen: 1000 }), ctx()), "noop");
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
    assert.deepEqual(decide(order("CLOSED"), { kind: "closed_at_alipay", target: "CLOSED" }, ctx()), { kind: "noop", reason: "already CLOSED", duplicate: true });
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
        kind: "unknown", reason: "gateway_20000: isp.unknow-error",
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

describe("refund evidence (issue 11)", () => {
  for (const from of ["UNPAID", "CLOSED", "CANCELLED"] as const) {
    test(`TRADE_CLOSED + refund_fee for an order never recorded as paid (${from}) → REFUNDED, payment recorded, flagged`, () => {
      const t = expectTransition(decide(order(from), notify("TRADE_CLOSED", { refundFen: 9900 }), ctx()), "REFUNDED", EVENT.refundWithoutPayment);
      assert.equal(t.anomaly, true);
      assert.equal(t.patch.needsReview, true);
      assert.equal(t.patch.refundedFen, 9900);
      assert.equal(t.patch.tradeNo, "2026010122001400000000000001");
      assert.deepEqual(t.patch.paidAt, minutes(4));
    });
  }
  test("TRADE_SUCCESS + refund_fee for an UNPAID order → PARTIALLY_REFUNDED, payment recorded, flagged", () => {
    const t = expectTransition(decide(order("UNPAID"), notify("TRADE_SUCCESS", { refundFen: 1000 }), ctx()), "PARTIALLY_REFUNDED", EVENT.refundWithoutPayment);
    assert.equal(t.patch.needsReview, true);
    assert.equal(t.patch.refundedFen, 1000);
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
  test("our refund succeeded on a REFUNDED order → no-op; on an order never paid → anomaly", () => {
    expectKind(decide(order("REFUNDED", { refundedFen: 9900 }), succeeded(100), ctx()), "noop");
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
  return { ...o, status: d.to, tradeNo: d.patch.tradeNo ?? o.tradeNo, refundedFen: d.patch.refundedFen ?? o.refundedFen };
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
      if (d.kind !== "transition" || d.to !== "PAID") return true;
      return ev.kind === "trade" && (ev.tradeStatus === "TRADE_SUCCESS" || ev.tradeStatus === "TRADE_FINISHED") && ev.totalFen === 9900 &&
        (ev.appId === undefined || ev.appId === MERCHANT.appId) && (ev.sellerId === undefined || ev.sellerId === MERCHANT.sellerId);
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
