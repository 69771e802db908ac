// The trade bill file exactly as a merchant downloads it (docs/bills.md): a zip named
// `<PID>0156_<yyyyMMdd>.csv.zip` holding `…_业务明细.csv` and `…_业务明细(汇总).csv`, both GBK, entry
// names GBK too; TAB-suffixed text fields; refund rows negative; footer totals; CRLF line ends.
// Rows are streamed in and bytes streamed out: a million-row day never sits in memory.
import iconv from "iconv-lite";
import {
  DETAIL_COLUMNS, DETAIL_END_WORDS, DETAIL_ENTRY_SUFFIX, DETAIL_START_WORDS, DETAIL_TITLE, fenToSignedYuan, ROW_TYPE, SUMMARY_COLUMNS,
  SUMMARY_END_WORDS, SUMMARY_ENTRY_SUFFIX, SUMMARY_START_WORDS, SUMMARY_TITLE,
} from "../../core/bills/format.ts";
import { formatBeijing } from "../time.ts";
import { zipBytes } from "./zip.ts";

/** One line of the detail file, before formatting. Amounts are magnitudes in fen. */
export interface BillLine {
  kind: "trade" | "refund";
  tradeNo: string;
  outTradeNo: string;
  subject: string;
  /** epoch ms: the trade's creation (refund rows repeat it) */
  createdAt: number;
  /** epoch ms: payment time, or the refund's time */
  completedAt: number;
  /** 订单金额: the trade's total (trade rows) or the refund amount (refund rows) */
  orderFen: number;
  /** 商家实收 */
  receivedFen: number;
  outRequestNo?: string;
  /** 服务费 */
  feeFen: number;
  /** masked buyer account, e.g. san***@example.com */
  buyer?: string;
  body?: string;
}

export interface BillFileInput {
  /** the seller id (16 digits, 2088…) */
  pid: string;
  /** yyyy-MM-dd (Beijing) */
  day: string;
  rows: Iterable<BillLine> | AsyncIterable<BillLine>;
  /** epoch ms shown in `#导出时间` */
  exportedAt: number;
  /** Fault: add this many fen to the footer's trade total (the rows stay as they are). */
  footerSkewFen?: number;
  /** Fault: claim this many more trades in the footer than there are rows. */
  footerSkewCount?: number;
  /** Line ends (Alipay's files use CRLF; LF is accepted too). */
  eol?: "\r\n" | "\n";
}

/** Alipay's standard rate for web payments: 0.6 %, rounded to the fen. */
export function standardFeeFen(receivedFen: number): number {
  return Math.round((receivedFen * 6) / 1000);
}

export const compactDay = (day: string) => day.replaceAll("-", "");
export const billZipName = (pid: string, day: string) => `${pid}0156_${compactDay(day)}.csv.zip`;
const entryBase = (pid: string, day: string) => `${pid}0156_${compactDay(day)}`;

const cnDate = (day: string) => `${day.slice(0, 4)}年${day.slice(5, 7)}月${day.slice(8, 10)}日`;
const nextDay = (day: string) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
};
const dashes = (n: number) => "-".repeat(n);
const cnTimestamp = (ms: number) => {
  const t = formatBeijing(ms);
  return `${cnDate(t.slice(0, 10))} ${t.slice(11)}`;
};
const T = "\t";

interface Totals {
  trades: number;
  refunds: number;
  tradeFen: number;
  refundFen: number;
  tradeOrderFen: number;
  refundOrderFen: number;
  feeFen: number;
}

function formatRow(r: BillLine): string {
  const sign = r.kind === "refund" ? -1 : 1;
  const fields = [
    r.tradeNo + T,
    r.outTradeNo + T,
    r.kind === "trade" ? ROW_TYPE.trade : ROW_TYPE.refund,
    csvText(r.subject),
    formatBeijing(r.createdAt),
    formatBeijing(r.completedAt),
    T, // 门店编号
    "", // 门店名称
    "", // 操作员
    "", // 终端号
    (r.buyer ?? "") + T,
    fenToSignedYuan(sign * r.orderFen),
    fenToSignedYuan(sign * r.receivedFen),
    "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00",
    r.kind === "refund" ? (r.outRequestNo ?? "") + T : T,
    fenToSignedYuan(sign * r.feeFen),
    "0.00",
    csvText(r.body ?? ""),
  ];
  return fields.join(",");
}

