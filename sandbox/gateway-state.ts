import type { Response } from "express";
import type { Logger } from "pino";
import { BillDesk } from "./bill/desk.ts";
import type { SandboxCertAuthority } from "./certs.ts";
import { FaultStore } from "./faults.ts";
import { TradeLedger } from "./ledger.ts";
import { ALIPAY_RETRY_SCHEDULE_MS, NotifyDelivery } from "./notify-delivery.ts";
import { SandboxSigner, type SandboxKeys } from "./signing.ts";
import { Timers } from "./timers.ts";
import { TradeService, type Buyer } from "./trades.ts";
import type { SandboxCertInfo, SandboxInfo } from "./types.ts";

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
  /** certificate mode (certs.ts); null: key mode */
  certs?: SandboxCertAuthority | null;
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
    this.signer = new SandboxSigner(o.keys, o.certs ?? null);
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
    return this.signer.alipayPublicKeyPem;
  }

  /**
   * The sandbox's Alipay private key, for tests and benchmarks that forge notifications (buildSignedNotify).
   * Certificate mode: the current certificate's key (it changes when the certificate is rotated).
   */
  get alipayPrivateKeyPem(): string {
    return this.signer.alipayPrivateKeyPem;
  }

  /** Certificate mode: the CA, Alipay's certificates and the app certificate; null in key mode. */
  get certs(): SandboxCertAuthority | null {
    return this.signer.certs;
  }

  /** Certificate mode (control API): what a merchant configures, and which certificate signs now. */
  certInfo(): SandboxCertInfo | null {
    const c = this.signer.certs;
    if (!c) return null;
    return {
      appCertSn: c.appCertSn,
      alipayRootCertSn: c.rootCertSn,
      alipayCertSn: c.current.sn,
      alipayCerts: c.generations.map((g) => ({ sn: g.sn, createdAt: g.createdAt })),
      ...c.files(),
      appCertPem: c.appCertPem,
      alipayCertPem: c.current.chainPem,
      alipayRootCertPem: c.rootBundlePem,
    };
  }

  /** Certificate mode: Alipay rotates its certificate; answers and notifies are signed by the new one from now on. */
  rotateAlipayCert(): { previousSn: string; sn: string } | null {
    const c = this.signer.certs;
    if (!c) return null;
    const { previousSn, sn } = c.rotate();
    this.o.log.info({ previousSn, sn }, "sandbox: Alipay certificate rotated");
    return { previousSn, sn };
  }

  info(): SandboxInfo {
    return {
      appId: this.o.appId,
      sellerId: this.o.sellerId,
      gatewayUrl: `${this.publicUrl}/gateway.do`,
      publicUrl: this.publicUrl,
      timeFactor: this.o.timeFactor,
      alipayPublicKeyPem: this.alipayPublicKeyPem,
      retryScheduleMs: this.retryScheduleMs,
      certMode: this.signer.certs ? { appCertSn: this.signer.certs.appCertSn, alipayRootCertSn: this.signer.certs.rootCertSn, alipayCertSn: this.signer.certs.current.sn } : null,
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
