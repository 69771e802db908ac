// Fault injection (sandbox/faults.ts), one test per fault kind, observed the way a merchant would:
// what arrives at notify_url, and what core/alipay's client (and the official SDK) get back.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { verifyCallback } from "../../../core/alipay/signature.ts";
import { alipayKeyPair, coreClient, newOutTradeNo, officialSdk, openTrade, sandboxAndReceiverPerFile, startSandbox, type Receiver, type TestSandbox, waitFor } from "./helpers.ts";
import { waitFor as waitUntil } from "../../support/wait.ts";

const PUB = () => alipayKeyPair().publicKeyPem;

let t: TestSandbox;
let rcv: Receiver;

sandboxAndReceiverPerFile({ timeFactor: 0.001 }, (s, r) => {
  t = s;
  rcv = r;
});
afterEach(async () => {
  await t.control.clearFaults();
});


const notifiesFor = (outTradeNo: string) => rcv.notifies.filter((n) => n.params.out_trade_no === outTradeNo);


/** Opens a trade, installs faults scoped to it, pays it. */
async function payWithFaults(faults: Parameters<TestSandbox["control"]["addFaults"]>[0]["faults"], totalFen = 1230) {
  const { outTradeNo } = await openTrade(t, rcv, { totalFen });
  await t.control.addFaults({ outTradeNo, faults });
  await t.control.pay(outTradeNo);
  return outTradeNo;
}

describe("notify faults", () => {
  test("dropNotify: the first attempt never arrives; the 4m (×0.001) retry does", async () => {
    const outTradeNo = await payWithFaults([{ kind: "dropNotify", times: 1 }]);
    const [record] = await t.control.waitForNotifies(outTradeNo, (l) => l[0]?.state === "delivered");
    assert.equal(record!.attempts.length, 2);
    assert.deepEqual(record!.attempts[0]!.faults, ["dropped"]);
    assert.equal(record!.attempts[0]!.error, "dropped by fault injection");
    assert.equal(record!.attempts[0]!.ok, false);
    assert.equal(notifiesFor(outTradeNo).length, 1);
  });

  test("duplicateNotify: each attempt arrives K times at once, same notify_id, all valid", async () => {
    const outTradeNo = await payWithFaults([{ kind: "duplicateNotify", copies: 3, times: 1 }]);
    const got = await waitFor(() => notifiesFor(outTradeNo).length === 3 && notifiesFor(outTradeNo));
    assert.equal(new Set(got.map((n) => n.params.notify_id)).size, 1);
    for (const n of got) assert.equal(verifyCallback(n.params, PUB()).valid, true);
    const [record] = await t.control.notifies(outTradeNo);
    assert.deepEqual(record!.attempts.map((a) => a.faults.at(-1)), ["duplicate 1/3", "duplicate 2/3", "duplicate 3/3"]);
    assert.equal(record!.state, "delivered");
  });

  test("delayNotify: the notify arrives after the delay", async () => {
    const paidAt = Date.now();
    const outTradeNo = await payWithFaults([{ kind: "delayNotify", ms: 400 }]);
    const [n] = await waitFor(() => notifiesFor(outTradeNo).length === 1 && notifiesFor(outTradeNo));
    assert.ok(n!.at - paidAt >= 400, `arrived after ${n!.at - paidAt} ms`);
  });

  test("reorderNotify (per trade): the refund notify arrives before the payment notify", async () => {
    const { outTradeNo } = await openTrade(t, rcv, { totalFen: 1000 });
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "reorderNotify", count: 2 }] });
    await t.control.pay(outTradeNo);
    // The sandbox holds the payment notify (its control API says so) and the merchant has none.
    await waitUntil("the payment notify held", async () => (await t.control.listFaults()).held.some((h) => h.held === 1));
    assert.equal(notifiesFor(outTradeNo).length, 0, "payment notify is held");
    assert.equal((await coreClient(t.gatewayUrl).refund({ outTradeNo, refundFen: 100, outRequestNo: "x1" })).kind, "ok");
    const got = await waitFor(() => notifiesFor(outTradeNo).length === 2 && notifiesFor(outTradeNo));
    assert.equal(got[0]!.params.refund_fee, "1.00");
    assert.equal(got[1]!.params.refund_fee, undefined);
    assert.equal(got[1]!.params.trade_status, "TRADE_SUCCESS");
  });

  test("reorderNotify (global, maxHoldMs): later trades first; a partial batch is released after maxHoldMs", async () => {
    await t.control.addFaults({ faults: [{ kind: "reorderNotify", count: 3, maxHoldMs: 300 }] });
    const a = await openTrade(t, rcv);
    const b = await openTrade(t, rcv);
    await t.control.pay(a.outTradeNo);
    await t.control.pay(b.outTradeNo);
    const { held } = await t.control.listFaults();
    assert.deepEqual(held.map((h) => h.held), [2]);
    const arrivals = await waitFor(() => {
      const got = rcv.notifies.filter((n) => n.params.out_trade_no === a.outTradeNo || n.params.out_trade_no === b.outTradeNo);
      return got.length === 2 && got;
    }, 3000);
    assert.deepEqual(arrivals.map((n) => n.params.out_trade_no), [b.outTradeNo, a.outTradeNo]);
    assert.equal((await t.control.listFaults()).faults.length, 0, "the reorder fault is used up");
  });

  test("corruptNotifySignature: the merchant's verification fails; later attempts are clean", async () => {
    const outTradeNo = newOutTradeNo();
    rcv.repliesFor.set(outTradeNo, [{ body: "failure" }]); // what a merchant answers to a bad signature
    await openTrade(t, rcv, { outTradeNo });
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "corruptNotifySignature", times: 1 }] });
    await t.control.pay(outTradeNo);
    const got = await waitFor(() => notifiesFor(outTradeNo).length === 2 && notifiesFor(outTradeNo));
    const bad = verifyCallback(got[0]!.params, PUB());
    assert.equal(bad.valid, false);
    assert.match(bad.reason, /^wrong_key_or_tampered/);
    assert.equal(verifyCallback(got[1]!.params, PUB()).valid, true);
  });

  test("notifyAmount: a validly signed notify reporting another total_amount", async () => {
    const outTradeNo = await payWithFaults([{ kind: "notifyAmount", totalAmount: "0.01" }], 9900);
    const [n] = await waitFor(() => notifiesFor(outTradeNo).length === 1 && notifiesFor(outTradeNo));
    assert.equal(n!.params.total_amount, "0.01");
    assert.equal(verifyCallback(n!.params, PUB()).valid, true, "only the merchant's amount check can catch it");
  });
});

