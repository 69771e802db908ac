// The streaming bill parser on files in the real format (test/fixtures/bills, see its README), and
// the CLI `alipay bill parse` as a child process: JSON lines, summary, exit codes 0/1/2.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import iconv from "iconv-lite";
import { signedYuanToFen } from "../../../core/bills/format.ts";
import { BillFormatError, parseBill, parseBillFile, pickDetailEntry } from "../../../core/bills/parse.ts";
import type { BillRow } from "../../../core/bills/format.ts";
import { runCli } from "../alipay/helpers.ts";

const dir = path.resolve(import.meta.dirname, "../../fixtures/bills");
const good = path.join(dir, "20880000000000010156_20261130.csv.zip");

async function collect(file: string) {
  const rows: BillRow[] = [];
  const result = await parseBillFile(file, (r) => void rows.push(r));
  return { rows, result };
}

test("a real-format zip: GBK names and content, TAB-suffixed fields, negative refund rows, footer checked", async () => {
  const { rows, result } = await collect(good);
  assert.equal(rows.length, 5);
  assert.deepEqual(rows[0], {
    kind: "trade", tradeNo: "20261130220014000000000001", outTradeNo: "cp_fixture0001", outRequestNo: null,
    amountFen: 9900, feeFen: 59, completedAt: "2026-11-30T09:15:02+08:00",
  });
  const refund = rows.find((r) => r.kind === "refund")!;
  assert.equal(refund.outRequestNo, "rf_fixture0002a");
  assert.equal(refund.amountFen, 2800, "refund rows are negative in the file, positive here");
  assert.equal(rows.at(-1)!.completedAt, "2026-11-30T23:59:59+08:00");
  assert.deepEqual(result.summary, { trades: 4, refunds: 1, tradeFen: 27691, refundFen: 2800, feeFen: 149, footerAgrees: true });
  assert.equal(result.sellerId, "2088000000000001");
  assert.equal(result.billDate, "2026-11-30");
  assert.deepEqual(result.problems, []);
});

test("a bare detail CSV with LF line ends parses the same rows", async () => {
  const zip = await collect(good);
  const csv = await collect(path.join(dir, "detail-lf.csv"));
  assert.deepEqual(csv.rows, zip.rows);
  assert.deepEqual(csv.result.summary, zip.result.summary);
});

test("parseBill on a stream (stdin-like) spools a zip and gives the same result", async () => {
  const rows: BillRow[] = [];
  const result = await parseBill(Readable.from([readFileSync(good)]), (r) => void rows.push(r));
  assert.equal(rows.length, 5);
  assert.equal(result.summary.footerAgrees, true);
});

test("footer that disagrees with the rows: parsed, footerAgrees false, the reason named", async () => {
  const { rows, result } = await collect(path.join(dir, "footer-disagrees.csv.zip"));
  assert.equal(rows.length, 5);
  assert.equal(result.summary.footerAgrees, false);
  assert.match(result.problems.join(";"), /trades total 27791 fen, rows sum to 27691/);
});

test("truncated and corrupted zips are not bills", async () => {
  await assert.rejects(collect(path.join(dir, "truncated.csv.zip")), BillFormatError);
  await assert.rejects(collect(path.join(dir, "corrupt.csv.zip")), BillFormatError);
});

test("columns are found by header name: reordered and extra columns, half-width parentheses", async () => {
  const csv = [
    "#支付宝业务明细查询",
    "#账号：[20880000000000010156]",
    "#-----业务明细列表-----",
    "新列,备注,服务费(元),退款批次号/请求号,商家实收(元),完成时间,业务类型,商户订单号,支付宝交易号",
    "x,,0.06\t,\t,10.00,2026-11-30 10:00:00,交易,cp_a\t,2026113022001\t",
    "x,,-0.06,rq_1\t,-10.00,2026-11-30 11:00:00,退款,cp_a\t,2026113022001\t",
    "#-----业务明细列表结束-----",
    "#交易合计：1笔，商家实收共10.00元，商家优惠共0.00元",
    "#退款合计：1笔，商家实收退款共-10.00元，商家优惠退款共0.00元",
    "#导出时间：[2026年12月01日 08:00:00]",
  ].join("\r\n");
  const rows: BillRow[] = [];
  const result = await parseBill(Readable.from([iconv.encode(csv, "gbk")]), (r) => void rows.push(r));
  assert.deepEqual(rows.map((r) => [r.kind, r.outTradeNo, r.outRequestNo, r.amountFen, r.feeFen]), [
    ["trade", "cp_a", null, 1000, 6],
    ["refund", "cp_a", "rq_1", 1000, 6],
  ]);
  assert.equal(result.summary.footerAgrees, true);
  assert.equal(result.summary.feeFen, 0, "the fee returned with the refund nets out");
});

