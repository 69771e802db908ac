// What the order commands need from the outside world, passed in (never imported), so every role —
// api, worker, admin, tests — runs the same commands against its own connections.
import type { PrismaClient } from "@prisma/client";
import { prismaCertStore } from "../alipay/cert-store.ts";
import { createAlipayClient, type AlipayClient } from "../alipay/client.ts";
import type { DomainMetrics } from "../metrics/port.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logging/index.ts";
import type { Queues } from "../queues/index.ts";
import type { IntakeBatching, OrderBatching } from "./batching.ts";

/** The Alipay calls the commands make (the real client satisfies it; tests may pass a stub). */
export type OrderAlipay = Pick<AlipayClient, "appId" | "sellerId" | "pagePayUrl" | "wapPayUrl" | "queryTrade" | "closeTrade">;

export interface OrderDeps {
  prisma: PrismaClient;
  alipay: OrderAlipay;
  logger?: Logger;
  /** Needed by commands that enqueue (redriveNotification, intake); optional elsewhere. */
  queues?: Queues;
  /** Order/reconcile settings and callback URLs: loadConfig's, whose defaults are the only ones. */
  config: Pick<Config, "orders" | "reconcile"> & { alipay: Pick<Config["alipay"], "notifyUrl" | "returnUrl" | "quitUrl" | "alipayPublicKey"> };
  /** What the domain counts (the metrics port): the roles pass the Prometheus adapter, core/metrics `metrics`. */
  metrics: DomainMetrics;
  /** Clock, for tests. */
  now?: () => Date;
  /** Batch the inbox reads and decision writes of concurrent jobs (the worker; core/orders/batching.ts). */
  batching?: OrderBatching;
  /** Group-commit the inbox inserts and apply enqueues of concurrent notifies (the api; batching.ts). */
  intakeBatching?: IntakeBatching;
}

export interface OrderSettings {
  expiryMinutes: number;
  graceMs: number;
  firstCheckSeconds: number;
  notifyUrl: string | null;
  returnUrl: string | null;
  quitUrl: string | null;
}

export function orderSettings(deps: OrderDeps): OrderSettings {
  const c = deps.config;
  return {
    expiryMinutes: c.orders.expiryMinutes,
    graceMs: c.reconcile.graceMinutes * 60_000,
    firstCheckSeconds: c.reconcile.firstCheckSeconds,
    notifyUrl: c.alipay.notifyUrl,
    returnUrl: c.alipay.returnUrl,
    quitUrl: c.alipay.quitUrl,
  };
}

export const nowOf = (deps: OrderDeps): Date => deps.now?.() ?? new Date();

/**
 * The Alipay client for a role's configuration (keys were validated by loadConfig). `metrics` counts
 * certificate rotations (certificate mode); a role passes its metrics, a tool may leave it out.
 */
export function alipayFromConfig(config: Config, logger?: Logger, prisma?: PrismaClient, metrics?: Pick<DomainMetrics, "alipayCertRotations">): AlipayClient {
  return createAlipayClient({
    certs: config.alipay.certs ?? undefined,
    certStore: prisma ? prismaCertStore(prisma) : undefined,
    onCertRotation: metrics ? (e) => metrics.alipayCertRotations.inc({ outcome: e.outcome }) : undefined,
    appId: config.alipay.appId,
    sellerId: config.alipay.sellerId,
    appPrivateKey: config.alipay.appPrivateKey,
    alipayPublicKey: config.alipay.alipayPublicKey,
    gatewayUrl: config.alipay.gatewayUrl,
    signType: config.alipay.signType,
    timeoutMs: config.alipay.timeoutMs,
    logger,
  });
}

/** Deps for a role: its prisma, logger, queues and metrics, an Alipay client from its config. */
export function createOrderDeps<Q extends Queues | undefined = undefined>(opts: {
  prisma: PrismaClient;
  config: Config;
  metrics: DomainMetrics;
  logger?: Logger;
  queues?: Q;
  alipay?: OrderAlipay;
  batching?: OrderBatching;
  intakeBatching?: IntakeBatching;
}): OrderDeps & { queues: Q } {
  return {
    prisma: opts.prisma,
    alipay: opts.alipay ?? alipayFromConfig(opts.config, opts.logger, opts.prisma, opts.metrics),
    logger: opts.logger,
    queues: opts.queues as Q,
    config: opts.config,
    batching: opts.batching,
    intakeBatching: opts.intakeBatching,
    metrics: opts.metrics,
  };
}