describe("gateway faults", () => {
  test("gatewayError isp.unknow-error / ACQ.SYSTEM_ERROR on query → outcome unknown, then normal", async () => {
    const { outTradeNo } = await openTrade(t, rcv);
    const client = coreClient(t.gatewayUrl);
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "gatewayError", error: "isp.unknow-error", methods: ["alipay.trade.query"], times: 1 }] });
    const r1 = await client.queryTrade(outTradeNo);
    assert.equal(r1.kind, "unknown");
    assert.match(r1.kind === "unknown" ? r1.reason : "", /gateway_20000: isp\.unknow-error/);
    assert.equal((await client.queryTrade(outTradeNo)).kind, "ok", "times: 1 → used up");

    await t.control.addFaults({ outTradeNo, faults: [{ kind: "gatewayError", error: "ACQ.SYSTEM_ERROR", times: 1 }] });
    const sdkAnswer = await officialSdk(t.gatewayUrl).exec("alipay.trade.query", { bizContent: { outTradeNo } }, { validateSign: true });
    assert.equal(sdkAnswer.code, "40004");
    assert.equal(sdkAnswer.subCode, "ACQ.SYSTEM_ERROR");
  });

  test("gatewayError with commit: the refund happened although the answer was an error", async () => {
    const { outTradeNo } = await openTrade(t, rcv, { totalFen: 500 });
    await t.control.pay(outTradeNo);
    const client = coreClient(t.gatewayUrl);
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "gatewayError", error: "ACQ.SYSTEM_ERROR", methods: ["alipay.trade.refund"], commit: true, times: 1 }] });
    const first = await client.refund({ outTradeNo, refundFen: 100, outRequestNo: "C1" });
    assert.equal(first.kind, "unknown");
    const retry = await client.refund({ outTradeNo, refundFen: 100, outRequestNo: "C1" });
    assert.ok(retry.kind === "ok");
    assert.equal(retry.fundChange, false, "the retry with the same out_request_no finds the committed refund");
    assert.equal(retry.refundedTotalFen, 100);
  });

  test("hang: the gateway never answers; the client times out; close() does not wait for it", async () => {
    const { outTradeNo } = await openTrade(t, rcv);
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "hang", methods: ["alipay.trade.query"], times: 1 }] });
    const started = Date.now();
    const r = await coreClient(t.gatewayUrl, { timeoutMs: 300 }).queryTrade(outTradeNo);
    assert.equal(r.kind, "unknown");
    assert.match(r.kind === "unknown" ? r.reason : "", /^timeout/);
    assert.ok(Date.now() - started < 2000);
    // A hung request left open is destroyed when a sandbox closes.
    const other = await startSandbox();
    try {
      await other.control.addFaults({ faults: [{ kind: "hang" }] });
      const t0 = Date.now();
      const pending = coreClient(other.gatewayUrl, { timeoutMs: 10_000 }).closeTrade("held_open");
      await waitFor(() => other.sandbox.gateway.hung.size === 1);
      await other.close();
      const answer = await pending;
      assert.equal(answer.kind, "unknown");
      assert.match(answer.kind === "unknown" ? answer.reason : "", /^network/);
      assert.ok(Date.now() - t0 < 2000, "neither close() nor the client waited for the hang");
    } catch (e) {
      await other.close();
      throw e;
    }
  });

  test("corruptResponseSignature: core's client and the SDK reject the response", async () => {
    const { outTradeNo } = await openTrade(t, rcv);
    await t.control.addFaults({ outTradeNo, faults: [{ kind: "corruptResponseSignature", times: 2 }] });
    const r = await coreClient(t.gatewayUrl).queryTrade(outTradeNo);
    assert.equal(r.kind, "unknown");
    assert.match(r.kind === "unknown" ? r.reason : "", /^bad_response_signature/);
    await assert.rejects(officialSdk(t.gatewayUrl).exec("alipay.trade.query", { bizContent: { outTradeNo } }, { validateSign: true }), /验签失败/);
  });

  test("a trade-scoped fault leaves other trades alone", async () => {
    const a = await openTrade(t, rcv);
    const b = await openTrade(t, rcv);
    await t.control.addFaults({ outTradeNo: a.outTradeNo, faults: [{ kind: "gatewayError", error: "isp.unknow-error" }] });
    const client = coreClient(t.gatewayUrl);
    assert.equal((await client.queryTrade(a.outTradeNo)).kind, "unknown");
    assert.equal((await client.queryTrade(a.outTradeNo)).kind, "unknown", "no times: until cleared");
    assert.equal((await client.queryTrade(b.outTradeNo)).kind, "ok");
    const removed = await t.control.clearFaults(a.outTradeNo);
    assert.equal(removed.length, 1);
    assert.equal((await client.queryTrade(a.outTradeNo)).kind, "ok");
  });
});

