import type { Response } from "express";
import type { Logger } from "pino";
import { BillDesk } from "./bill/desk.ts";
import { FaultStore } from "./faults.ts";
import { TradeLedger } from "./ledger.ts";
import { ALIPAY_RETRY_SCHEDULE_MS, NotifyDelivery } from "./notify-delivery.ts";
import { SandboxSigner, type SandboxKeys } from "./signing.ts";
import { Timers } from "./timers.ts";
import { TradeService, type Buyer } from "./trades.ts";
import type { SandboxInfo } from "./types.ts";

// Everything the emulator knows and does, without HTTP: trades, notifications, faults, timers, keys.
// The express app (app.ts) is a thin layer over this; tests and benches can reach it directly as
// `sandbox.gateway`.

export interface SandboxGatewayOptions {
  appId: string;
  sellerId: string;
  sellerEmail: string;
  buyer: Buyer;
  /** multiplies the notify retry gaps (0.001 → the 4-minute retry after 0.24 s) */
  timeFactor: number;
  /** unscaled retry gaps; default Alipay's 4m, 10m, 10m, 1h, 2h, 6h, 15h */
  retryScheduleMs?: number[];
  notifyTimeoutMs: number;
  /** see NotifyDeliveryOptions */
  recordSentParams?: boolean;
  maxConcurrentNotifies?: number;
  /** JSON file of the trade ledger; null = memory only */
  ledgerFile: string | null;
  keys: SandboxKeys;
  log: Logger;
  publicUrl: string;
}

export class SandboxGateway {
  readonly ledger: TradeLedger;
  readonly faults = new FaultStore();
  readonly timers = new Timers();
  readonly signer: SandboxSigner;
  readonly delivery: NotifyDelivery;
  readonly trades: TradeService;
  /** daily bills: download links, files built from the ledger, bill faults */
  readonly bills: BillDesk;
  /** responses held open by the `hang` fault */
  readonly hung = new Set<Response>();
  readonly retryScheduleMs: number[];
  publicUrl: string;

  constructor(private readonly o: SandboxGatewayOptions) {
    this.publicUrl = o.publicUrl;
    this.ledger = new TradeLedger(o.ledgerFile, o.log);
    this.signer = new SandboxSigner(o.keys);
    this.retryScheduleMs = (o.retryScheduleMs ?? ALIPAY_RETRY_SCHEDULE_MS).map((ms) => Math.max(1, Math.round(ms * o.timeFactor)));
    this.delivery = new NotifyDelivery({
      ledger: this.ledger,
      faults: this.faults,
      timers: this.timers,
      signer: this.signer,
      log: o.log,
      retryScheduleMs: this.retryScheduleMs,
      timeoutMs: o.notifyTimeoutMs,
      recordSentParams: o.recordSentParams,
      maxConcurrent: o.maxConcurrentNotifies,
    });
    this.trades = new TradeService({
      ledger: this.ledger,
      delivery: this.delivery,
      timers: this.timers,
      signer: this.signer,
      log: o.log,
      sellerId: o.sellerId,
      sellerEmail: o.sellerEmail,
      defaultBuyer: o.buyer,
      faults: this.faults,
    });
    this.bills = new BillDesk({ ledger: this.ledger, sellerId: o.sellerId, publicUrl: () => this.publicUrl });
    // After a restart: overdue expiries close now, pending notifications resume their schedule.
    this.trades.resume();
    this.delivery.resumePending();
  }

  get appId(): string {
    return this.o.appId;
  }

  get sellerId(): string {
    return this.o.sellerId;
  }

  get buyer(): Buyer {
    return this.o.buyer;
  }

  get alipayPublicKeyPem(): string {
    return this.o.keys.alipayPublicKeyPem;
  }

  /** The sandbox's Alipay private key, for tests and benchmarks that forge notifications (buildSignedNotify). */
  get alipayPrivateKeyPem(): string {
    return this.o.keys.alipayPrivateKeyPem;
  }

  info(): SandboxInfo {
    return {
      appId: this.o.appId,
      sellerId: this.o.sellerId,
      gatewayUrl: `${this.publicUrl}/gateway.do`,
      publicUrl: this.publicUrl,
      timeFactor: this.o.timeFactor,
      alipayPublicKeyPem: this.o.keys.alipayPublicKeyPem,
      retryScheduleMs: this.retryScheduleMs,
    };
  }

  /** Forget all trades, notifications and faults (control API). In-flight attempts finish unrecorded. */
  async reset(): Promise<void> {
    this.timers.cancelAll();
    this.faults.clear();
    this.bills.reset();
    this.releaseHung();
    this.ledger.clear();
    await this.ledger.flush();
  }

  async close(): Promise<void> {
    this.timers.cancelAll();
    this.releaseHung();
    await this.delivery.close();
    await this.ledger.flush();
  }

  private releaseHung(): void {
    for (const res of this.hung) res.socket?.destroy();
    this.hung.clear();
  }
}
