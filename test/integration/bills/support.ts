// Shared set-up of the bill reconciliation tests: a sandbox, a Prisma client on the run's database,
// helpers to make a payment on both sides on a chosen Beijing day.
import { randomBytes } from "node:crypto";
import type { OrderStatus, PrismaClient } from "@prisma/client";
import type { BillSettings } from "../../../core/config/index.ts";
import { createPrisma } from "../../../core/db/index.ts";
import type { BillDeps } from "../../../core/bills/index.ts";
import { BillControl } from "../../../sandbox/bill/control-client.ts";
import { coreClient, openTrade, startSandbox, type TestSandbox } from "../sandbox/helpers.ts";

export const SETTINGS: BillSettings = { fetchAt: "10:00", giveUpAt: "18:00", retryMinutes: 30, pendingDays: 0, catchUpDays: 7, leaseSeconds: 600, schedule: false };

export interface BillWorld {
  t: TestSandbox;
  bills: BillControl;
  prisma: PrismaClient;
  buyerId: number;
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
  return {
    t, bills, prisma, buyerId: buyer.id,
    deps(o = {}) {
      const { settings, ...rest } = o;
      return { prisma, alipay: coreClient(t.gatewayUrl), settings: { ...SETTINGS, ...settings }, ...rest };
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
