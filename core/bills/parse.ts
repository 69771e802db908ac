// Streaming parser of Alipay's trade bill: a zip (GBK entry names, GBK CSVs) or a bare detail CSV.
// Nothing is held whole in memory: a zip is spooled to a temporary file (a zip's directory is at its
// end, so reading it needs random access: yauzl), the detail entry is inflated as a stream, decoded
// from GBK as a stream (iconv-lite), split into records line by line, and each row is handed to
// `onRow` as it is read.
// Columns are found by header name; the footer's counts and sums are checked against the rows.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import iconv from "iconv-lite";
import yauzl from "yauzl";
import {
  ACCOUNT_LINE, billTimeToIso, COL, DETAIL_END_WORDS, DETAIL_ENTRY_SUFFIX, DETAIL_START_WORDS, FOOTER_REFUNDS, FOOTER_TRADES, PERIOD_LINE,
  ROW_TYPE, signedYuanToFen, SUMMARY_ENTRY_SUFFIX, type BillRow, type BillSummary,
} from "./format.ts";

/** The input is not a bill at all (not a zip with a detail CSV, no header row, a malformed row…). */
export class BillFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BillFormatError";
  }
}

export interface BillFooter {
  trades: number;
  tradeFen: number;
  refunds: number;
  refundFen: number;
}

export interface BillParseResult {
  summary: BillSummary;
  /** What the footer says (null when the file has no footer lines). */
  footer: BillFooter | null;
  /** Seller id from `#账号：[…]`, when present. */
  sellerId: string | null;
  /** The bill's day from `#起始日期：[…]` (yyyy-MM-dd), when present. */
  billDate: string | null;
  /** Why the footer does not agree, in words (empty when it agrees). */
  problems: string[];
}

export type RowSink = (row: BillRow) => void | Promise<void>;

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** General-purpose flag bit 11: the entry name is UTF-8. Alipay's zips do not set it (names are GBK). */
const ZIP_UTF8_FLAG = 0x800;

/** Parse a bill from a stream (stdin, an HTTP body). A zip is spooled to a temporary file first. */
export async function parseBill(input: Readable, onRow: RowSink): Promise<BillParseResult> {
  const { head, rest } = await sniff(input, 4);
  if (head.length >= 4 && head.subarray(0, 4).equals(ZIP_MAGIC)) {
    const dir = await mkdtemp(path.join(tmpdir(), "coursepay-bill-"));
    const file = path.join(dir, "bill.csv.zip");
    try {
      await pipeline(rest, createWriteStream(file));
      return await parseBillZip(file, onRow);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return parseDetailCsv(rest, onRow);
}

/** Parse a bill file on disk: a zip or a bare detail CSV (sniffed by its first bytes). */
export async function parseBillFile(file: string, onRow: RowSink): Promise<BillParseResult> {
  const fh = await open(file, "r");
  const head = Buffer.alloc(4);
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (head.equals(ZIP_MAGIC)) return parseBillZip(file, onRow);
  return parseDetailCsv(createReadStream(file), onRow);
}

/** Reads the first `n` bytes and gives back a stream that still starts with them. */
async function sniff(input: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = input[Symbol.asyncIterator]();
  while (size < n) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as string);
    chunks.push(chunk);
    size += chunk.length;
  }
  const head = Buffer.concat(chunks);
  const rest = new PassThrough();
  rest.write(head);
  void (async () => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        if (!rest.write(next.value)) await new Promise((r) => rest.once("drain", r));
      }
      rest.end();
    } catch (e) {
      rest.destroy(e as Error);
    }
  })();
  return { head, rest };
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // decodeStrings false: entry names arrive as bytes, decoded below (GBK unless flagged UTF-8).
    yauzl.open(file, { lazyEntries: true, decodeStrings: false, autoClose: false }, (err, zip) => {
      if (err || !zip) reject(new BillFormatError(`not a readable zip: ${err?.message ?? "unknown error"}`));
      else resolve(zip);
    });
  });
}

