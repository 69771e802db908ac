// Asynchronous notifications and the return redirect (docs/alipay-protocol.md §3, §4): fields, rule-V1 signatures,
// the retry schedule under a time factor, refunds, expiry, redelivery, and persistence across restarts.
import assert from "node:assert/strict";
import { statSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { verifyCallback } from "../../../core/alipay/signature.ts";
import { decodePassbackParams } from "../../../core/alipay/notification.ts";
import { APP_ID, SELLER_ID, coreClient, merchantKeyPair, newOutTradeNo, openTrade, sandboxAndReceiverPerFile, startReceiver, startSandbox, alipayKeyPair, type Receiver, type TestSandbox, waitFor } from "./helpers.ts";
import { ALIPAY_RETRY_SCHEDULE_MS } from "../../../sandbox/notify-delivery.ts";
import { CONDITION_CEILING_MS } from "../../support/index.ts";

const PUB = () => alipayKeyPair().publicKeyPem;
const BEIJING = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

let t: TestSandbox;
let rcv: Receiver;

// time factor 0.001: the 4m / 10m / 10m retries come after 240 ms / 600 ms / 600 ms.
sandboxAndReceiverPerFile({ timeFactor: 0.001 }, (s, r) => {
  t = s;
  rcv = r;
});

function notifiesFor(r: Receiver, outTradeNo: string) {
  return r.notifies.filter((n) => n.params.out_trade_no === outTradeNo);
}


describe("payment notify and return", () => {
  test("TRADE_SUCCESS notify: the docs/alipay-protocol.md §4 fields, rule V1 signature, passback_params untouched", async () => {
    const { outTradeNo } = await openTrade(t, rcv, { totalFen: 1230, subject: "课程 A+B & C=D 100%", passbackParams: "order=7&from=课程 a+b" });
    const { returnUrl } = await t.control.pay(outTradeNo);
    const [n] = await waitFor(() => notifiesFor(rcv, outTradeNo).length === 1 && notifiesFor(rcv, outTradeNo));
    const p = n!.params;
    assert.match(n!.contentType ?? "", /application\/x-www-form-urlencoded/);
    assert.deepEqual(Object.keys(p).sort(), [
      "app_id", "auth_app_id", "buyer_id", "buyer_logon_id", "buyer_pay_amount", "charset", "fund_bill_list", "gmt_create",
      "gmt_payment", "invoice_amount", "notify_id", "notify_time", "notify_type", "out_trade_no", "passback_params", "point_amount",
      "receipt_amount", "seller_email", "seller_id", "sign", "sign_type", "subject", "total_amount", "trade_no", "trade_status", "version",
    ]);
    assert.equal(p.notify_type, "trade_status_sync");
    assert.equal(p.trade_status, "TRADE_SUCCESS");
    assert.equal(p.total_amount, "12.30");
    assert.equal(p.receipt_amount, "12.30");
    assert.equal(p.point_amount, "0.00");
    assert.equal(p.app_id, APP_ID);
    assert.equal(p.auth_app_id, p.app_id);
    assert.equal(p.seller_id, SELLER_ID);
    assert.equal(p.buyer_logon_id, "san***@example.com");
    assert.equal(p.subject, "课程 A+B & C=D 100%");
    assert.equal(p.sign_type, "RSA2");
    assert.match(p.notify_id!, /^\d{34}$/);
    assert.match(p.trade_no!, /^\d{28}$/);
    for (const k of ["notify_time", "gmt_create", "gmt_payment"]) assert.match(p[k]!, BEIJING, k);
    assert.deepEqual(JSON.parse(p.fund_bill_list!), [{ amount: "12.30", fundChannel: "ALIPAYACCOUNT" }]);
    // The client sent passback_params URL-encoded once; it comes back exactly so (no second decode).
    assert.equal(p.passback_params, encodeURIComponent("order=7&from=课程 a+b"));
    assert.equal(decodePassbackParams(p.passback_params!), "order=7&from=课程 a+b");
    const v = verifyCallback(p, PUB());
    assert.equal(v.valid, true, v.reason);
    assert.ok(!v.signedContent.includes("sign_type="), "rule V1 leaves sign_type out");

    // The browser redirect: the 12 return keys of docs/alipay-protocol.md §3, signed with rule V1, no trade_status.
    assert.ok(returnUrl?.startsWith(`${rcv.returnUrl}?`));
    const ret = Object.fromEntries(new URL(returnUrl!).searchParams);
    assert.deepEqual(Object.keys(ret), [
      "charset", "out_trade_no", "method", "total_amount", "sign", "trade_no", "auth_app_id", "version", "app_id", "sign_type", "seller_id", "timestamp",
    ]);
    assert.equal(ret.method, "alipay.trade.page.pay.return");
    assert.equal(ret.trade_no, p.trade_no);
    assert.match(returnUrl!, /timestamp=\d{4}-\d{2}-\d{2}\+\d{2}%3A/, "space encoded as + like the real redirect");
    assert.equal(verifyCallback(ret, PUB()).valid, true);
  });

  test("retry schedule × time factor: fail, fail, success → 3 attempts, recorded in the control API", async () => {
    const outTradeNo = newOutTradeNo();
    rcv.repliesFor.set(outTradeNo, [{ body: "fail" }, { status: 500, body: "error" }]);
    await openTrade(t, rcv, { outTradeNo });
    await t.control.pay(outTradeNo);
    const [record] = await t.control.waitForNotifies(outTradeNo, (l) => l[0]?.state === "delivered");
    assert.equal(record!.attempts.length, 3);
    assert.deepEqual(record!.attempts.map((a) => a.n), [1, 2, 3]);
    assert.deepEqual(record!.attempts.map((a) => a.ok), [false, false, true]);
    assert.deepEqual(record!.attempts.map((a) => a.statusCode), [200, 500, 200]);
    assert.deepEqual(record!.attempts.map((a) => a.replySnippet), ["fail", "error", "success"]);
    const gap1 = record!.attempts[1]!.at - record!.attempts[0]!.at;
    const gap2 = record!.attempts[2]!.at - record!.attempts[1]!.at;
    assert.ok(gap1 >= 235 && gap1 < 1500, `first retry after ~240 ms, was ${gap1}`);
    assert.ok(gap2 >= 595 && gap2 < 2000, `second retry after ~600 ms, was ${gap2}`);
    // the merchant saw the same notify_id three times
    const got = notifiesFor(rcv, outTradeNo);
    assert.equal(got.length, 3);
    assert.equal(new Set(got.map((n) => n.params.notify_id)).size, 1);
    for (const n of got) assert.equal(verifyCallback(n.params, PUB()).valid, true);
  });

  test("only the exact body `success` with 2xx ends delivery", async () => {
    const outTradeNo = newOutTradeNo();
    rcv.repliesFor.set(outTradeNo, [{ body: "success\n" }, { body: '"success"' }, { status: 500, body: "success" }]);
    await openTrade(t, rcv, { outTradeNo });
    await t.control.pay(outTradeNo);
    const [record] = await t.control.waitForNotifies(outTradeNo, (l) => l[0]?.state === "delivered", { timeoutMs: CONDITION_CEILING_MS });
    assert.deepEqual(record!.attempts.map((a) => a.ok), [false, false, false, true]);
  });

  test("partial refund → TRADE_SUCCESS notify with refund fields; full refund → TRADE_CLOSED", async () => {
    const client = coreClient(t.gatewayUrl);
    const { outTradeNo } = await openTrade(t, rcv, { totalFen: 1000 });
    await t.control.pay(outTradeNo);
    await waitFor(() => notifiesFor(rcv, outTradeNo).length === 1);

    assert.equal((await client.refund({ outTradeNo, refundFen: 250, outRequestNo: "RF1" })).kind, "ok");
    const partial = (await waitFor(() => notifiesFor(rcv, outTradeNo)[1]))!.params;
    assert.equal(partial.trade_status, "TRADE_SUCCESS");
    assert.equal(partial.out_biz_no, "RF1");
    assert.equal(partial.refund_fee, "2.50");
    assert.match(partial.gmt_refund!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
    assert.equal(partial.total_amount, "10.00");
    assert.equal(partial.gmt_close, undefined);
    assert.equal(verifyCallback(partial, PUB()).valid, true);

    assert.equal((await client.refund({ outTradeNo, refundFen: 750, outRequestNo: "RF2" })).kind, "ok");
    const full = (await waitFor(() => notifiesFor(rcv, outTradeNo)[2]))!.params;
    assert.equal(full.trade_status, "TRADE_CLOSED");
    assert.equal(full.out_biz_no, "RF2");
    assert.equal(full.refund_fee, "10.00", "refund_fee is cumulative");
    assert.match(full.gmt_close!, BEIJING);
    assert.ok(full.gmt_payment, "a refunded close still carries the payment fields");
    assert.equal(verifyCallback(full, PUB()).valid, true);
    // each notification has its own notify_id
    assert.equal(new Set(notifiesFor(rcv, outTradeNo).map((n) => n.params.notify_id)).size, 3);
  });

  test("expiry: time_expire passes → TRADE_CLOSED notify; paying afterwards is refused", async () => {
    // time_expire has whole seconds: 2 s ahead expires 1-2 s from now.
    const { outTradeNo } = await openTrade(t, rcv, { expiresAt: new Date(Date.now() + 2000) });
    const n = (await waitFor(() => notifiesFor(rcv, outTradeNo)[0], 4000))!.params;
    assert.equal(n.trade_status, "TRADE_CLOSED");
    assert.match(n.gmt_close!, BEIJING);
    assert.equal(n.gmt_payment, undefined);
    assert.equal(n.buyer_id, undefined);
    assert.equal(verifyCallback(n, PUB()).valid, true);
    const q = await coreClient(t.gatewayUrl).queryTrade(outTradeNo);
    assert.equal(q.kind === "ok" && q.tradeStatus, "TRADE_CLOSED");
    await assert.rejects(t.control.pay(outTradeNo), /409 ACQ\.TRADE_HAS_CLOSE/);
  });

  test("control expire / close → TRADE_CLOSED notify; an expired pay URL opens no trade", async () => {
    const { outTradeNo: a } = await openTrade(t, rcv);
    assert.equal((await t.control.expire(a)).closeReason, "expired");
    assert.equal((await waitFor(() => notifiesFor(rcv, a)[0]))!.params.trade_status, "TRADE_CLOSED");

    const { outTradeNo: b } = await openTrade(t, rcv);
    assert.equal((await coreClient(t.gatewayUrl).closeTrade(b)).kind, "ok");
    assert.equal((await waitFor(() => notifiesFor(rcv, b)[0]))!.params.trade_status, "TRADE_CLOSED");

    await assert.rejects(openTrade(t, rcv, { expiresAt: new Date(Date.now() - 60_000) }), /ACQ\.TRADE_HAS_CLOSE/);
  });

  test("renotify: redelivers the same notification now; fresh → a new notify_id", async () => {
    const { outTradeNo } = await openTrade(t, rcv);
    await t.control.pay(outTradeNo);
    await waitFor(() => notifiesFor(rcv, outTradeNo).length === 1);
    const again = await t.control.renotify(outTradeNo);
    assert.equal(again.attempts?.length, 1);
    assert.equal(again.attempts?.[0]?.ok, true);
    const fresh = await t.control.renotify(outTradeNo, { fresh: true });
    const got = await waitFor(() => notifiesFor(rcv, outTradeNo).length === 3 && notifiesFor(rcv, outTradeNo));
    assert.equal(got[0]!.params.notify_id, got[1]!.params.notify_id);
    assert.notEqual(got[2]!.params.notify_id, got[0]!.params.notify_id);
    assert.equal(got[2]!.params.notify_id, fresh.notify.notifyId);
  });
});

describe("retries exhausted", () => {
  test("8 attempts on Alipay's schedule, then gave_up", async () => {
    // factor 1e-5: the whole 25 h schedule takes ~0.9 s
    const fast = await startSandbox({ timeFactor: 0.00001 });
    const deaf = await startReceiver(Array.from({ length: 20 }, () => ({ body: "fail" })));
    try {
      assert.deepEqual((await fast.control.info()).retryScheduleMs, ALIPAY_RETRY_SCHEDULE_MS.map((ms) => Math.round(ms * 0.00001)));
      const { outTradeNo } = await openTrade(fast, deaf);
      await fast.control.pay(outTradeNo);
      const [record] = await fast.control.waitForNotifies(outTradeNo, (l) => l[0]?.state === "gave_up", { timeoutMs: CONDITION_CEILING_MS });
      assert.equal(record!.attempts.length, 8);
      assert.equal(deaf.notifies.length, 8);
    } finally {
      await fast.close();
      await deaf.close();
    }
  });
});

describe("persistence", () => {
  test("a restart keeps trades and the key pair; a pending notify resumes", async () => {
    const first = await startSandbox({ keepDir: true, alipayKeys: undefined, timeFactor: 0.001 });
    const dir = first.dataDir;
    const keyFile = join(dir, "alipay-private.pem");
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const pub = readFileSync(join(dir, "alipay-public.pem"), "utf8");
    assert.equal(await first.control.alipayPublicKey(), pub);

    const down = await startReceiver([{ body: "fail" }]);
    const { outTradeNo } = await openTrade(first, down);
    await first.control.pay(outTradeNo);
    await down.waitForNotifies(1);
    await first.close(); // the retry is pending when it stops

    const second = await startSandbox({ dataDir: dir, alipayKeys: undefined, timeFactor: 0.001 });
    try {
      assert.equal(await second.control.alipayPublicKey(), pub, "same Alipay key pair after restart");
      assert.equal((await second.control.getTrade(outTradeNo)).status, "TRADE_SUCCESS");
      const got = await down.waitForNotifies(2);
      assert.equal(verifyCallback(got[1]!.params, pub).valid, true);
      const [record] = await second.control.waitForNotifies(outTradeNo, (l) => l[0]?.state === "delivered");
      assert.equal(record!.attempts.length, 2);
      assert.equal(merchantKeyPair().publicKeyPem.length > 0, true);
    } finally {
      await second.close();
      await down.close();
    }
  });
});