/** Subjects may hold commas or quotes: quote them like a spreadsheet export would. */
function csvText(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function* gbkChunks(lines: AsyncIterable<string>): AsyncGenerator<Buffer> {
  let buf = "";
  for await (const line of lines) {
    buf += line;
    if (buf.length >= 64 * 1024) {
      yield iconv.encode(buf, "gbk");
      buf = "";
    }
  }
  if (buf) yield iconv.encode(buf, "gbk");
}

function preamble(title: string, pid: string, day: string, eol: string, startWords: string): string {
  return [
    title,
    `#账号：[${pid}0156]`,
    `#起始日期：[${cnDate(day)} 00:00:00]   终止日期：[${cnDate(nextDay(day))} 00:00:00]`,
    `#${dashes(41)}${startWords}${dashes(41)}`,
  ].join(eol) + eol;
}

async function* detailLines(input: BillFileInput, totals: Totals): AsyncGenerator<string> {
  const eol = input.eol ?? "\r\n";
  yield preamble(DETAIL_TITLE, input.pid, input.day, eol, DETAIL_START_WORDS);
  yield DETAIL_COLUMNS.join(",") + eol;
  for await (const r of input.rows) {
    if (r.kind === "trade") {
      totals.trades++;
      totals.tradeFen += r.receivedFen;
      totals.tradeOrderFen += r.orderFen;
      totals.feeFen += r.feeFen;
    } else {
      totals.refunds++;
      totals.refundFen += r.receivedFen;
      totals.refundOrderFen += r.orderFen;
      totals.feeFen -= r.feeFen;
    }
    yield formatRow(r) + eol;
  }
  const footerTrades = totals.trades + (input.footerSkewCount ?? 0);
  const footerTradeFen = totals.tradeFen + (input.footerSkewFen ?? 0);
  yield [
    `#${dashes(41)}${DETAIL_END_WORDS}${dashes(41)}`,
    `#交易合计：${footerTrades}笔，商家实收共${fenToSignedYuan(footerTradeFen)}元，商家优惠共0.00元`,
    `#退款合计：${totals.refunds}笔，商家实收退款共${fenToSignedYuan(-totals.refundFen)}元，商家优惠退款共0.00元`,
    `#导出时间：[${cnTimestamp(input.exportedAt)}]`,
  ].join(eol) + eol;
}

async function* summaryLines(input: BillFileInput, totals: Totals): AsyncGenerator<string> {
  const eol = input.eol ?? "\r\n";
  yield preamble(SUMMARY_TITLE, input.pid, input.day, eol, SUMMARY_START_WORDS);
  yield SUMMARY_COLUMNS.join(",") + eol;
  const orderFen = totals.tradeOrderFen - totals.refundOrderFen;
  const received = totals.tradeFen - totals.refundFen;
  const net = received - totals.feeFen;
  const values = [String(totals.trades), String(totals.refunds), fenToSignedYuan(orderFen), fenToSignedYuan(received), "0.00", "0.00", "0.00",
    fenToSignedYuan(totals.feeFen), "0.00", fenToSignedYuan(net)];
  yield [T, "", ...values].join(",") + eol;
  yield ["合计", "", ...values].join(",") + eol;
  yield [`#${dashes(41)}${SUMMARY_END_WORDS}${dashes(41)}`, `#导出时间：[${cnTimestamp(input.exportedAt)}]`].join(eol) + eol;
}

/** The bill zip's bytes, streamed. */
export function billZip(input: BillFileInput): AsyncGenerator<Buffer> {
  const totals: Totals = { trades: 0, refunds: 0, tradeFen: 0, refundFen: 0, tradeOrderFen: 0, refundOrderFen: 0, feeFen: 0 };
  const base = entryBase(input.pid, input.day);
  const modified = new Date(input.exportedAt + 8 * 3600_000);
  return zipBytes([
    { name: iconv.encode(`${base}${DETAIL_ENTRY_SUFFIX}`, "gbk"), content: gbkChunks(detailLines(input, totals)), modified },
    // The summary is produced after the detail entry, so the totals are complete by then.
    { name: iconv.encode(`${base}${SUMMARY_ENTRY_SUFFIX}`, "gbk"), content: gbkChunks(summaryLines(input, totals)), modified },
  ]);
}

/** The detail CSV alone (GBK bytes), as some merchants keep it after unzipping. */
export function billDetailCsv(input: BillFileInput): AsyncGenerator<Buffer> {
  const totals: Totals = { trades: 0, refunds: 0, tradeFen: 0, refundFen: 0, tradeOrderFen: 0, refundOrderFen: 0, feeFen: 0 };
  return gbkChunks(detailLines(input, totals));
}