function entryName(entry: yauzl.Entry): string {
  const raw = entry.fileName as unknown as Buffer | string;
  if (typeof raw === "string") return raw;
  return entry.generalPurposeBitFlag & ZIP_UTF8_FLAG ? raw.toString("utf8") : iconv.decode(raw, "gbk");
}

async function listEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on("entry", (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.once("end", () => resolve(entries));
    zip.once("error", (e: Error) => reject(new BillFormatError(`corrupt zip: ${e.message}`)));
    zip.readEntry();
  });
}

/** The detail CSV among the zip's entries: `…_业务明细.csv`, never the `(汇总)` summary. */
export function pickDetailEntry(names: string[]): number {
  const base = names.map((n) => n.split("/").pop() ?? n);
  const exact = base.findIndex((n) => n.endsWith(DETAIL_ENTRY_SUFFIX));
  if (exact >= 0) return exact;
  return base.findIndex((n) => n.endsWith(".csv") && n.includes("业务明细") && !n.includes("汇总") && !n.endsWith(SUMMARY_ENTRY_SUFFIX));
}

async function parseBillZip(file: string, onRow: RowSink): Promise<BillParseResult> {
  const zip = await openZip(file);
  try {
    const entries = await listEntries(zip);
    const names = entries.map(entryName);
    const index = pickDetailEntry(names);
    if (index < 0) throw new BillFormatError(`zip has no 业务明细 CSV (entries: ${names.join(", ") || "none"})`);
    const entry = entries[index]!;
    const stream = await new Promise<Readable>((resolve, reject) =>
      zip.openReadStream(entry, (err, s) => (err || !s ? reject(new BillFormatError(`corrupt zip entry: ${err?.message}`)) : resolve(s))),
    );
    // yauzl checks sizes but not the CRC-32: check it here, so flipped bytes never pass as a bill.
    let crc = 0;
    const checked = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        crc = crc32(chunk, crc);
        cb(null, chunk);
      },
      flush(cb) {
        cb(crc >>> 0 === entry.crc32 >>> 0 ? null : new BillFormatError(`corrupt zip: CRC-32 of ${names[index]} does not match`));
      },
    });
    stream.on("error", (e) => checked.destroy(e instanceof BillFormatError ? e : new BillFormatError(`corrupt zip: ${e.message}`)));
    return await parseDetailCsv(stream.pipe(checked), onRow);
  } finally {
    zip.close();
  }
}

/**
 * Lines of decoded text: one CSV record per line. Alipay's bill has one record per line (no field holds
 * a line break); fields may be quoted ("a, b" / doubled quotes). csv-parse was tried first: the whole
 * `bill parse` of a million-row bill took 45 s of CPU with it and 5.8 s with this splitter on this
 * machine, and the benchmark target (docs/benchmarks.md) allows 60 s for download, parse and match.
 */
async function* csvLines(text: AsyncIterable<string>): AsyncGenerator<string[]> {
  // One batch of lines per decoded chunk: a million rows are not a million trips through the
  // async iterator (each one a promise and a microtask turn).
  let carry = "";
  for await (const chunk of text) {
    const data = carry + chunk;
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = data.indexOf("\n", start);
      if (nl < 0) break;
      const end = nl > start && data.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (end > start) lines.push(data.slice(start, end));
      start = nl + 1;
    }
    carry = data.slice(start);
    if (lines.length) yield lines;
  }
  if (carry.endsWith("\r")) carry = carry.slice(0, -1);
  if (carry) yield [carry];
}

/**
 * The fields at `wanted` column indexes of a CSV line. A line without quotes (every row of a real
 * bill but one with a quoted 商品名称/备注) is cut at its commas without making a string of every
 * field; a line with quotes goes through splitCsvLine.
 */
