import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import express from "express";
import type { Logger } from "pino";
import { generateRsaKeyPair, publicKeyPem } from "../core/alipay/keys.ts";
import { LOCAL_MERCHANT } from "../core/config/index.ts";
import { createLogger } from "../core/logging/index.ts";
import { createCashierRouter, CASHIER_PREFIX } from "./cashier.ts";
import { createBillControlRouter, createBillDownloadRouter } from "./bill/routes.ts";
import { createControlRouter } from "./control.ts";
import { createGatewayRouter } from "./gateway/index.ts";
import { SandboxGateway } from "./gateway-state.ts";
import { loadOrCreateAlipayKeys, type AlipayKeyPair } from "./keys.ts";
import { SandboxCertAuthority } from "./certs.ts";
import type { Buyer } from "./trades.ts";

// The local Alipay gateway emulator as an express app (docs/architecture.md; never used in production).
// Routes:
//   GET|POST /gateway.do                 OpenAPI v2 gateway (page.pay, trade.query/close/refund, refund query)
//   GET      /sandbox/cashier/:tradeNo   cashier page; POST …/pay, …/cancel
//   GET      /sandbox/alipay-public-key  the sandbox's Alipay public key (PEM) for the merchant config
//   GET      /sandbox/certs/{app,alipay,root}.crt  certificate mode: the three files for the merchant config
//   …        /sandbox/control/*          control API for tests and demos (control.ts)
//   GET      /healthz, /readyz

export interface SandboxOptions {
  /** The merchant app's public key (PEM or bare base64): requests must be signed with its private key. */
  merchantPublicKey: string;
  /**
   * Where the Alipay key pair and the ledger (trades.json) live. The key pair is created on first use.
   * null: nothing is written; the key pair comes from `alipayKeys` or is generated in memory.
   */
  dataDir: string | null;
  /** Use this Alipay key pair instead of the one in dataDir. */
  alipayKeys?: AlipayKeyPair;
  /**
   * Certificate mode (公钥证书模式): the sandbox's own CA issues Alipay's certificate and the app
   * certificate (kept in <dataDir>/certs/, created on first start; see certs.ts). Requests must carry
   * app_cert_sn and alipay_root_cert_sn; answers and notifies name alipay_cert_sn.
   */
  certMode?: boolean;
  /** default LOCAL_MERCHANT.appId (core/config) */
  appId?: string;
  /** default LOCAL_MERCHANT.sellerId (core/config) */
  sellerId?: string;
  /** default sandbox-seller@example.com */
  sellerEmail?: string;
  /** The simulated buyer; default sandbox-buyer@example.com / 2088102000000001. */
  buyer?: Buyer;
  /** Multiplies notify retry gaps (default 1). */
  timeFactor?: number;
  /** Unscaled notify retry gaps; default Alipay's 4m, 10m, 10m, 1h, 2h, 6h, 15h. */
  retryScheduleMs?: number[];
  /** How long a notify waits for the merchant's reply (default 10 s). */
  notifyTimeoutMs?: number;
  /** Notify requests in flight at once (default 100). */
  maxConcurrentNotifies?: number;
  /** Keep the exact sent fields on every attempt record (default true; turn off for big benchmarks). */
  recordSentParams?: boolean;
  /** Base URL shown in info; default: the URL `listen` binds. */
  publicUrl?: string;
  logger?: Logger;
}

export interface Sandbox {
  app: express.Application;
  gateway: SandboxGateway;
  /** Listen on `port` (0 = ephemeral). Sets gateway.publicUrl unless publicUrl was given. */
  listen(port?: number, host?: string): Promise<{ server: Server; port: number; url: string }>;
  /** Stops the server (if `listen` was used), timers and deliveries; flushes the ledger. */
  close(): Promise<void>;
}

export const DEFAULT_BUYER: Buyer = { id: "2088102000000001", logonId: "sandbox-buyer@example.com" };

