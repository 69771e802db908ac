// Shared by the sandbox integration tests: a sandbox on an ephemeral port with throwaway keys in a
// temp dir, a programmable merchant receiver (notify_url / return_url) on another ephemeral port, and
// factories for the official SDK and core/alipay's client pointed at the sandbox.
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AlipaySdk } from "alipay-sdk";
import express from "express";
import { after, before } from "node:test";
import { createAlipayClient, type AlipayClient } from "../../../core/alipay/client.ts";
import { parseFormBody } from "../../../core/alipay/form.ts";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { LOCAL_MERCHANT } from "../../../core/config/index.ts";
import { createLogger } from "../../../core/logging/index.ts";
import { createSandbox, type Sandbox, type SandboxOptions } from "../../../sandbox/app.ts";
import { SandboxControl } from "../../../sandbox/control-client.ts";

export const { appId: APP_ID, sellerId: SELLER_ID } = LOCAL_MERCHANT;

// Key generation costs ~50-100 ms: one merchant pair and one Alipay pair per test process.
let merchantKeys: ReturnType<typeof generateRsaKeyPair> | null = null;
let alipayKeys: ReturnType<typeof generateRsaKeyPair> | null = null;
export function merchantKeyPair() {
  return (merchantKeys ??= generateRsaKeyPair());
}
export function alipayKeyPair() {
  return (alipayKeys ??= generateRsaKeyPair());
}

export interface TestSandbox {
  sandbox: Sandbox;
  url: string;
  gatewayUrl: string;
  control: SandboxControl;
  dataDir: string;
  alipayPublicKeyPem: string;
  close(): Promise<void>;
}

