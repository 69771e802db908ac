// The emulator's bill desk: which bills exist (Alipay's date rules and the next-morning delay), the
// short-lived download links, the bill file built from the sandbox's own ledger, and the bill faults
// a merchant must survive (docs/bills.md). The gateway method (gateway/bill-download.ts), the download
// route and the control routes (routes.ts) are thin layers over this.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { addDays, beijingDay, beijingDayRange } from "../../core/bills/format.ts";
import type { TradeLedger } from "../ledger.ts";
import { billZip, billZipName, compactDay, standardFeeFen, type BillLine } from "./file.ts";
import { syntheticBillLines, SyntheticDaySchema, type SyntheticDay } from "./synthetic.ts";

const isoInstant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "expected an ISO 8601 instant");
const fen = z.number().int().min(1).max(10_000_000_000);
const outTradeNo = z.string().min(1).max(64);

export const BillFaultSchema = z.discriminatedUnion("kind", [
  /** The bill does not exist (isp.bill_not_exist) until this instant. */
  z.object({ kind: z.literal("notReady"), until: isoInstant }).strict(),
  /** The next `times` downloads are corrupted (bytes flipped inside the compressed data). */
  z.object({ kind: z.literal("corruptZip"), times: z.number().int().min(1).max(1000).default(1) }).strict(),
  /** The footer's trade total is off by `deltaFen` (rows unchanged). */
  z.object({ kind: z.literal("footerDisagrees"), deltaFen: z.number().int().default(100) }).strict(),
  /** A payment row for an out_trade_no the merchant never created. */
  z.object({ kind: z.literal("unknownTrade"), outTradeNo, amountFen: fen, at: isoInstant.optional() }).strict(),
  /** This trade's payment row shows a different 商家实收. */
  z.object({ kind: z.literal("amountDiffers"), outTradeNo, amountFen: fen }).strict(),
  /** This trade's payment row is left out of the bill. */
  z.object({ kind: z.literal("omitPayment"), outTradeNo }).strict(),
  /** A refund row that the merchant never asked for (only the bill shows it). */
  z.object({ kind: z.literal("extraRefund"), outTradeNo, amountFen: fen, outRequestNo: z.string().min(1).max(64), at: isoInstant.optional() }).strict(),
]);
export type BillFault = z.infer<typeof BillFaultSchema>;

export const BillFaultBodySchema = z.object({
  /** yyyy-MM-dd: the bill day the faults apply to; absent = every day. */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  faults: z.array(BillFaultSchema).min(1).max(1000),
}).strict();

export const BillConfigSchema = z.object({
  /** A day's bill exists this long after the day ends (Alipay: the next morning, "usually before 09:00"). */
  readyAfterMinutes: z.number().int().min(0).max(7 * 24 * 60).optional(),
  /** How long a download link works (Alipay: 30 s). */
  linkTtlMs: z.number().int().min(1).max(3_600_000).optional(),
}).strict();

interface StoredFault {
  date: string | null;
  fault: BillFault;
  remaining: number | null;
}

interface IssuedLink {
  day: string;
  issuedAt: number;
}

export type BillAnswer =
  | { kind: "url"; url: string }
  | { kind: "not_exist" }
  | { kind: "invalid"; subMsg: string };

export class BillDesk {
  readyAfterMinutes = 9 * 60;
  linkTtlMs = 30_000;
  private faults: StoredFault[] = [];
  private readonly links = new Map<string, IssuedLink>();
  private readonly synthetic = new Map<string, SyntheticDay>();
  /**
   * The last synthetic day's zip as built. Alipay produces a day's bill once, overnight, and every
   * link serves that file; a synthetic day (up to millions of rows) is likewise built once per
   * content (its rows and faults) and replayed, so a download costs what Alipay's does.
   */
  private built: { key: string; chunks: Buffer[] } | null = null;

  constructor(
    private readonly o: { ledger: TradeLedger; sellerId: string; publicUrl: () => string; now?: () => number },
  ) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  configure(c: z.infer<typeof BillConfigSchema>): void {
    if (c.readyAfterMinutes !== undefined) this.readyAfterMinutes = c.readyAfterMinutes;
    if (c.linkTtlMs !== undefined) this.linkTtlMs = c.linkTtlMs;
  }

  addFaults(body: z.infer<typeof BillFaultBodySchema>): number {
    for (const fault of body.faults) {
      this.faults.push({ date: body.date ?? null, fault, remaining: fault.kind === "corruptZip" ? fault.times : null });
    }
    return body.faults.length;
  }

  clearFaults(): void {
    this.faults = [];
  }

  listFaults(): StoredFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  setSynthetic(day: SyntheticDay): void {
    this.synthetic.set(day.date, day);
  }

  reset(): void {
    this.faults = [];
    this.links.clear();
    this.synthetic.clear();
    this.built = null;
    this.readyAfterMinutes = 9 * 60;
    this.linkTtlMs = 30_000;
  }

