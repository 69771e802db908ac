// The sandbox's bill API through core's client and fetchBill: date rules, isp.bill_not_exist, signed
// answer, the 30 s link, the file built from the ledger (parsed by core/bills), and the bill faults.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { addDays, beijingDay } from "../../../core/bills/format.ts";
import { fetchBill } from "../../../core/bills/fetch.ts";
import { BillFormatError, parseBillFile } from "../../../core/bills/parse.ts";
import type { BillRow } from "../../../core/bills/format.ts";
import { BillControl } from "../../../sandbox/bill/control-client.ts";
import { CONDITION_CEILING_MS, waitFor } from "../../support/index.ts";
import { coreClient, openTrade, startSandbox, type TestSandbox } from "../sandbox/helpers.ts";

let t: TestSandbox;
let bills: BillControl;
const yesterday = addDays(beijingDay(new Date()), -1);
const at = (day: string, hms: string) => `${day}T${hms}+08:00`;

before(async () => {
  t = await startSandbox();
  bills = new BillControl(t.url);
});
after(async () => t.close());

async function paidYesterday(totalFen: number, hms = "12:00:00"): Promise<string> {
  const { outTradeNo } = await openTrade(t, null, { totalFen });
  await t.control.pay(outTradeNo);
  await bills.setCompletion(outTradeNo, { paidAt: at(yesterday, hms) });
  return outTradeNo;
}

async function download(date: string) {
  const got = await fetchBill(coreClient(t.gatewayUrl), { billType: "trade", billDate: date });
  if (got.kind !== "downloaded") return { got, rows: [] as BillRow[], result: null };
  const rows: BillRow[] = [];
  try {
    const result = await parseBillFile(got.file, (r) => void rows.push(r));
    return { got, rows, result };
  } finally {
    await got.cleanup();
  }
}

