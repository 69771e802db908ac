// Decision reasons in the admin: every reason code core/orders and core/refunds can give has a text in
// both languages; every decision of both state machines (over all states and evidence) reads in the
// page's language, statuses by their labels; core's English sentence is built from the same code;
// rows from before reason codes (English sentence only) read the same as new ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { OrderStatus, RefundState } from "@prisma/client";
import { decide, type Evidence, type OrderFacts } from "../../../core/orders/transitions.ts";
import { ORDER_REASONS } from "../../../core/orders/reasons.ts";
import { REFUND_REASONS } from "../../../core/refunds/reasons.ts";
import { decideRefund, type RefundCommand, type RefundEvidence, type RefundFacts } from "../../../core/refunds/transitions.ts";
import type { Why } from "../../../core/reasons.ts";
import { legacyWhy, localizeReason, REASON_TEXTS, sayWhy } from "../../../admin/locale/reasons.ts";
import { LANGUAGES } from "../../../admin/locale/index.ts";

const STATUSES: OrderStatus[] = ["UNPAID", "PAID", "CANCELLED", "CLOSED", "PARTIALLY_REFUNDED", "REFUNDED"];
const STATES: RefundState[] = ["AWAITING_APPROVAL", "QUEUED", "SUBMITTED", "UNKNOWN", "SUCCEEDED", "FAILED", "REJECTED"];
const now = new Date("2026-11-27T06:00:00Z");
const ctx = { now, merchant: { appId: "2021000000000001", sellerId: "2088000000000001" }, graceMs: 600_000 };

function evidences(): Evidence[] {
  const out: Evidence[] = [
    { kind: "trade_not_exist" },
    { kind: "closed_at_alipay", target: "CLOSED" },
    { kind: "closed_at_alipay", target: "CANCELLED" },
    { kind: "unknown", reason: "network: ECONNREFUSED" },
  ];
  for (const tradeStatus of ["WAIT_BUYER_PAY", "TRADE_CLOSED", "TRADE_SUCCESS", "TRADE_FINISHED"] as const) {
    for (const refundFen of [0, 300, 1000]) out.push({ kind: "trade", tradeStatus, totalFen: 1000, tradeNo: "2026112722001400001", refundFen });
  }
  out.push({ kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 999, tradeNo: null });
  out.push({ kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 1000, tradeNo: "other", appId: "2021999999999999", sellerId: "2088999999999999" });
  out.push({ kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 1000, tradeNo: "other", appId: null, sellerId: "2088000000000001" });
  out.push({ kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 1000, tradeNo: "2026112722009999999" });
  for (const refundFen of [300, 1000]) out.push({ kind: "refund_succeeded", refundFen, outRequestNo: "rf_0123456789" });
  return out;
}

/** Every order decision: its code and parameters, and core's English sentence. */
function orderDecisions(): { reason: string; why: Why }[] {
  const out: { reason: string; why: Why }[] = [];
  for (const status of STATUSES) {
    for (const [expired, reported] of [[false, 0], [true, 0], [false, 1000]] as const) {
      const order: OrderFacts = {
        status, totalFen: 1000, refundedFen: status === "PARTIALLY_REFUNDED" ? 300 : status === "REFUNDED" ? 1000 : 0, alipayRefundFeeFen: reported,
        expiresAt: new Date(now.getTime() + (expired ? -3600_000 : 600_000)), tradeNo: "2026112722001400001",
      };
      for (const ev of evidences()) out.push(decide(order, ev, ctx));
    }
  }
  return out;
}

function refundDecisions(): { reason: string; why: Why }[] {
  const out: { reason: string; why: Why }[] = [];
  const evidence: RefundEvidence[] = [
    { kind: "succeeded" }, { kind: "processing" }, { kind: "not_refunded" }, { kind: "failed", code: "ACQ.SELLER_BALANCE_NOT_ENOUGH", message: "余额不足" },
    { kind: "unknown", reason: "timeout" },
  ];
  const commands: RefundCommand[] = [
    { kind: "approve", actor: { email: "boss@example.com", role: "admin" } },
    { kind: "approve", actor: { email: "op@example.com", role: "admin" } },
    { kind: "approve", actor: { email: "op2@example.com", role: "operator" } },
    { kind: "reject", actor: { email: "boss@example.com", role: "admin" }, reason: "课程下架" },
    { kind: "reject", actor: { email: "boss@example.com", role: "admin" }, reason: " " },
    { kind: "dispatch" },
    ...evidence.flatMap((e) => (["call", "query", "notify"] as const).map((from): RefundCommand => ({ kind: "evidence", evidence: e, from }))),
  ];
  for (const state of STATES) {
    for (const [unsettledCalls, lastCallAt] of [[1, new Date(now.getTime() - 60_000)], [2, new Date(now.getTime() - 1000)]] as const) {
      const refund: RefundFacts = { state, amountFen: 60_000, source: "staff", requestedBy: "op@example.com", lastCallAt, unsettledCalls, otherRefundsFen: 0 };
      for (const c of commands) out.push(decideRefund(refund, c, { approvalAboveFen: 50_000, settleDelayMs: 10_000, now }));
    }
  }
  return out;
}