  private faultsFor(day: string): BillFault[] {
    return this.faults.filter((f) => f.date === null || f.date === day).map((f) => f.fault);
  }

  /** alipay.data.dataservice.bill.downloadurl.query (docs/bills.md "The API"). */
  query(billType: string, billDate: string): BillAnswer {
    const now = this.now();
    const today = beijingDay(new Date(now));
    const monthly = /^\d{4}-\d{2}$/.test(billDate);
    if (!monthly && !/^\d{4}-\d{2}-\d{2}$/.test(billDate)) return { kind: "invalid", subMsg: "bill_date格式错误, 应为yyyy-MM-dd或yyyy-MM" };
    if (!monthly && Number.isNaN(Date.parse(`${billDate}T00:00:00Z`))) return { kind: "invalid", subMsg: "bill_date不是有效日期" };
    if (billDate < (monthly ? "2016-01" : "2016-01-01")) return { kind: "invalid", subMsg: "bill_date不能早于2016-01-01" };
    if (monthly ? billDate >= today.slice(0, 7) : billDate >= today) {
      return { kind: "invalid", subMsg: monthly ? "不能查询当月或未来的月账单" : "不能查询当天或未来的账单" };
    }
    // The sandbox keeps no account-balance ledger: a signcustomer bill never exists here.
    if (billType === "signcustomer" || monthly) return { kind: "not_exist" };
    const readyAt = beijingDayRange(billDate).end.getTime() + this.readyAfterMinutes * 60_000;
    if (now < readyAt) return { kind: "not_exist" };
    const notReady = this.faultsFor(billDate).find((f): f is Extract<BillFault, { kind: "notReady" }> => f.kind === "notReady" && now < Date.parse(f.until));
    if (notReady) return { kind: "not_exist" };
    // A day on which nothing happened has no bill at all (isp.bill_not_exist), as at Alipay.
    if (!this.synthetic.has(billDate) && !this.hasActivity(billDate)) return { kind: "not_exist" };
    return { kind: "url", url: this.issueLink(billDate, now) };
  }

  private hasActivity(day: string): boolean {
    const { done } = this.ledgerLines(day).next();
    return !done || this.faultsFor(day).some((f) => f.kind === "unknownTrade" || f.kind === "extraRefund");
  }

  private issueLink(day: string, now: number): string {
    const token = randomBytes(16).toString("hex");
    this.links.set(token, { day, issuedAt: now });
    for (const [t, l] of this.links) if (now - l.issuedAt > this.linkTtlMs * 10) this.links.delete(t);
    const pid = this.o.sellerId;
    const url = new URL("/sandbox/bill/downloadBillFile.resource", this.o.publicUrl());
    const q = url.searchParams;
    q.set("bizType", "trade");
    q.set("userId", `${pid}0156`);
    q.set("fileType", "csv.zip");
    q.set("bizDates", compactDay(day));
    q.set("downloadFileName", billZipName(pid, day));
    q.set("fileId", `${compactDay(day)}%2F${pid}`);
    q.set("timestamp", String(now));
    q.set("token", token);
    return url.toString();
  }

  /** The link's bill, or why not: expired links no longer download (下载超时). */
  openLink(token: string): { ok: true; day: string; fileName: string; bytes: AsyncGenerator<Buffer> } | { ok: false } {
    const link = this.links.get(token);
    if (!link || this.now() - link.issuedAt > this.linkTtlMs) return { ok: false };
    const day = link.day;
    const faults = this.faultsFor(day);
    const skew = faults.reduce((s, f) => (f.kind === "footerDisagrees" ? s + f.deltaFen : s), 0);
    const corrupt = this.takeCorrupt(day);
    const bytes = this.synthetic.has(day) ? this.builtOnce(day, faults, skew) : this.zipOf(day, faults, skew);
    return { ok: true, day, fileName: billZipName(this.o.sellerId, day), bytes: corrupt ? flipBytes(bytes) : bytes };
  }

  /** Build a synthetic day's bill file now (as Alipay does before anyone asks), so that downloads replay it. */
  async prepare(day: string): Promise<number> {
    if (!this.synthetic.has(day)) throw new Error(`no synthetic day ${day}`);
    const faults = this.faultsFor(day);
    let bytes = 0;
    for await (const chunk of this.builtOnce(day, faults, faults.reduce((s, f) => (f.kind === "footerDisagrees" ? s + f.deltaFen : s), 0))) bytes += chunk.length;
    return bytes;
  }

  private zipOf(day: string, faults: BillFault[], skew: number): AsyncGenerator<Buffer> {
    return billZip({ pid: this.o.sellerId, day, rows: this.rowsOf(day, faults), exportedAt: this.now(), footerSkewFen: skew });
  }

  private async *builtOnce(day: string, faults: BillFault[], skew: number): AsyncGenerator<Buffer> {
    const key = JSON.stringify({ day: this.synthetic.get(day), faults: faults.filter((f) => f.kind !== "corruptZip" && f.kind !== "notReady") });
    if (this.built?.key === key) {
      yield* this.built.chunks;
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of this.zipOf(day, faults, skew)) {
      chunks.push(chunk);
      yield chunk;
    }
    this.built = { key, chunks };
  }

