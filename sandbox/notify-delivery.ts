import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { FaultStore } from "./faults.ts";
import type { TradeLedger } from "./ledger.ts";
import { encodeFormBody } from "../core/alipay/form.ts";
import { corruptBase64, type SandboxSigner } from "./signing.ts";
import { formatBeijing } from "./time.ts";
import type { Timers } from "./timers.ts";
import type { NotifyAttempt, NotifyEvent, NotifyRecord, Trade } from "./types.ts";

// Asynchronous notification delivery, as Alipay does it (docs/alipay-protocol.md §4): POST the signed form to
// notify_url; only a reply body of exactly `success` ends it; otherwise retry on the schedule
// 4m, 10m, 10m, 1h, 2h, 6h, 15h (8 attempts in ~25 h), here multiplied by the time factor.
// notify_id stays the same across retries; notify_time is the sending time of each attempt, so every
// attempt is re-signed. Fault injection (faults.ts) is applied per attempt.

/** Alipay's documented retry gaps after the 1st, 2nd, … failed attempt (docs/alipay-protocol.md §4, §8.3). */
export const ALIPAY_RETRY_SCHEDULE_MS = [4, 10, 10, 60, 120, 360, 900].map((m) => m * 60_000);

const REPLY_SNIPPET_CHARS = 200;

export interface NotifyDeliveryOptions {
  ledger: TradeLedger;
  faults: FaultStore;
  timers: Timers;
  signer: SandboxSigner;
  log: Logger;
  /** gaps between attempts, already scaled by the time factor */
  retryScheduleMs: number[];
  /** how long to wait for the merchant's reply */
  timeoutMs: number;
  /** keep the exact sent fields on every attempt record (default true; benches may turn it off to save memory) */
  recordSentParams?: boolean;
  /** at most this many notify requests in flight at once (default 100), so a burst of payments cannot exhaust sockets */
  maxConcurrent?: number;
}

interface Held {
  records: NotifyRecord[];
  count: number;
}