function fieldsOf(line: string, wanted: readonly number[], maxIndex: number): string[] {
  if (line.includes('"')) {
    const all = splitCsvLine(line);
    return wanted.map((i) => all[i] ?? "");
  }
  const ends = new Array<number>(maxIndex + 2);
  ends[0] = -1;
  let n = 0;
  let p = -1;
  while (n <= maxIndex) {
    p = line.indexOf(",", p + 1);
    if (p < 0) {
      ends[++n] = line.length;
      break;
    }
    ends[++n] = p;
  }
  return wanted.map((i) => (i < n ? line.slice(ends[i]! + 1, ends[i + 1]) : ""));
}

export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field.trim() === "") {
      quoted = true;
      field = "";
    } else if (ch === ",") {
      out.push(field);
      field = "";
    } else field += ch;
  }
  out.push(field);
  return out;
}

const clean = (v: string | undefined): string => (v ?? "").trim(); // TAB-suffixed fields: "2026…453\t"
/** Header cells with half-width parentheses are the same column. */
const headerKey = (v: string): string => clean(v).replace(/\(/g, "（").replace(/\)/g, "）");

interface Columns {
  tradeNo: number;
  outTradeNo: number;
  type: number;
  completedAt: number;
  received: number;
  outRequestNo: number;
  fee: number;
}

function mapColumns(record: string[]): Columns | null {
  const keys = record.map(headerKey);
  const at = (name: string) => keys.indexOf(name);
  const cols: Columns = {
    tradeNo: at(COL.tradeNo), outTradeNo: at(COL.outTradeNo), type: at(COL.type), completedAt: at(COL.completedAt),
    received: at(headerKey(COL.received)), outRequestNo: at(COL.outRequestNo), fee: at(headerKey(COL.fee)),
  };
  if (cols.tradeNo < 0 || cols.outTradeNo < 0) return null; // not the header row
  const missing = Object.entries(cols).filter(([, i]) => i < 0).map(([k]) => COL[k as keyof typeof COL]);
  if (missing.length) throw new BillFormatError(`header row lacks column(s): ${missing.join(", ")}`);
  return cols;
}

/**
 * Decode (GBK unless it starts with a UTF-8 BOM) and parse a detail CSV stream. Throws
 * BillFormatError when it is not a bill; a footer that disagrees is reported, not thrown.
 */
