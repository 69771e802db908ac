// The staff commands on orders and notifications, as CommandSpecs: each one calls core/orders and
// translates its result into a report. Nothing here decides a status.
import type { NotificationOutcome } from "@prisma/client";
import { checkPayment, closeOrder, isReprocessable, NOTIFICATION_OUTCOMES, redriveNotification, type CommandResult, type OrderDeps } from "../../core/orders/index.ts";
import { because } from "../../core/orders/reasons.ts";
import type { CommandReport, CommandSpec } from "./command.ts";

function fromResult(r: CommandResult): CommandReport {
  return { outcome: r.outcome, why: r.why };
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
      appliesTo: (record) => {
        const outcome = String(record.get("outcome"));
        return record.get("verified") === true && (NOTIFICATION_OUTCOMES as readonly string[]).includes(outcome) && isReprocessable(outcome as NotificationOutcome);
      },
      run: async ({ id, staff }) => {
        const { jobId } = await redriveNotification(deps, { notificationId: id, actor: staff.email });
        return { outcome: "redriven", why: because("order.redrive_queued", { jobId: String(jobId) }).why };
      },
    },
  ];
}