describe("control API", () => {
  test("fault bodies are validated; faults are listed and cleared", async () => {
    const bad = await fetch(`${t.url}/sandbox/control/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ faults: [{ kind: "duplicateNotify", copies: 1 }] }),
    });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { error: { code: string; issues: unknown[] } };
    assert.equal(body.error.code, "invalid_body");
    assert.ok(body.error.issues.length > 0);
    const unknownKind = await fetch(`${t.url}/sandbox/control/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"faults":[{"kind":"explode"}]}' });
    assert.equal(unknownKind.status, 400);

    await t.control.addFaults({ faults: [{ kind: "dropNotify" }, { kind: "delayNotify", ms: 5 }] });
    const { faults } = await t.control.listFaults();
    assert.deepEqual(faults.map((f) => [f.spec.kind, f.remaining, f.outTradeNo]), [["dropNotify", 1, null], ["delayNotify", null, null]]);
    assert.equal((await t.control.clearFaults()).length, 2);
    assert.equal((await t.control.listFaults()).faults.length, 0);
  });

  test("trades and notifies are readable; unknown trade → 404; reset forgets everything", async () => {
    const other = await startSandbox();
    try {
      await assert.rejects(other.control.pay("nope"), /404 trade_not_found/);
      const { outTradeNo } = await openTrade(other, null);
      assert.equal((await other.control.listTrades()).length, 1);
      await other.control.pay(outTradeNo);
      const [record] = await other.control.waitForNotifies(outTradeNo, (l) => (l[0]?.attempts.length ?? 0) >= 1);
      assert.equal(record!.attempts[0]!.ok, false);
      assert.ok(record!.attempts[0]!.error, "connection error recorded");
      assert.equal(record!.state, "pending");
      assert.ok(record!.nextAttemptAt! > Date.now(), "next attempt scheduled (4 min at factor 1)");
      await other.control.reset();
      assert.equal((await other.control.listTrades()).length, 0);
      assert.equal((await other.control.notifies()).length, 0);
    } finally {
      await other.close();
    }
  });
});