test("a file without a footer is reported as disagreeing (truncated), not as agreeing", async () => {
  const csv = ["#-----业务明细列表-----", "支付宝交易号,商户订单号,业务类型,完成时间,商家实收（元）,退款批次号/请求号,服务费（元）",
    "1\t,cp_b\t,交易,2026-11-30 10:00:00,1.00,\t,0.00"].join("\n");
  const result = await parseBill(Readable.from([iconv.encode(csv, "gbk")]), () => {});
  assert.equal(result.summary.footerAgrees, false);
  assert.match(result.problems[0]!, /footer missing/);
});

test("malformed rows and non-bills are BillFormatError with the line number", async () => {
  const header = "支付宝交易号,商户订单号,业务类型,完成时间,商家实收（元）,退款批次号/请求号,服务费（元）";
  const bad = async (text: string) => parseBill(Readable.from([iconv.encode(text, "gbk")]), () => {});
  await assert.rejects(bad(`${header}\n1,cp,交易,2026-11-30 10:00:00,1.0x,,0`), /line 2: 商家实收 is not an amount/);
  await assert.rejects(bad(`${header}\n1,cp,转账,2026-11-30 10:00:00,1.00,,0`), /line 2: unknown 业务类型/);
  await assert.rejects(bad(`${header}\n1,cp,交易,2026/11/30 10:00,1.00,,0`), /完成时间/);
  await assert.rejects(bad("hello,world\n1,2\n"), BillFormatError);
  await assert.rejects(bad(""), /not an Alipay bill/);
  await assert.rejects(bad("支付宝交易号,商户订单号,业务类型\n"), /lacks column/);
});

test("the detail entry is chosen by name, never the summary", () => {
  assert.equal(pickDetailEntry(["x_业务明细(汇总).csv", "x_业务明细.csv"]), 1);
  assert.equal(pickDetailEntry(["x_业务明细(汇总).csv"]), -1);
  assert.equal(pickDetailEntry(["dir/2088_20261130_业务明细.csv"]), 0);
});

test("signed yuan amounts to fen without floating point", () => {
  assert.equal(signedYuanToFen("-0.06"), -6);
  assert.equal(signedYuanToFen("12.3"), 1230);
  assert.equal(signedYuanToFen("0.10"), 10);
  assert.equal(signedYuanToFen("1e3"), null);
  assert.equal(signedYuanToFen("1.234"), null);
});

test("CLI: JSON lines then a summary line; --summary prints only the summary; exit codes 0/1/2", async () => {
  const r = await runCli(["bill", "parse"], readFileSync(good));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 6);
  assert.deepEqual(Object.keys(lines[0]), ["kind", "tradeNo", "outTradeNo", "outRequestNo", "amountFen", "feeFen", "completedAt"]);
  assert.deepEqual(lines[5], { summary: { trades: 4, refunds: 1, tradeFen: 27691, refundFen: 2800, feeFen: 149, footerAgrees: true } });

  const s = await runCli(["bill", "parse", "--summary"], readFileSync(good));
  assert.equal(s.code, 0);
  assert.deepEqual(s.stdout.trimEnd().split("\n").map((l) => JSON.parse(l)), [lines[5]]);

  const d = await runCli(["bill", "parse", "--summary"], readFileSync(path.join(dir, "footer-disagrees.csv.zip")));
  assert.equal(d.code, 1);
  assert.equal(JSON.parse(d.stdout).summary.footerAgrees, false);
  assert.match(d.stderr, /footer/);

  for (const f of ["truncated.csv.zip", "corrupt.csv.zip"]) {
    const c = await runCli(["bill", "parse"], readFileSync(path.join(dir, f)));
    assert.equal(c.code, 2, f);
    assert.match(c.stderr, /not a bill/);
    assert.doesNotMatch(c.stderr, /\n\s+at /, "no stack trace");
  }
  const t = await runCli(["bill", "parse"], "some text\n");
  assert.equal(t.code, 2);
});
