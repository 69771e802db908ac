// The refund commands of the back office, as CommandSpecs (actions/command.ts): 退款 / Refund on a paid
// order, approve / reject on a refund awaiting approval. Each calls core/refunds, which enforces the
// rules on the server — the role, the four eyes (the approver is an admin above the threshold and
// never the requester), the amount guard — whatever the buttons show.
import type { BaseRecord } from "adminjs";
import { fenToYuan, parseYuan } from "../../core/money/index.ts";
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

/** core/refunds' refusal as a report: the state machine's reason code when it gave one, else its text in both languages. */
const refused = (e: RefundRefusedError): CommandReport =>
  e.why ? { outcome: "refused", why: e.why } : { outcome: "refused", text: { zh: e.zh, en: e.message } };

/** Runs a refund command: a refusal from core/refunds becomes the report; anything else goes on to command.ts, which logs it. */
async function refusable(run: () => Promise<CommandReport>): Promise<CommandReport> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof RefundRefusedError) return refused(e);
    throw e;
  }
}

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
      run: ({ id, staff, reason, amount }) => refusable(async () => {
        const amountFen = amountOf(amount);
        if (amountFen === "invalid") return { outcome: "refused", text: REFUSALS.badAmount };
        const r = await requestRefund(deps, { orderId: id, amountFen, reason: reason ?? "", source: "staff", actor: staff.email });
        return { outcome: r.state === "AWAITING_APPROVAL" ? "refundAwaitingApproval" : "refundQueued", detail: `¥${fenToYuan(r.amountFen)} · ${r.outRequestNo}` };
      }),
    },
    {
      resourceId: "Refund",
      name: "approveRefund",
      icon: "CheckCircle",
      intro: "approveRefundIntro",
      appliesTo: (record: BaseRecord) => record.get("state") === "AWAITING_APPROVAL",
      run: ({ id, staff }) => refusable(async () => {
        await approveRefund(deps, { refundId: id, actor: { email: staff.email, role: staff.role } });
        return { outcome: "refundApproved" };
      }),
    },
    {
      resourceId: "Refund",
      name: "rejectRefund",
      icon: "XCircle",
      intro: "rejectRefundIntro",
      withReason: true,
      appliesTo: (record: BaseRecord) => record.get("state") === "AWAITING_APPROVAL",
      run: ({ id, staff, reason }) => refusable(async () => {
        await rejectRefund(deps, { refundId: id, actor: { email: staff.email, role: staff.role }, reason: reason ?? "" });
        return { outcome: "refundRejected" };
      }),
    },
  ];
}