export class NotifyDelivery {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  /** reorderNotify faults: first deliveries held back, by fault id */
  private readonly held = new Map<string, Held>();
  private closed = false;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly o: NotifyDeliveryOptions) {
    o.faults.onRemoved((removed) => {
      for (const f of removed) this.releaseHeld(f.id);
    });
  }

  /** Creates a notification for a trade event and sends its first attempt now (unless a reorder fault holds it). */
  enqueue(trade: Trade, event: NotifyEvent, params: Record<string, string>): NotifyRecord | null {
    if (!trade.notifyUrl) return null;
    const record: NotifyRecord = {
      id: randomUUID(),
      notifyId: params.notify_id!,
      outTradeNo: trade.outTradeNo,
      tradeNo: trade.tradeNo,
      event,
      tradeStatus: params.trade_status ?? trade.status,
      url: trade.notifyUrl,
      params: this.o.signer.signCallback(params),
      state: "pending",
      createdAt: Date.now(),
      scheduledAttempts: 0,
      attempts: [],
    };
    this.o.ledger.addNotify(record);
    if (!this.holdForReorder(record)) this.track(this.attempt(record, false));
    return record;
  }

  /** After a restart: re-arm every pending notification (overdue ones go out now). */
  resumePending(): void {
    for (const r of this.o.ledger.listNotifies()) {
      if (r.state !== "pending") continue;
      this.schedule(r, r.nextAttemptAt ?? Date.now());
    }
  }

  /** An extra attempt now, outside the schedule (control API renotify). Returns the attempts it made. */
  async redeliver(record: NotifyRecord): Promise<NotifyAttempt[]> {
    const p = this.attempt(record, true);
    this.track(p);
    return p;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort(new Error("sandbox closing"));
    await Promise.allSettled([...this.inFlight]);
  }

  // ---------------------------------------------------------------------------------------------------------

  private track<T>(p: Promise<T>): void {
    const guarded = p.catch((err: unknown) => this.o.log.error({ err }, "notify attempt crashed"));
    this.inFlight.add(guarded);
    void guarded.finally(() => this.inFlight.delete(guarded));
  }

  private schedule(record: NotifyRecord, at: number): void {
    record.nextAttemptAt = at;
    this.o.timers.at(`notify:${record.id}`, at, () => this.track(this.attempt(record, false)));
  }

  private async attempt(record: NotifyRecord, manual: boolean): Promise<NotifyAttempt[]> {
    if (this.closed) return [];
    const { faults } = this.o;
    const scope = record.outTradeNo;
    const n = record.attempts.length === 0 ? 1 : Math.max(...record.attempts.map((a) => a.n)) + 1;
    if (!manual) {
      record.scheduledAttempts += 1;
      record.nextAttemptAt = undefined;
    }

    const delay = faults.take("delayNotify", scope);
    if (delay) await sleep(delay.ms, undefined, { signal: this.abort.signal }).catch(() => undefined);
    if (this.closed) return [];

    const applied: string[] = delay ? [`delay ${delay.ms}ms`] : [];
    let params: Record<string, string> = { ...record.params, notify_time: formatBeijing(Date.now()) };
    const amount = faults.take("notifyAmount", scope);
    if (amount) {
      params.total_amount = amount.totalAmount;
      applied.push(`notifyAmount ${amount.totalAmount}`);
    }
    // An app configured for GBK gets GBK notifies: charset=GBK, signed over and sent as GBK bytes.
    const gbk = faults.take("gbkCharset", scope) !== undefined;
    if (gbk) {
      params.charset = "GBK";
      applied.push("gbk");
    }
    const certSn = this.o.signer.certs ? faults.take("notifyCertSn", scope) : undefined;
    if (certSn) applied.push(`alipay_cert_sn ${certSn.placement}`);
    params = this.o.signer.signCallback(params, gbk ? "gbk" : "utf-8", certSn?.placement ?? "unsigned");
    if (faults.take("corruptNotifySignature", scope)) {
      params.sign = corruptBase64(params.sign!);
      applied.push("corruptSignature");
    }

    let attempts: NotifyAttempt[];
    if (faults.take("dropNotify", scope)) {
      attempts = [{ n, at: Date.now(), url: record.url, durationMs: 0, ok: false, error: "dropped by fault injection", faults: [...applied, "dropped"] }];
    } else {
      const copies = faults.take("duplicateNotify", scope)?.copies ?? 1;
      attempts = await Promise.all(
        Array.from({ length: copies }, (_, i) =>
          this.send(record.url, params, n, copies > 1 ? [...applied, `duplicate ${i + 1}/${copies}`] : applied),
        ),
      );
    }
    if (this.o.recordSentParams === false) for (const a of attempts) delete a.sentParams;
    record.attempts.push(...attempts);

    if (attempts.some((a) => a.ok)) {
      record.state = "delivered";
      record.nextAttemptAt = undefined;
      this.o.timers.cancel(`notify:${record.id}`);
    } else if (!manual && record.state === "pending") {
      const gap = this.o.retryScheduleMs[record.scheduledAttempts - 1];
      if (gap === undefined) {
        record.state = "gave_up";
        this.o.log.warn({ outTradeNo: record.outTradeNo, notifyId: record.notifyId, attempts: record.scheduledAttempts }, "notify retries exhausted");
      } else if (!this.closed) {
        this.schedule(record, Date.now() + gap);
      }
    }
    this.o.ledger.changed();
    this.o.log.info(
      { outTradeNo: record.outTradeNo, notifyId: record.notifyId, n, ok: attempts.some((a) => a.ok), status: attempts[0]?.statusCode, faults: applied },
      "notify attempt",
    );
    return attempts;
  }

  private async send(url: string, params: Record<string, string>, n: number, faults: string[]): Promise<NotifyAttempt> {
    while (this.active >= (this.o.maxConcurrent ?? 100)) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await this.post(url, params, n, faults);
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async post(url: string, params: Record<string, string>, n: number, faults: string[]): Promise<NotifyAttempt> {
    const gbk = params.charset === "GBK";
    const started = Date.now();
    const base = { n, at: started, url, faults, sentParams: params };
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": `application/x-www-form-urlencoded; charset=${gbk ? "GBK" : "utf-8"}`, "user-agent": "coursepay-alipay-sandbox" },
        // URLSearchParams encodes like Alipay's form posts (space as "+", docs/alipay-protocol.md §1.4); GBK bytes
        // are percent-encoded one by one.
        body: gbk ? encodeFormBody(params, "gbk") : new URLSearchParams(params).toString(),
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs), this.abort.signal]),
      });
      const text = await res.text();
      // Only the exact 7 bytes `success` count (docs/alipay-protocol.md §4): no trimming, no quotes, no redirects.
      const ok = res.status >= 200 && res.status < 300 && text === "success";
      return { ...base, statusCode: res.status, replySnippet: text.slice(0, REPLY_SNIPPET_CHARS), durationMs: Date.now() - started, ok };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const detail = e.name === "TimeoutError" ? `timeout after ${this.o.timeoutMs}ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { ...base, error: detail, durationMs: Date.now() - started, ok: false };
    }
  }

  // --- reorderNotify --------------------------------------------------------------------------------------

  private holdForReorder(record: NotifyRecord): boolean {
    const fault = this.o.faults.peek("reorderNotify", record.outTradeNo);
    if (!fault) return false;
    let held = this.held.get(fault.id);
    if (!held) {
      held = { records: [], count: fault.spec.count };
      this.held.set(fault.id, held);
      if (fault.spec.maxHoldMs !== undefined) {
        this.o.timers.at(`reorder:${fault.id}`, Date.now() + fault.spec.maxHoldMs, () => this.o.faults.remove(fault.id));
      }
    }
    held.records.push(record);
    if (held.records.length >= held.count) this.o.faults.remove(fault.id); // → onRemoved → releaseHeld
    return true;
  }

  /** Sends held notifications newest first, each after the previous one was answered. */
  private releaseHeld(faultId: string): void {
    const held = this.held.get(faultId);
    if (!held) return;
    this.held.delete(faultId);
    this.o.timers.cancel(`reorder:${faultId}`);
    const order = [...held.records].reverse();
    this.track(
      (async () => {
        for (const r of order) await this.attempt(r, false);
      })(),
    );
  }

  /** Fault ids currently holding notifications (for the control API). */
  heldCounts(): { faultId: string; held: number }[] {
    return [...this.held].map(([faultId, h]) => ({ faultId, held: h.records.length }));
  }
}

