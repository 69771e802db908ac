// Staff actions on a bill difference, audited on the difference (who, when, note) and, when the
// order changes, on its timeline through core/orders:
//   trustAlipay  — ask Alipay now (the existing payment check: alipay.trade.query, or the refund
//                  query for refund differences) and let the order state machine apply the answer;
//                  the difference is resolved when the order now agrees with the bill.
//   markResolved — close it with a required note (e.g. settled outside coursepay).
import type { AlipayClient } from "../alipay/client.ts";
import { CommandRefusedError } from "../orders/errors.ts";
import { checkPayment, type CommandResult, type OrderDeps } from "../orders/index.ts";
import { PAID_STATUSES, resolveDifference } from "./store.ts";

export class DifferenceNotFoundError extends Error {
  constructor(readonly differenceId: number) {
    super(`bill difference ${differenceId} not found`);
    this.name = "DifferenceNotFoundError";
  }
}

export interface TrustResult {
  resolved: boolean;
  /** what Alipay's answer did to the order (paid, unchanged, anomaly, unknown…) */
  outcome: string;
  reason: string;
}

const PAYMENT_KINDS = new Set(["paid_not_here", "paid_not_in_bill", "amount_differs"]);

export async function trustAlipay(
  deps: OrderDeps & { refundQuery?: AlipayClient["refundQuery"] },
  input: { differenceId: number; actor: string },
): Promise<TrustResult> {
  const d = await deps.prisma.billDifference.findUnique({ where: { id: input.differenceId } });
  if (!d) throw new DifferenceNotFoundError(input.differenceId);
  if (d.state !== "open") throw new CommandRefusedError(`the difference is already ${d.state}`);
  if (d.kind === "unknown_order" || d.orderId === null) {
    throw new CommandRefusedError("no order here carries this number: nothing to apply Alipay's answer to; investigate and mark it resolved with a note");
  }

  if (PAYMENT_KINDS.has(d.kind) && !(d.kind === "amount_differs" && d.outRequestNo)) {
    const r: CommandResult = await checkPayment(deps, { orderId: d.orderId, source: "staff", actor: input.actor });
    const paid = (PAID_STATUSES as readonly string[]).includes(r.order.status);
    // paid_not_here is settled when the order is paid now; the other kinds when Alipay's answer
    // changed nothing (it confirms our record) — an anomaly or an unknown answer leaves it open.
    const settled = d.kind === "paid_not_here" ? paid : paid && (r.outcome === "unchanged" || r.outcome === "paid");
    if (settled) {
      await resolveDifference(deps.prisma, {
        differenceId: d.id, actor: input.actor,
        note: `trust Alipay: alipay.trade.query applied through the order state machine → ${r.outcome} (${r.reason}); order ${r.order.status}`,
      });
    }
    return { resolved: settled, outcome: r.outcome, reason: r.reason };
  }

  // Refund differences: ask Alipay about the refund and record its answer. Applying a refund to our
  // books is the refund module's decision (its own state machine); this resolves the difference only
  // when our refund record now agrees with the bill.
  if (!deps.refundQuery || !d.outTradeNo || !d.outRequestNo) throw new CommandRefusedError("no refund query available for this difference");
  const answer = await deps.refundQuery({ outTradeNo: d.outTradeNo, outRequestNo: d.outRequestNo });
  const said = answer.kind === "ok" ? `${answer.refundStatus ?? "no such refund"} ${answer.refundFen ?? ""}`.trim() : answer.kind === "unknown" ? `unknown: ${answer.reason}` : `${answer.code} ${answer.subCode}`;
  const agrees = await refundAgrees(deps, d.outRequestNo, d.kind, d.billAmountFen);
  if (agrees) {
    await resolveDifference(deps.prisma, { differenceId: d.id, actor: input.actor, note: `trust Alipay: refund query says ${said}; our refund record agrees now` });
  }
  return { resolved: agrees, outcome: answer.kind === "ok" ? "checked" : answer.kind, reason: `refund query: ${said}` };
}

async function refundAgrees(deps: OrderDeps, outRequestNo: string, kind: string, billFen: number | null): Promise<boolean> {
  const exists = await deps.prisma.$queryRaw<{ ok: boolean }[]>`SELECT to_regclass('refund') IS NOT NULL AS ok`;
  if (!exists[0]?.ok) return false;
  const rows = await deps.prisma.$queryRaw<{ state: string; amount_fen: number }[]>`SELECT state::text, amount_fen FROM refund WHERE out_request_no = ${outRequestNo}`;
  const r = rows[0];
  if (kind === "refund_not_at_alipay") return !r || r.state !== "SUCCEEDED";
  return r?.state === "SUCCEEDED" && (billFen === null || r.amount_fen === billFen);
}

export async function markResolved(deps: Pick<OrderDeps, "prisma">, input: { differenceId: number; actor: string; note: string }): Promise<void> {
  const note = input.note.trim();
  if (!note) throw new CommandRefusedError("a note is required: say why this difference is resolved");
  const d = await deps.prisma.billDifference.findUnique({ where: { id: input.differenceId } });
  if (!d) throw new DifferenceNotFoundError(input.differenceId);
  if (!(await resolveDifference(deps.prisma, { differenceId: d.id, actor: input.actor, note: note.slice(0, 2000) }))) {
    throw new CommandRefusedError(`the difference is already ${d.state}`);
  }
}
