// core/alipay's merchant client (createAlipayClient) against the sandbox: every call's response
// signature is verified byte-exact by the client, so "ok"/"business_error" here also proves the
// sandbox signs like the real gateway.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { coreClient, newOutTradeNo, openTrade, sandboxAndReceiverPerFile, type Receiver, type TestSandbox } from "./helpers.ts";

let t: TestSandbox;
let rcv: Receiver;

sandboxAndReceiverPerFile({}, (s, r) => {
  t = s;
  rcv = r;
});

describe("createAlipayClient against the sandbox", () => {
  test("pagePayUrl opens the cashier; time_expire becomes the trade's expiry", async () => {
    const expiresAt = new Date(Date.now() + 20 * 60_000);
    const { outTradeNo, html } = await openTrade(t, rcv, { totalFen: 4990, subject: "Rust 入门", expiresAt });
    assert.match(html, /¥49\.90/);
    const trade = await t.control.getTrade(outTradeNo);
    assert.equal(trade.totalFen, 4990);
    assert.equal(trade.returnUrl, rcv.returnUrl);
    // seconds precision, Beijing time on the wire
    assert.equal(Math.floor(trade.expiresAt! / 1000), Math.floor(expiresAt.getTime() / 1000));
  });

  test("queryTrade: not exist → business_error; waiting; paid", async () => {
    const client = coreClient(t.gatewayUrl);
    const missing = await client.queryTrade(newOutTradeNo());
    assert.equal(missing.kind, "business_error");
    assert.equal(missing.kind === "business_error" && missing.subCode, "ACQ.TRADE_NOT_EXIST");

    const { outTradeNo } = await openTrade(t, rcv, { totalFen: 1 });
    const waiting = await client.queryTrade(outTradeNo);
    assert.equal(waiting.kind, "ok");
    assert.equal(waiting.kind === "ok" && waiting.tradeStatus, "WAIT_BUYER_PAY");

    await t.control.pay(outTradeNo);
    const paid = await client.queryTrade(outTradeNo);
    assert.ok(paid.kind === "ok", JSON.stringify(paid));
    assert.equal(paid.tradeStatus, "TRADE_SUCCESS");
    assert.equal(paid.totalFen, 1);
    assert.equal(paid.buyerId, "2088102000000001");
    assert.ok(paid.sendPayDate instanceof Date && Math.abs(paid.sendPayDate.getTime() - Date.now()) < 5000);
  });

  test("closeTrade: unpaid closes; paid → ACQ.TRADE_STATUS_ERROR; unknown → ACQ.TRADE_NOT_EXIST", async () => {
    const client = coreClient(t.gatewayUrl);
    const { outTradeNo } = await openTrade(t, rcv);
    const closed = await client.closeTrade(outTradeNo);
    assert.equal(closed.kind, "ok");
    assert.equal((await t.control.getTrade(outTradeNo)).status, "TRADE_CLOSED");

    const { outTradeNo: paidNo } = await openTrade(t, rcv);
    await t.control.pay(paidNo);
    const refused = await client.closeTrade(paidNo);
    assert.equal(refused.kind === "business_error" && refused.subCode, "ACQ.TRADE_STATUS_ERROR");

    const none = await client.closeTrade(newOutTradeNo());
    assert.equal(none.kind === "business_error" && none.subCode, "ACQ.TRADE_NOT_EXIST");
  });

  test("refund: partial, idempotent replay, discordant replay, over-refund, full; refundQuery", async () => {
    const client = coreClient(t.gatewayUrl);
    const { outTradeNo } = await openTrade(t, rcv, { totalFen: 1000 });
    const unpaid = await client.refund({ outTradeNo, refundFen: 100, outRequestNo: "R0" });
    assert.equal(unpaid.kind === "business_error" && unpaid.subCode, "ACQ.TRADE_STATUS_ERROR");
    await t.control.pay(outTradeNo);

    const r1 = await client.refund({ outTradeNo, refundFen: 300, outRequestNo: "R1", reason: "课程退一部分" });
    assert.ok(r1.kind === "ok", JSON.stringify(r1));
    assert.equal(r1.refundedTotalFen, 300);
    assert.equal(r1.fundChange, true);

    const replay = await client.refund({ outTradeNo, refundFen: 300, outRequestNo: "R1" });
    assert.ok(replay.kind === "ok");
    assert.equal(replay.fundChange, false);
    assert.equal(replay.refundedTotalFen, 300);

    const discordant = await client.refund({ outTradeNo, refundFen: 200, outRequestNo: "R1" });
    assert.equal(discordant.kind === "business_error" && discordant.subCode, "ACQ.DISCORDANT_REPEAT_REQUEST");

    const over = await client.refund({ outTradeNo, refundFen: 701, outRequestNo: "R2" });
    assert.equal(over.kind === "business_error" && over.subCode, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");

    const rest = await client.refund({ outTradeNo, refundFen: 700, outRequestNo: "R2" });
    assert.ok(rest.kind === "ok");
    assert.equal(rest.refundedTotalFen, 1000);
    assert.equal((await t.control.getTrade(outTradeNo)).status, "TRADE_CLOSED");

    const closedRefund = await client.refund({ outTradeNo, refundFen: 1, outRequestNo: "R3" });
    assert.equal(closedRefund.kind === "business_error" && closedRefund.subCode, "ACQ.TRADE_HAS_CLOSE");

    const q = await client.refundQuery({ outTradeNo, outRequestNo: "R2" });
    assert.ok(q.kind === "ok");
    assert.equal(q.refundStatus, "REFUND_SUCCESS");
    assert.equal(q.refundFen, 700);
    assert.equal(q.totalFen, 1000);
    const empty = await client.refundQuery({ outTradeNo, outRequestNo: "R9" });
    assert.ok(empty.kind === "ok");
    assert.equal(empty.refundStatus, null);
  });

  test("a client with the wrong app key is refused: unsigned 40002 isv.invalid-signature", async () => {
    const client = coreClient(t.gatewayUrl, { appPrivateKey: generateRsaKeyPair().privateKeyPem });
    const r = await client.queryTrade(newOutTradeNo());
    assert.equal(r.kind, "unknown");
    assert.match((r as { reason: string }).reason, /^Alipay refused the call: 40002 isv\.invalid-signature \(unsigned answer\)/);
  });
});