const ALL_CODES = [...Object.keys(ORDER_REASONS), ...Object.keys(REFUND_REASONS)].sort();

test("every reason code has a text in both languages, and the tables hold no other codes", () => {
  for (const lang of LANGUAGES) assert.deepEqual(Object.keys(REASON_TEXTS[lang]).sort(), ALL_CODES, lang);
});

test("the state machines give every code they use a sentence built from it (core's English is the code's, not a second text)", () => {
  const seen = new Set<string>();
  const sentence = { ...ORDER_REASONS, ...REFUND_REASONS } as Record<string, (p: unknown) => string>;
  for (const d of [...orderDecisions(), ...refundDecisions()]) {
    assert.ok(d.why.code in sentence, d.why.code);
    assert.equal(d.reason, sentence[d.why.code]!(d.why.params), d.why.code);
    seen.add(d.why.code);
  }
  // The decisions above reach most codes; the rest are given by commands (apply.ts, commands.ts, store.ts).
  assert.ok(seen.size >= 40, `${seen.size} codes reached`);
});

test("in Chinese, every decision reads without English: statuses by their labels, amounts in yuan", () => {
  for (const d of [...orderDecisions(), ...refundDecisions()]) {
    const zh = sayWhy("zh-CN", d.why)!;
    // Left in Latin letters: identifiers (field names, trade and refund numbers, emails, Alipay's codes) and the network error text.
    const words = zh.replace(/\b(app_id|seller_id)\b|[\w.@-]*\d[\w.@-]*|ACQ\.[A-Z_]+|[\w.]+@[\w.]+|network: ECONNREFUSED|timeout/g, "").match(/[A-Za-z]{3,}/g) ?? [];
    assert.deepEqual(words, [], `untranslated: ${d.why.code} → "${zh}"`);
  }
  assert.equal(sayWhy("zh-CN", { code: "order.paid", params: { tradeStatus: "TRADE_SUCCESS" } }), "支付宝：交易成功");
  assert.equal(sayWhy("zh-CN", { code: "order.waiting_for_buyer", params: {} }), "等待买家付款");
  assert.equal(sayWhy("zh-CN", { code: "order.already_trade", params: { status: "PAID", tradeStatus: "TRADE_SUCCESS" } }), "订单已是“已支付”（支付宝：交易成功）");
  assert.equal(sayWhy("zh-CN", { code: "order.amount_mismatch", params: { paidFen: 999, totalFen: 1000 } }), "支付金额 ¥9.99 与订单金额 ¥10.00 不符");
});

test("in English, statuses by their labels, no raw status codes", () => {
  for (const d of [...orderDecisions(), ...refundDecisions()]) {
    const en = sayWhy("en", d.why)!;
    assert.doesNotMatch(en, /\b(WAIT_BUYER_PAY|TRADE_CLOSED|TRADE_SUCCESS|TRADE_FINISHED|UNPAID|PARTIALLY_REFUNDED|AWAITING_APPROVAL|SUCCEEDED)\b/, `${d.why.code} → "${en}"`);
  }
});

test("an event stored with its code is said from the code, whatever its English sentence says", () => {
  assert.equal(localizeReason("zh-CN", { code: "order.waiting_for_buyer", params: {}, text: "anything" }), "等待买家付款");
  assert.equal(localizeReason("en", { code: "refund.four_eyes", params: {}, text: "x" }), "four eyes: the requester cannot approve or reject their own refund");
});

test("rows from before reason codes: each sentence the order rules wrote reads as the same code does", () => {
  for (const d of orderDecisions()) {
    if (d.why.code === "order.outcome_unknown") continue; // its sentence was the error text itself: shown as it is
    assert.deepEqual(legacyWhy(d.reason), d.why, d.reason);
    for (const lang of LANGUAGES) assert.equal(localizeReason(lang, { text: d.reason }), sayWhy(lang, d.why));
  }
  // Older wordings than the last one.
  assert.equal(localizeReason("zh-CN", { text: "TRADE_CLOSED; already CLOSED" }), "支付宝：交易关闭；订单已是“超时取消”");
  assert.equal(localizeReason("zh-CN", { text: "TRADE_SUCCESS" }), "支付宝：交易成功");
  assert.equal(localizeReason("zh-CN", { text: "app_id (absent) is not ours (2021000000000001)" }), "app_id （缺失） 不是本商户的（本商户：2021000000000001）");
});

test("what it does not recognise (a network error, staff's own words) is shown as it is; an unknown code falls back to the sentence", () => {
  assert.equal(localizeReason("zh-CN", { text: "network: ECONNREFUSED" }), "network: ECONNREFUSED");
  assert.equal(localizeReason("zh-CN", { text: "重复购买 / bought twice" }), "重复购买 / bought twice");
  assert.equal(localizeReason("zh-CN", { code: "order.no_such_code", params: {}, text: "waiting for the buyer to pay" }), "等待买家付款");
});
