// Staff commands on bill reconciliation, as CommandSpecs (actions/command.ts): resolve a difference
// by trusting Alipay (core/bills → core/orders, the state machine decides) or with a required note,
// and reconcile a batch's date again now (a new audited attempt, run by the worker).
import type { PrismaClient } from "@prisma/client";
import { createBillQueue, markResolved, trustAlipay } from "../../core/bills/index.ts";
import type { Config } from "../../core/config/index.ts";
import { CommandRefusedError, type OrderDeps } from "../../core/orders/index.ts";
import type { RefundDeps } from "../../core/refunds/index.ts";
import type { CommandSpec } from "./command.ts";

export function billCommands(deps: { orderDeps: OrderDeps; prisma: PrismaClient; config: Pick<Config, "redisUrl" | "redisPrefix">; refunds: RefundDeps }): CommandSpec[] {
  return [
    {
      resourceId: "BillDifference",
      name: "trustAlipay",
      icon: "CheckCircle",
      intro: "trustAlipayIntro",
      appliesTo: (record) => record.get("state") === "open" && record.get("kind") !== "unknown_order",
      run: async ({ id, staff }) => {
        const r = await trustAlipay({ ...deps.orderDeps, refunds: deps.refunds }, { differenceId: id, actor: staff.email });
        return { outcome: r.resolved ? "resolved" : "stillOpen", detail: `${r.outcome}: ${r.reason}` };
      },
    },
    {
      resourceId: "BillDifference",
      name: "markResolved",
      icon: "Check",
      intro: "markResolvedIntro",
      withReason: true,
      appliesTo: (record) => record.get("state") === "open",
      run: async ({ id, staff, reason }) => {
        if (!reason) throw new CommandRefusedError("a note is required");
        await markResolved(deps, { differenceId: id, actor: staff.email, note: reason });
        return { outcome: "resolved" };
      },
    },
    {
      resourceId: "BillBatch",
      name: "reconcileNow",
      icon: "RefreshCw",
      intro: "reconcileNowIntro",
      appliesTo: (record) => record.get("state") !== "running",
      run: async ({ id, staff }) => {
        const batch = await deps.prisma.billBatch.findUnique({ where: { id } });
        if (!batch) throw new CommandRefusedError("no such batch");
        const queue = createBillQueue(deps.config);
        try {
          const jobId = await queue.enqueueDate(batch.billDate, staff.email);
          return { outcome: "queued", detail: `${batch.billDate}, job ${jobId}` };
        } finally {
          await queue.close();
        }
      },
    },
  ];
}
