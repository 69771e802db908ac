// The refund commands of the back office, as CommandSpecs (actions/command.ts): 退款 / Refund on a paid
// order, approve / reject on a refund awaiting approval. Each calls core/refunds, which enforces the
// rules on the server — the role, the four eyes (the approver is an admin above the threshold and
// never the requester), the amount guard — whatever the buttons show.
import type { BaseRecord } from "adminjs";
import { parseYuan } from "../../core/money/index.ts";
import { approveRefund, rejectRefund, requestRefund, RefundRefusedError, REFUSALS, type RefundDeps } from "../../core/refunds/index.ts";
import type { CommandReport, CommandSpec } from "./command.ts";

const REFUNDABLE = new Set(["PAID", "PARTIALLY_REFUNDED"]);

/** Empty amount = everything not yet refunded; anything else must be yuan with at most two decimals. */
function amountOf(text: string | undefined): number | null | "invalid" {
  const t = (text ?? "").trim();
  if (!t) return null;
  const fen = parseYuan(t);
  return fen === null || fen < 1 ? "invalid" : fen;
}

const refused = (e: RefundRefusedError): CommandReport => ({ outcome: "refused", detail: `${e.zh} / ${e.message}` });

export function refundCommands(deps: RefundDeps): CommandSpec[] {
  return [
    {
      resourceId: "Order",
      name: "refund",
      icon: "RotateCcw",
      intro: "refundIntro",
      withReason: true,
      withAmount: true,
      appliesTo: (record: BaseRecord) => REFUNDABLE.has(String(record.get("status"))),
      run: async ({ id, staff, reason, amount }) => {
        const amountFen = amountOf(amount);
        if (amountFen === "invalid") return { outcome: "refused", detail: `${REFUSALS.badAmount.zh} / ${REFUSALS.badAmount.en}` };
        try {
          const r = await requestRefund(deps, { orderId: id, amountFen, reason: reason ?? "", source: "staff", actor: staff.email });
          return { outcome: r.state === "AWAITING_APPROVAL" ? "refundAwaitingApproval" : "refundQueued", detail: `¥${(r.amountFen / 100).toFixed(2)} · ${r.outRequestNo}` };
        } catch (e) {
          if (e instanceof RefundRefusedError) return refused(e);
          throw e;
        }
      },
    },
    {
      resourceId: "Refund",
      name: "approveRefund",
      icon: "CheckCircle",
      intro: "approveRefundIntro",
      appliesTo: (record: BaseRecord) => record.get("state") === "AWAITING_APPROVAL",
      run: async ({ id, staff }) => {
        try {
          await approveRefund(deps, { refundId: id, actor: { email: staff.email, role: staff.role } });
          return { outcome: "refundApproved" };
        } catch (e) {
          if (e instanceof RefundRefusedError) return refused(e);
          throw e;
        }
      },
    },
    {
      resourceId: "Refund",
      name: "rejectRefund",
      icon: "XCircle",
      intro: "rejectRefundIntro",
      withReason: true,
      appliesTo: (record: BaseRecord) => record.get("state") === "AWAITING_APPROVAL",
      run: async ({ id, staff, reason }) => {
        try {
          await rejectRefund(deps, { refundId: id, actor: { email: staff.email, role: staff.role }, reason: reason ?? "" });
          return { outcome: "refundRejected" };
        } catch (e) {
          if (e instanceof RefundRefusedError) return refused(e);
          throw e;
        }
      },
    },
  ];
}