describe("alipay.data.dataservice.bill.downloadurl.query on the sandbox", () => {
  test("date rules: today, the future, before 2016 and bad formats are refused; signcustomer has no bill", async () => {
    const client = coreClient(t.gatewayUrl);
    for (const d of [beijingDay(new Date()), addDays(beijingDay(new Date()), 3), "2015-12-31", "2026-13-01"]) {
      const r = await client.billDownloadUrl({ billType: "trade", billDate: d });
      assert.equal(r.kind, "business_error", d);
      assert.equal(r.kind === "business_error" && r.subCode, "isv.invalid-arguments", d);
    }
    const s = await client.billDownloadUrl({ billType: "signcustomer", billDate: yesterday });
    assert.equal(s.kind === "business_error" && s.subCode, "isp.bill_not_exist");
  });

  test("a day without activity has no bill; the next-morning delay applies", async () => {
    const quiet = addDays(yesterday, -3);
    assert.equal((await fetchBill(coreClient(t.gatewayUrl), { billType: "trade", billDate: quiet })).kind, "not_exist");
    await paidYesterday(100);
    await bills.configure({ readyAfterMinutes: 7 * 24 * 60 });
    assert.equal((await fetchBill(coreClient(t.gatewayUrl), { billType: "trade", billDate: yesterday })).kind, "not_exist");
    await bills.configure({ readyAfterMinutes: 0 });
    assert.equal((await fetchBill(coreClient(t.gatewayUrl), { billType: "trade", billDate: yesterday })).kind, "downloaded");
  });

  test("the file holds the ledger's payments and refunds of that Beijing day only, footer agreeing", async () => {
    await bills.configure({ readyAfterMinutes: 0 });
    const a = await paidYesterday(9900, "09:00:00");
    const b = await paidYesterday(4990, "23:59:59");
    const { outTradeNo: today } = await openTrade(t, null, { totalFen: 777 });
    await t.control.pay(today); // paid today: not in yesterday's bill
    const refund = await coreClient(t.gatewayUrl).refund({ outTradeNo: a, refundFen: 1000, outRequestNo: "rq_bill_1" });
    assert.equal(refund.kind, "ok");
    await bills.setCompletion(a, { refunds: [{ outRequestNo: "rq_bill_1", at: at(yesterday, "15:00:00") }] });

    const { rows, result } = await download(yesterday);
    assert.ok(result);
    assert.equal(result.summary.footerAgrees, true);
    assert.equal(result.billDate, yesterday);
    const mine = rows.filter((r) => [a, b, today].includes(r.outTradeNo));
    assert.deepEqual(mine.map((r) => [r.kind, r.outTradeNo, r.amountFen, r.outRequestNo, r.completedAt]), [
      ["trade", a, 9900, null, at(yesterday, "09:00:00")],
      ["refund", a, 1000, "rq_bill_1", at(yesterday, "15:00:00")],
      ["trade", b, 4990, null, at(yesterday, "23:59:59")],
    ]);
  });

  test("the download link stops working after its time to live; fetchBill asks again", async () => {
    await bills.configure({ readyAfterMinutes: 0, linkTtlMs: 1 });
    const client = coreClient(t.gatewayUrl);
    const r = await client.billDownloadUrl({ billType: "trade", billDate: yesterday });
    assert.ok(r.kind === "ok");
    assert.match(r.billDownloadUrl, /downloadBillFile\.resource\?bizType=trade&userId=20880000000000010156&fileType=csv\.zip&bizDates=\d{8}/);
    // Past its 1 ms time to live the link answers with a page, not a zip.
    const page = await waitFor("the link to expire", async () => {
      const body = Buffer.from(await (await fetch(r.billDownloadUrl)).arrayBuffer());
      return body.subarray(0, 2).toString() === "PK" ? null : body;
    }, { timeoutMs: CONDITION_CEILING_MS, intervalMs: 5 });
    assert.ok(page.length > 0);
    const again = await fetchBill(client, { billType: "trade", billDate: yesterday });
    assert.equal(again.kind, "failed", "every fresh link also expires before it is used at 1 ms");
    await bills.configure({ linkTtlMs: 30_000 });
  });

  test("faults: not ready until, corrupt zip, footer disagreeing, unknown trade, amount, omitted payment, extra refund", async () => {
    await bills.configure({ readyAfterMinutes: 0 });
    const p = await paidYesterday(3000);
    const q = await paidYesterday(4000);
    await bills.addFaults([{ kind: "notReady", until: new Date(Date.now() + 60_000).toISOString() }], yesterday);
    assert.equal((await fetchBill(coreClient(t.gatewayUrl), { billType: "trade", billDate: yesterday })).kind, "not_exist");
    await bills.clearFaults();

    await bills.addFaults([{ kind: "corruptZip" }]);
    const corrupt = await fetchBill(coreClient(t.gatewayUrl), { billType: "trade", billDate: yesterday });
    assert.equal(corrupt.kind, "downloaded");
    if (corrupt.kind === "downloaded") {
      await assert.rejects(parseBillFile(corrupt.file, () => {}), BillFormatError);
      await corrupt.cleanup();
    }

    await bills.addFaults([{ kind: "footerDisagrees", deltaFen: 5 }], yesterday);
    assert.equal((await download(yesterday)).result!.summary.footerAgrees, false);
    await bills.clearFaults();

    await bills.addFaults([
      { kind: "unknownTrade", outTradeNo: "never_ours_1", amountFen: 123 },
      { kind: "amountDiffers", outTradeNo: p, amountFen: 2999 },
      { kind: "omitPayment", outTradeNo: q },
      { kind: "extraRefund", outTradeNo: p, amountFen: 500, outRequestNo: "rq_only_in_bill" },
    ], yesterday);
    const { rows, result } = await download(yesterday);
    assert.equal(result!.summary.footerAgrees, true, "injected rows are counted in the footer like real ones");
    assert.ok(rows.some((r) => r.kind === "trade" && r.outTradeNo === "never_ours_1" && r.amountFen === 123));
    assert.equal(rows.find((r) => r.kind === "trade" && r.outTradeNo === p)!.amountFen, 2999);
    assert.ok(!rows.some((r) => r.outTradeNo === q));
    assert.ok(rows.some((r) => r.kind === "refund" && r.outRequestNo === "rq_only_in_bill" && r.amountFen === 500));
    await bills.clearFaults();
  });
});
