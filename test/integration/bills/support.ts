// Shared set-up of the bill reconciliation tests: a sandbox, a Prisma client on the run's database,
// the order commands' deps on them, helpers to make a payment on both sides on a chosen Beijing day.
import { randomBytes } from "node:crypto";
import type { OrderStatus, PrismaClient } from "@prisma/client";
import type { BillSettings } from "../../../core/config/index.ts";
import { createPrisma } from "../../../core/db/index.ts";
import { addDays, beijingDay, type BillDeps } from "../../../core/bills/index.ts";
import { loadConfig } from "../../../core/config/index.ts";
import { noMetrics, type BillMetrics } from "../../../core/metrics/port.ts";
import type { OrderDeps } from "../../../core/orders/index.ts";
import { BillControl } from "../../../sandbox/bill/control-client.ts";
import { coreClient, openTrade, startSandbox, type TestSandbox } from "../sandbox/helpers.ts";

export const SETTINGS: BillSettings = { fetchAt: "10:00", giveUpAt: "18:00", retryMinutes: 30, pendingDays: 0, catchUpDays: 7, leaseSeconds: 600, schedule: false };

/** A Beijing time on day `d` (yyyy-MM-dd), ISO 8601 with +08:00. */
export const at = (d: string, hms: string) => `${d}T${hms}+08:00`;
/** The Beijing day `n` days before today. Each test takes days no other test (or file) uses. */
export const daysAgo = (n: number) => addDays(beijingDay(new Date()), -n);

/** A BillMetrics port that keeps what was counted, as `name{label=value}` → total. */
export function recordingMetrics(): { metrics: BillMetrics; counted: Map<string, number> } {
  const counted = new Map<string, number>();
  const counter = (name: string) => ({
    inc(labels: Record<string, string | number>, value = 1) {
      const key = `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",")}}`;
      counted.set(key, (counted.get(key) ?? 0) + value);
    },
  });
  return { metrics: { billRuns: counter("runs"), billAlerts: counter("alerts"), billDifferences: counter("differences") }, counted };
}

export interface BillWorld {
  t: TestSandbox;
  bills: BillControl;
  prisma: PrismaClient;
  buyerId: number;
  /** The order commands on this sandbox (checkPayment, applyTradeStatus…); settings are loadConfig's defaults. */
  orderDeps: OrderDeps;
  deps(overrides?: Partial<Omit<BillDeps, "settings">> & { settings?: Partial<BillSettings> }): BillDeps;
  /** A trade paid at Alipay at `alipayAt` (ISO); locally `local` (status, paid_at). Returns out_trade_no. */
  payment(input: { totalFen: number; alipayAt: string | null; local: { status: OrderStatus; paidAt?: string | null; totalFen?: number } | null }): Promise<string>;
  close(): Promise<void>;
}

export async function billWorld(): Promise<BillWorld> {
  const t = await startSandbox();
  const bills = new BillControl(t.url);
  await bills.configure({ readyAfterMinutes: 0 });
  const prisma = createPrisma(process.env.DATABASE_URL!);
  const buyer = await prisma.user.create({ data: { email: `bill-${randomBytes(4).toString("hex")}@example.com`, passwordHash: "x" } });
  // Order settings come from loadConfig only (its defaults; keys are not needed by these commands).
  const orderDeps: OrderDeps = { prisma, alipay: coreClient(t.gatewayUrl), config: loadConfig(process.env, { needAlipayKeys: false }), metrics: noMetrics };
  return {
    t, bills, prisma, buyerId: buyer.id, orderDeps,
    deps(o = {}) {
      const { settings, ...rest } = o;
      return { prisma, alipay: coreClient(t.gatewayUrl), settings: { ...SETTINGS, ...settings }, metrics: noMetrics, ...rest };
    },
    async payment(input) {
      const outTradeNo = `bt_${randomBytes(8).toString("hex")}`;
      let tradeNo: string | null = null;
      if (input.alipayAt) {
        await openTrade(t, null, { outTradeNo, totalFen: input.totalFen });
        const paid = await t.control.pay(outTradeNo);
        tradeNo = paid.trade.tradeNo;
        await bills.setCompletion(outTradeNo, { paidAt: input.alipayAt });
      }
      if (input.local) {
        await prisma.order.create({
          data: {
            outTradeNo, buyerId: buyer.id, subject: "bill test", totalFen: input.local.totalFen ?? input.totalFen, status: input.local.status,
            paidAt: input.local.paidAt ? new Date(input.local.paidAt) : null, tradeNo: input.local.status === "UNPAID" ? null : tradeNo,
            expiresAt: new Date(Date.now() - 3600_000),
          },
        });
      }
      return outTradeNo;
    },
    async close() {
      await prisma.$disconnect();
      await t.close();
    },
  };
}