export function createSandbox(options: SandboxOptions): Sandbox {
  const log = options.logger ?? createLogger("sandbox");
  const keys = options.alipayKeys ?? (options.dataDir ? loadOrCreateAlipayKeys(options.dataDir) : generateRsaKeyPair());
  const appId = options.appId ?? LOCAL_MERCHANT.appId;
  const certs = options.certMode
    ? new SandboxCertAuthority({ appId, merchantPublicKey: options.merchantPublicKey, dataDir: options.dataDir, alipayKeys: keys })
    : null;
  const gateway = new SandboxGateway({
    appId,
    sellerId: options.sellerId ?? LOCAL_MERCHANT.sellerId,
    sellerEmail: options.sellerEmail ?? "sandbox-seller@example.com",
    buyer: options.buyer ?? DEFAULT_BUYER,
    timeFactor: options.timeFactor ?? 1,
    retryScheduleMs: options.retryScheduleMs,
    notifyTimeoutMs: options.notifyTimeoutMs ?? 10_000,
    maxConcurrentNotifies: options.maxConcurrentNotifies,
    recordSentParams: options.recordSentParams,
    ledgerFile: options.dataDir ? join(options.dataDir, "trades.json") : null,
    keys: {
      alipayPrivateKeyPem: keys.privateKeyPem,
      alipayPublicKeyPem: keys.publicKeyPem,
      // Normalised once: a malformed merchant key fails here, at start, not on the first request.
      merchantPublicKey: publicKeyPem(options.merchantPublicKey),
    },
    certs,
    log,
    publicUrl: options.publicUrl ?? "http://127.0.0.1:3003",
  });

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.get("/healthz", (_req, res) => void res.json({ ok: true, role: "sandbox" }));
  app.get("/readyz", (_req, res) => void res.json({ ok: true, role: "sandbox" }));
  app.get("/sandbox/alipay-public-key", (_req, res) => void res.type("text/plain").send(gateway.alipayPublicKeyPem));
  app.get("/sandbox/certs/:file", (req, res) => {
    const c = gateway.certInfo();
    const pem = c && ({ "app.crt": c.appCertPem, "alipay.crt": c.alipayCertPem, "root.crt": c.alipayRootCertPem } as Record<string, string>)[req.params.file];
    if (!pem) return void res.status(404).json({ error: { code: "not_found", message: c ? "one of app.crt, alipay.crt, root.crt" : "the sandbox is in key mode (SANDBOX_CERT_MODE=1 for certificate mode)" } });
    res.type("application/x-x509-ca-cert").send(pem);
  });
  app.use(createGatewayRouter({ trades: gateway.trades, faults: gateway.faults, signer: gateway.signer, appId: gateway.appId, buyer: gateway.buyer, log, hung: gateway.hung, bills: gateway.bills }));
  app.use(createBillDownloadRouter(gateway.bills));
  app.use(CASHIER_PREFIX, createCashierRouter(gateway.trades, gateway.buyer));
  app.use("/sandbox/control", createControlRouter(gateway));
  app.use("/sandbox/control", createBillControlRouter(gateway.bills, gateway.ledger));
  app.use((_req, res) => void res.status(404).json({ error: { code: "not_found", message: "no such sandbox route" } }));
  app.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    // body-parser errors (bad JSON, too large) carry a status; anything else is a sandbox bug.
    const status = err.status && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, "sandbox route crashed");
    res.status(status).json({ error: { code: err.type ?? "internal_error", message: err.message } });
  });

  let server: Server | null = null;
  return {
    app,
    gateway,
    listen(port = 0, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        const s = app.listen(port, host);
        s.once("error", reject);
        s.once("listening", () => {
          server = s;
          const bound = (s.address() as AddressInfo).port;
          const url = `http://${host.includes(":") ? `[${host}]` : host}:${bound}`;
          if (!options.publicUrl) gateway.publicUrl = url;
          resolve({ server: s, port: bound, url });
        });
      });
    },
    async close() {
      const s = server;
      server = null;
      const closed = s ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve();
      await gateway.close();
      s?.closeAllConnections();
      await closed;
    },
  };
}

export { buildSignedNotify, type BuildSignedNotifyOptions, type NotifyTradeInput } from "./notify-params.ts";
export { SandboxGateway } from "./gateway-state.ts";
export type * from "./types.ts";
