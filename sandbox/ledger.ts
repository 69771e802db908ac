import { readFileSync, renameSync } from "node:fs";
import { rename, writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { NotifyRecord, Trade } from "./types.ts";

// The sandbox's memory of trades and notifications. Kept in memory (the emulator is a single process) and
// mirrored to one JSON file so that a restart of the sandbox keeps trades, like the real Alipay would.
// Writes are coalesced (a burst of changes gives one write) and atomic (temp file + rename), so a crash
// mid-write leaves the previous complete file.

const FILE_VERSION = 1;
const FLUSH_DELAY_MS = 50;

interface LedgerFile {
  version: number;
  trades: Trade[];
  notifies: NotifyRecord[];
}

export class TradeLedger {
  private readonly trades = new Map<string, Trade>();
  private readonly outTradeNoByTradeNo = new Map<string, string>();
  private readonly notifies = new Map<string, NotifyRecord>();
  private flushTimer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private dirty = false;
  private tmpCounter = 0;

  /** `file` null = memory only (tests that do not care about restarts). */
  constructor(
    private readonly file: string | null,
    private readonly log: Logger,
  ) {
    if (file) this.load(file);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    try {
      const data = JSON.parse(text) as LedgerFile;
      if (data.version !== FILE_VERSION) throw new Error(`unknown ledger version ${data.version}`);
      for (const t of data.trades) this.indexTrade(t);
      for (const n of data.notifies) this.notifies.set(n.id, n);
      this.log.info({ file, trades: this.trades.size, notifies: this.notifies.size }, "sandbox ledger loaded");
    } catch (e) {
      // Keep the unreadable file for inspection instead of silently overwriting it.
      const aside = `${file}.corrupt-${Date.now()}`;
      renameSync(file, aside);
      this.log.error({ err: e, file, movedTo: aside }, "sandbox ledger unreadable; starting empty");
    }
  }

  private indexTrade(t: Trade): void {
    this.trades.set(t.outTradeNo, t);
    this.outTradeNoByTradeNo.set(t.tradeNo, t.outTradeNo);
  }

  // --- trades ---------------------------------------------------------------------------------------------

  getTrade(outTradeNo: string): Trade | undefined {
    return this.trades.get(outTradeNo);
  }

  getTradeByTradeNo(tradeNo: string): Trade | undefined {
    const out = this.outTradeNoByTradeNo.get(tradeNo);
    return out === undefined ? undefined : this.trades.get(out);
  }

  /** trade_no wins when both are given (docs/alipay-protocol.md §5.1, §5.2). */
  findTrade(ids: { tradeNo?: string; outTradeNo?: string }): Trade | undefined {
    if (ids.tradeNo) return this.getTradeByTradeNo(ids.tradeNo);
    if (ids.outTradeNo) return this.getTrade(ids.outTradeNo);
    return undefined;
  }

  listTrades(): Trade[] {
    return [...this.trades.values()];
  }

  insertTrade(trade: Trade): void {
    if (this.trades.has(trade.outTradeNo)) throw new Error(`trade ${trade.outTradeNo} exists`);
    this.indexTrade(trade);
    this.changed();
  }

  // --- notifications --------------------------------------------------------------------------------------

  addNotify(record: NotifyRecord): void {
    this.notifies.set(record.id, record);
    this.changed();
  }

  getNotify(id: string): NotifyRecord | undefined {
    return this.notifies.get(id);
  }

  /** In creation order; optionally only those of one out_trade_no. */
  listNotifies(outTradeNo?: string): NotifyRecord[] {
    const all = [...this.notifies.values()];
    return outTradeNo === undefined ? all : all.filter((n) => n.outTradeNo === outTradeNo);
  }

  // --- persistence ----------------------------------------------------------------------------------------

  /** Call after mutating any trade or notify record obtained from this ledger. */
  changed(): void {
    if (!this.file) return;
    this.dirty = true;
    this.scheduleWrite();
  }

  // At most one write per FLUSH_DELAY_MS: each write serializes the whole ledger, so under a burst of
  // payments (benchmarks) writes must not run back to back.
  private scheduleWrite(): void {
    if (this.flushTimer || this.writing) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.write();
    }, FLUSH_DELAY_MS);
    this.flushTimer.unref();
  }

  private write(): Promise<void> {
    if (this.writing) return this.writing;
    this.dirty = false;
    this.writing = this.writeFileAtomically()
      .catch((e: unknown) => this.log.error({ err: e, file: this.file }, "sandbox ledger write failed"))
      .finally(() => {
        this.writing = null;
        if (this.dirty) this.scheduleWrite();
      });
    return this.writing;
  }

  private async writeFileAtomically(): Promise<void> {
    const file = this.file!;
    const data: LedgerFile = { version: FILE_VERSION, trades: this.listTrades(), notifies: this.listNotifies() };
    const tmp = `${file}.tmp-${process.pid}-${++this.tmpCounter}`;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, JSON.stringify(data), { mode: 0o600 });
    await rename(tmp, file);
  }

  /** Writes any pending change now (and waits for a write in progress). */
  async flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    while (this.writing || this.dirty) {
      await (this.writing ?? this.write());
    }
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
  }

  /** Forget everything (control API `reset`). */
  clear(): void {
    this.trades.clear();
    this.outTradeNoByTradeNo.clear();
    this.notifies.clear();
    this.changed();
  }
}