/** A sandbox on port 0 with its data in a fresh temp dir (removed on close unless keepDir). */
export async function startSandbox(opts: Partial<SandboxOptions> & { dataDir?: string; keepDir?: boolean } = {}): Promise<TestSandbox> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "coursepay-sandbox-"));
  const sandbox = createSandbox({
    merchantPublicKey: merchantKeyPair().publicKeyPem,
    alipayKeys: alipayKeyPair(),
    logger: createLogger("sandbox-test", process.env.SANDBOX_TEST_LOG ?? "silent"),
    ...opts,
    dataDir,
  });
  const { url } = await sandbox.listen(0);
  return {
    sandbox,
    url,
    gatewayUrl: `${url}/gateway.do`,
    control: new SandboxControl(url),
    dataDir,
    alipayPublicKeyPem: sandbox.gateway.alipayPublicKeyPem,
    async close() {
      await sandbox.close();
      if (!opts.keepDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedNotify {
  raw: string;
  params: Record<string, string>;
  at: number;
  contentType: string | undefined;
}

/** How the receiver answers the n-th notify (0-based): body and status. */
export type Reply = { status?: number; body: string; delayMs?: number };

export interface Receiver {
  url: string;
  notifyUrl: string;
  returnUrl: string;
  notifies: ReceivedNotify[];
  returns: Record<string, string>[];
  /** replies used in order for any notify; after the list runs out, `success` */
  replies: Reply[];
  /** replies for the notifies of one out_trade_no (used before `replies`) */
  repliesFor: Map<string, Reply[]>;
  waitForNotifies(n: number, timeoutMs?: number): Promise<ReceivedNotify[]>;
  close(): Promise<void>;
}

/** A merchant stand-in: records every notify (raw body) and return, answers per `replies`. */
/**
 * One sandbox and one merchant receiver for a whole test file: started in a `before` hook, closed in
 * an `after` hook. `use` receives them once started (assign them to the file's variables).
 */
export function sandboxAndReceiverPerFile(opts: Parameters<typeof startSandbox>[0], use: (t: TestSandbox, rcv: Receiver) => void): void {
  let t: TestSandbox | undefined;
  let rcv: Receiver | undefined;
  before(async () => {
    t = await startSandbox(opts);
    rcv = await startReceiver();
    use(t, rcv);
  });
  after(async () => {
    await t?.close();
    await rcv?.close();
  });
}

export async function startReceiver(replies: Reply[] = []): Promise<Receiver> {
  const app = express();
  const notifies: ReceivedNotify[] = [];
  const returns: Record<string, string>[] = [];
  const r: Partial<Receiver> = { notifies, returns, replies, repliesFor: new Map() };
  app.post("/alipay/notify", express.raw({ type: () => true }), async (req, res) => {
    const raw = (req.body as Buffer).toString("utf8");
    const params = parseFormBody(raw);
    const reply = r.repliesFor!.get(params.out_trade_no ?? "")?.shift() ?? r.replies!.shift() ?? { body: "success" };
    notifies.push({ raw, params, at: Date.now(), contentType: req.headers["content-type"] });
    if (reply.delayMs) await new Promise((done) => setTimeout(done, reply.delayMs));
    res.status(reply.status ?? 200).type("text/plain").send(reply.body);
  });
  app.get("/alipay/return", (req, res) => {
    const q = req.originalUrl.indexOf("?");
    returns.push(q < 0 ? {} : parseFormBody(req.originalUrl.slice(q + 1)));
    res.type("html").send("<!doctype html><title>return</title><h1 id='merchant-return'>Back at the shop</h1>");
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(r, {
    url,
    notifyUrl: `${url}/alipay/notify`,
    returnUrl: `${url}/alipay/return`,
    async waitForNotifies(n: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (notifies.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} notifies, got ${notifies.length}`);
        await new Promise((done) => setTimeout(done, 10));
      }
      return notifies;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  }) as Receiver;
}

/** The official SDK, unchanged but for its gateway URL. */
export function officialSdk(gatewayUrl: string, privateKeyPem = merchantKeyPair().privateKeyPem, alipayPublicKey = alipayKeyPair().publicKeyPem): AlipaySdk {
  return new AlipaySdk({
    appId: APP_ID,
    privateKey: privateKeyPem,
    keyType: "PKCS8",
    alipayPublicKey,
    gateway: gatewayUrl,
  });
}

/** core/alipay's merchant client pointed at the sandbox. */
export function coreClient(gatewayUrl: string, overrides: { timeoutMs?: number; appPrivateKey?: string; appId?: string } = {}): AlipayClient {
  return createAlipayClient({
    appId: overrides.appId ?? APP_ID,
    appPrivateKey: overrides.appPrivateKey ?? merchantKeyPair().privateKeyPem,
    alipayPublicKey: alipayKeyPair().publicKeyPem,
    gatewayUrl,
    sellerId: SELLER_ID,
    timeoutMs: overrides.timeoutMs ?? 5000,
  });
}

let seq = 0;
/** A fresh out_trade_no ([A-Za-z0-9_], unique within the process). */
export function newOutTradeNo(prefix = "T"): string {
  return `${prefix}${Date.now()}_${process.pid}_${++seq}`;
}

/** Makes a page-pay URL with core's client, opens it and logs in at the cashier (which creates the trade), and returns it. */
export async function openTrade(
  t: TestSandbox,
  rcv: Receiver | null,
  opts: { outTradeNo?: string; totalFen?: number; subject?: string; expiresAt?: Date; passbackParams?: string } = {},
): Promise<{ outTradeNo: string; url: string; html: string }> {
  const outTradeNo = opts.outTradeNo ?? newOutTradeNo();
  const url = coreClient(t.gatewayUrl).pagePayUrl({
    outTradeNo,
    totalFen: opts.totalFen ?? 1230,
    subject: opts.subject ?? "TypeScript 进阶课程",
    expiresAt: opts.expiresAt ?? new Date(Date.now() + 30 * 60_000),
    returnUrl: rcv?.returnUrl ?? "http://127.0.0.1:9/alipay/return",
    notifyUrl: rcv?.notifyUrl ?? "http://127.0.0.1:9/alipay/notify",
    passbackParams: opts.passbackParams,
  });
  const html = await t.control.openCashier(url);
  return { outTradeNo, url, html };
}

/** Polls a synchronous probe (receiver state, sandbox internals) until it returns a truthy value. */
export async function waitFor<T>(fn: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}
