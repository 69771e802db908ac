// The staff commands on orders and notifications, as CommandSpecs: each one calls core/orders and
// translates its result into a report. Nothing here decides a status.
import { checkPayment, closeOrder, redriveNotification, type CommandResult, type OrderDeps } from "../../core/orders/index.ts";
import type { CommandReport, CommandSpec } from "./command.ts";

function fromResult(r: CommandResult): CommandReport {
  return { outcome: r.outcome, detail: r.reason };
}

/** Statuses where asking Alipay can still change something (a late payment after a close included). */
const CHECKABLE = new Set(["UNPAID", "CLOSED", "CANCELLED"]);

export function orderCommands(deps: OrderDeps): CommandSpec[] {
  return [
    {
      resourceId: "Order",
      name: "checkPayment",
      icon: "RefreshCw",
      intro: "checkPaymentIntro",
      appliesTo: (record) => CHECKABLE.has(String(record.get("status"))),
      run: async ({ id, staff }) => fromResult(await checkPayment(deps, { orderId: id, source: "staff", actor: staff.email })),
    },
    {
      resourceId: "Order",
      name: "closeOrder",
      icon: "XCircle",
      intro: "closeOrderIntro",
      withReason: true,
      appliesTo: (record) => record.get("status") === "UNPAID",
      run: async ({ id, staff, reason }) => fromResult(await closeOrder(deps, { orderId: id, source: "staff", actor: staff.email, reason })),
    },
    {
      resourceId: "PaymentNotification",
      name: "redrive",
      icon: "Repeat",
      intro: "redriveIntro",
      appliesTo: (record) => record.get("verified") === true && ["failed", "pending"].includes(String(record.get("outcome"))),
      run: async ({ id, staff }) => {
        const { jobId } = await redriveNotification(deps, { notificationId: id, actor: staff.email });
        return { outcome: "redriven", detail: `job ${jobId}` };
      },
    },
  ];
}