  private takeCorrupt(day: string): boolean {
    const f = this.faults.find((s) => s.fault.kind === "corruptZip" && (s.date === null || s.date === day));
    if (!f) return false;
    if (f.remaining !== null && --f.remaining <= 0) this.faults = this.faults.filter((x) => x !== f);
    return true;
  }

  /** Payments and refunds completed that Beijing day, in completion order, then the faults' rows. */
  private *rowsOf(day: string, faults: BillFault[]): Generator<BillLine> {
    const omit = new Set(faults.flatMap((f) => (f.kind === "omitPayment" ? [f.outTradeNo] : [])));
    const amounts = new Map(faults.flatMap((f) => (f.kind === "amountDiffers" ? [[f.outTradeNo, f.amountFen] as const] : [])));
    const source = this.synthetic.get(day);
    const lines = source ? syntheticBillLines(source) : this.ledgerLines(day);
    for (const line of lines) {
      if (line.kind === "trade" && omit.has(line.outTradeNo)) continue;
      const amount = line.kind === "trade" ? amounts.get(line.outTradeNo) : undefined;
      yield amount === undefined ? line : { ...line, orderFen: amount, receivedFen: amount, feeFen: standardFeeFen(amount) };
    }
    const { start } = beijingDayRange(day);
    const at = (iso: string | undefined) => (iso ? Date.parse(iso) : start.getTime() + 12 * 3600_000);
    for (const f of faults) {
      if (f.kind === "unknownTrade") {
        yield {
          kind: "trade", tradeNo: fakeTradeNo(day), outTradeNo: f.outTradeNo, subject: "未知订单", createdAt: at(f.at) - 60_000, completedAt: at(f.at),
          orderFen: f.amountFen, receivedFen: f.amountFen, feeFen: standardFeeFen(f.amountFen), buyer: "an***@example.com",
        };
      } else if (f.kind === "extraRefund") {
        const t = this.o.ledger.getTrade(f.outTradeNo);
        yield {
          kind: "refund", tradeNo: t?.tradeNo ?? fakeTradeNo(day), outTradeNo: f.outTradeNo, subject: t?.subject ?? "", createdAt: t?.createdAt ?? at(f.at),
          completedAt: at(f.at), orderFen: f.amountFen, receivedFen: f.amountFen, outRequestNo: f.outRequestNo, feeFen: standardFeeFen(f.amountFen),
        };
      }
    }
  }

  private *ledgerLines(day: string): Generator<BillLine> {
    const { start, end } = beijingDayRange(day);
    const inDay = (t: number | undefined) => t !== undefined && t >= start.getTime() && t < end.getTime();
    const lines: BillLine[] = [];
    for (const t of this.o.ledger.listTrades()) {
      const buyer = t.buyerLogonId ? maskAccount(t.buyerLogonId) : undefined;
      if (inDay(t.paidAt)) {
        lines.push({
          kind: "trade", tradeNo: t.tradeNo, outTradeNo: t.outTradeNo, subject: t.subject, createdAt: t.createdAt, completedAt: t.paidAt!,
          orderFen: t.totalFen, receivedFen: t.totalFen, feeFen: standardFeeFen(t.totalFen), buyer, body: t.body,
        });
      }
      for (const r of t.refunds) {
        if (!inDay(r.at)) continue;
        lines.push({
          kind: "refund", tradeNo: t.tradeNo, outTradeNo: t.outTradeNo, subject: t.subject, createdAt: t.createdAt, completedAt: r.at,
          orderFen: r.refundFen, receivedFen: r.refundFen, outRequestNo: r.outRequestNo, feeFen: standardFeeFen(r.refundFen), buyer, body: t.body,
        });
      }
    }
    lines.sort((a, b) => a.completedAt - b.completedAt);
    yield* lines;
  }
}

/** `*张三(138****00)`-style masking of the other party's account. */
function maskAccount(logon: string): string {
  const at = logon.indexOf("@");
  return at > 0 ? `${logon.slice(0, Math.min(3, at))}***${logon.slice(at)}` : `${logon.slice(0, 3)}****${logon.slice(-2)}`;
}

function fakeTradeNo(day: string): string {
  return `${compactDay(day)}2200149${String(randomBytes(4).readUInt32BE(0)).padStart(11, "0")}`;
}

/** The corruptZip fault: XOR ten bytes of the first compressed chunk (sizes unchanged, CRC wrong). */
async function* flipBytes(source: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of source) {
    n++;
    if (n === 2 && chunk.length > 4) {
      const copy = Buffer.from(chunk);
      for (let i = Math.floor(copy.length / 3); i < Math.min(copy.length, Math.floor(copy.length / 3) + 10); i++) copy[i] = copy[i]! ^ 0x5a;
      yield copy;
    } else yield chunk;
  }
}

export { addDays, SyntheticDaySchema };