export async function parseDetailCsv(input: Readable, onRow: RowSink): Promise<BillParseResult> {
  const { head, rest } = await sniff(input, 3);
  const encoding = head.subarray(0, 3).equals(UTF8_BOM) ? "utf8" : "gbk";
  const decoder = iconv.decodeStream(encoding, { stripBOM: true }) as unknown as Transform;
  rest.on("error", (e) => decoder.destroy(e));
  rest.pipe(decoder);
  const parser = csvLines(decoder);

  let cols: Columns | null = null;
  let phase: "preamble" | "rows" | "footer" = "preamble";
  let line = 0;
  let sellerId: string | null = null;
  let billDate: string | null = null;
  const footer: Partial<BillFooter> = {};
  const sum = { trades: 0, refunds: 0, tradeFen: 0, refundFen: 0, feeFen: 0 };
  const bad = (why: string) => new BillFormatError(`line ${line}: ${why}`);

  // The row's columns in one order: type, received, fee, completedAt, outTradeNo, tradeNo, outRequestNo.
  let wanted: number[] = [];
  let maxIndex = 0;
  try {
    for await (const batch of parser) for (const text of batch) {
      line++;
      if (text.startsWith("#")) {
        const record = splitCsvLine(text);
        const joined = record.join(",").trim();
        if (phase === "preamble") {
          const acct = ACCOUNT_LINE.exec(joined);
          if (acct) sellerId = acct[1]!;
          const period = PERIOD_LINE.exec(joined);
          if (period) billDate = `${period[1]}-${period[2]}-${period[3]}`;
        } else {
          phase = "footer";
          let m = FOOTER_TRADES.exec(joined);
          if (m) {
            footer.trades = Number(m[1]);
            footer.tradeFen = signedYuanToFen(m[2]!) ?? Number.NaN;
          }
          m = FOOTER_REFUNDS.exec(joined);
          if (m) {
            footer.refunds = Number(m[1]);
            footer.refundFen = Math.abs(signedYuanToFen(m[2]!) ?? Number.NaN);
          }
        }
        continue;
      }
      if (phase === "preamble") {
        const record = splitCsvLine(text);
        cols = mapColumns(record);
        if (!cols) throw bad(`expected the header row (${COL.tradeNo},${COL.outTradeNo},…), got ${JSON.stringify(record.slice(0, 3))}`);
        wanted = [cols.type, cols.received, cols.fee, cols.completedAt, cols.outTradeNo, cols.tradeNo, cols.outRequestNo];
        maxIndex = Math.max(...wanted);
        phase = "rows";
        continue;
      }
      if (phase === "footer") throw bad("data row after the end of the detail list");
      const [typeText, receivedText, feeField, completedText, outTradeText, tradeText, requestText] = fieldsOf(text, wanted, maxIndex);
      const type = clean(typeText);
      const kind = type === ROW_TYPE.trade ? "trade" : type === ROW_TYPE.refund ? "refund" : null;
      if (!kind) throw bad(`unknown 业务类型 ${JSON.stringify(type)}`);
      const received = signedYuanToFen(clean(receivedText));
      if (received === null) throw bad(`商家实收 is not an amount: ${JSON.stringify(receivedText)}`);
      const feeText = clean(feeField);
      const fee = feeText === "" ? 0 : signedYuanToFen(feeText);
      if (fee === null) throw bad(`服务费 is not an amount: ${JSON.stringify(feeField)}`);
      const completedAt = billTimeToIso(clean(completedText));
      if (!completedAt) throw bad(`完成时间 is not yyyy-MM-dd HH:mm:ss: ${JSON.stringify(completedText)}`);
      const outTradeNo = clean(outTradeText);
      const tradeNo = clean(tradeText);
      if (!outTradeNo && !tradeNo) throw bad("row has neither 支付宝交易号 nor 商户订单号");
      const requestNo = clean(requestText);
      const row: BillRow = {
        kind,
        tradeNo,
        outTradeNo,
        outRequestNo: kind === "refund" && requestNo ? requestNo : null,
        amountFen: Math.abs(received),
        feeFen: Math.abs(fee),
        completedAt,
      };
      if (kind === "trade") {
        sum.trades++;
        sum.tradeFen += row.amountFen;
        sum.feeFen += row.feeFen;
      } else {
        sum.refunds++;
        sum.refundFen += row.amountFen;
        sum.feeFen -= row.feeFen;
      }
      const pending = onRow(row);
      if (pending) await pending;
    }
  } catch (e) {
    decoder.destroy();
    rest.destroy();
    throw e;
  }
  if (!cols) throw new BillFormatError(`no ${DETAIL_START_WORDS} header row found: not an Alipay bill`);

  const problems: string[] = [];
  const complete = footer.trades !== undefined && footer.refunds !== undefined;
  if (!complete) problems.push(`footer missing (no #交易合计 / #退款合计 after ${DETAIL_END_WORDS}): file truncated?`);
  else {
    if (footer.trades !== sum.trades) problems.push(`footer says ${footer.trades} trades, rows have ${sum.trades}`);
    if (footer.tradeFen !== sum.tradeFen) problems.push(`footer says trades total ${footer.tradeFen} fen, rows sum to ${sum.tradeFen}`);
    if (footer.refunds !== sum.refunds) problems.push(`footer says ${footer.refunds} refunds, rows have ${sum.refunds}`);
    if (footer.refundFen !== sum.refundFen) problems.push(`footer says refunds total ${footer.refundFen} fen, rows sum to ${sum.refundFen}`);
  }
  return {
    summary: { ...sum, footerAgrees: problems.length === 0 },
    footer: complete ? (footer as BillFooter) : null,
    sellerId,
    billDate,
    problems,
  };
}
