// Every reason core/orders can give reads in the page's language: each decision of transitions.ts
// (over all statuses and evidence) and the commands' own sentences go through localizeReason.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { OrderStatus } from "@prisma/client";
import { decide, type Evidence, type OrderFacts } from "../../../core/orders/transitions.ts";
import { localizeReason } from "../../../admin/locale/reasons.ts";

const STATUSES: OrderStatus[] = ["UNPAID", "PAID", "CANCELLED", "CLOSED", "PARTIALLY_REFUNDED", "REFUNDED"];
const now = new Date("2026-11-27T06:00:00Z");
const ctx = { now, merchant: { appId: "2021000000000001", sellerId: "2088000000000001" }, graceMs: 600_000 };

function evidences(): Evidence[] {
  const out: Evidence[] = [
    { kind: "trade_not_exist" },
    { kind: "closed_at_alipay", target: "CLOSED" },
    { kind: "closed_at_alipay", target: "CANCELLED" },
  ];
  for (const tradeStatus of ["WAIT_BUYER_PAY", "TRADE_CLOSED", "TRADE_SUCCESS", "TRADE_FINISHED"] as const) {
    for (const refundFen of [0, 300, 1000]) out.push({ kind: "trade", tradeStatus, totalFen: 1000, tradeNo: "2026112722001400001", refundFen });
  }
  out.push({ kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 999, tradeNo: null });
  out.push({ kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 1000, tradeNo: "other", appId: "2021999999999999", sellerId: "2088999999999999" });
  out.push({ kind: "trade", tradeStatus: "TRADE_SUCCESS", totalFen: 1000, tradeNo: "2026112722009999999" });
  for (const refundFen of [300, 1000]) out.push({ kind: "refund_succeeded", refundFen, outRequestNo: "rf_0123456789" });
  return out;
}

function reasons(): string[] {
  const all = new Set<string>();
  for (const status of STATUSES) {
    for (const [expired, reported] of [[false, 0], [true, 0], [false, 1000]] as const) {
      const order: OrderFacts = {
        status, totalFen: 1000, refundedFen: status === "PARTIALLY_REFUNDED" ? 300 : status === "REFUNDED" ? 1000 : 0, alipayRefundFeeFen: reported,
        expiresAt: new Date(now.getTime() + (expired ? -3600_000 : 600_000)), tradeNo: "2026112722001400001",
      };
      for (const ev of evidences()) {
        const d = decide(order, ev, ctx);
        if ("reason" in d) all.add(d.reason);
      }
    }
  }
  // commands.ts and the re-drive's own sentences
  for (const s of ["already PAID", "Alipay still shows the trade open", "job 42", "an unverified notification is never applied; nothing to re-drive",
    "notification already processed (applied)", "notification processed meanwhile; nothing to re-drive"]) all.add(s);
  return [...all];
}

test("every decision's reason is said in Chinese, statuses by their labels", () => {
  const list = reasons();
  assert.ok(list.length > 15, `${list.length} distinct reasons`);
  for (const r of list) {
    const zh = localizeReason("zh-CN", r);
    // Left in Latin letters: only identifiers (app_id/seller_id values and names, trade numbers).
    const words = (zh.replace(/\b(app_id|seller_id)\b/g, "").match(/[A-Za-z]{3,}/g) ?? []);
    assert.deepEqual(words, [], `untranslated: "${r}" → "${zh}"`);
  }
  assert.equal(localizeReason("zh-CN", "TRADE_SUCCESS"), "交易成功");
  assert.equal(localizeReason("zh-CN", "waiting for the buyer to pay"), "等待买家付款");
  assert.equal(localizeReason("zh-CN", "already PAID (TRADE_SUCCESS)"), "订单已是“已支付”（支付宝：交易成功）");
});

test("in English, trade and order statuses by their labels, no raw codes", () => {
  for (const r of reasons()) {
    const en = localizeReason("en", r);
    assert.doesNotMatch(en, /\b(WAIT_BUYER_PAY|TRADE_CLOSED|TRADE_SUCCESS|TRADE_FINISHED|UNPAID|PARTIALLY_REFUNDED)\b/, `"${r}" → "${en}"`);
  }
  assert.equal(localizeReason("en", "TRADE_SUCCESS"), "Paid");
});

test("what it does not recognise (a network error) is shown as it is", () => {
  assert.equal(localizeReason("zh-CN", "network: ECONNREFUSED"), "network: ECONNREFUSED");
});
