// Staff actions on a bill difference, audited on the difference (who, when, note) and, when the
// order or the refund changes, on the order's timeline through their state machines:
//   trustAlipay  — ask Alipay now and let the state machines apply the answer: for payments the
//                  existing payment check (alipay.trade.query → core/orders); for refunds the refund
//                  query (alipay.trade.fastpay.refund.query → core/refunds settleRefund, which moves
//                  the order through core/orders); a refund made outside coursepay that Alipay
//                  confirms is recorded by core/refunds as an external refund row under the bill's
//                  number. The difference is resolved when our record now agrees with Alipay;
//                  otherwise it stays open with Alipay's answer as the reason.
//   markResolved — close it with a required note (e.g. settled outside coursepay).
import type { Refund } from "@prisma/client";
import type { RefundQueryOk } from "../alipay/client.ts";
import { CommandRefusedError } from "../orders/errors.ts";
import { checkPayment, type CommandResult, type OrderDeps } from "../orders/index.ts";
import { evidenceFromRefundQuery } from "../refunds/evidence.ts";
import { recordExternalRefund, settleRefund, type RefundDeps } from "../refunds/commands.ts";
import { loadRefundByRequestNo } from "../refunds/store.ts";
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

/**
 * The order state machine's reasons (core/orders/reasons.ts) for a query answer about an order paid
 * here that shows Alipay has our payment: a paid trade of our amount (perhaps refunded since). Any
 * other answer — ACQ.TRADE_NOT_EXIST ("order.no_trade_already"), an anomaly, unknown — leaves a
 * "paid here, not in the bill" difference open.
 */
const ALIPAY_HAS_OUR_PAYMENT = new Set(["order.already_trade", "order.refund_known", "order.refund_reported"]);

export async function trustAlipay(
  deps: OrderDeps & { refunds?: RefundDeps },
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
    // paid_not_here is settled when the order is paid now; paid_not_in_bill when Alipay's answer
    // changed nothing (it confirms our payment) — an anomaly or an unknown answer leaves it open. An
    // amount difference is never settled by the query: the bill's 商家实收 (what we received) is not
    // the trade's total_amount the query reports, so a query agreeing with our order does not explain
    // it; staff explain it and mark it resolved with a note.
    const settled = d.kind === "paid_not_here" ? paid : d.kind === "paid_not_in_bill" && paid && ALIPAY_HAS_OUR_PAYMENT.has(r.why.code);
    if (settled) {
      await resolveDifference(deps.prisma, {
        differenceId: d.id, actor: input.actor,
        note: `trust Alipay: alipay.trade.query applied through the order state machine → ${r.outcome} (${r.reason}); order ${r.order.status}`,
      });
    }
    const reason = d.kind === "amount_differs"
      ? `${r.reason}; the bill's 商家实收 is ${d.billAmountFen} fen, the order's ${d.localAmountFen} fen: explain it, then mark this difference resolved with a note`
      : r.reason;
    return { resolved: settled, outcome: r.outcome, reason };
  }
  return trustAlipayOnRefund(deps, { id: d.id, kind: d.kind, orderId: d.orderId, outTradeNo: d.outTradeNo, outRequestNo: d.outRequestNo, billFen: d.billAmountFen }, input.actor);
}

/**
 * Refund differences (refund_not_here, refund_not_at_alipay, a refund's amount_differs): the refund
 * query for the refund's out_request_no. Our refund (a Refund row): the answer is evidence for the
 * refund state machine (core/refunds settleRefund), which decides — an UNKNOWN or SUBMITTED refund
 * Alipay made becomes SUCCEEDED and moves the order once; a SUCCEEDED refund stays SUCCEEDED whatever
 * the answer (final). The difference is resolved when our record then agrees with Alipay's answer.
 * A refund with no Refund row here (made outside coursepay, e.g. in Alipay's merchant console):
 * trustAlipayOnExternalRefund below.
 */
async function trustAlipayOnRefund(
  deps: OrderDeps & { refunds?: RefundDeps },
  d: { id: number; kind: string; orderId: number; outTradeNo: string | null; outRequestNo: string | null; billFen: number | null },
  actor: string,
): Promise<TrustResult> {
  if (!deps.refunds || !d.outRequestNo) throw new CommandRefusedError("no refund query available for this difference");
  const refund = await loadRefundByRequestNo(deps.prisma, d.outRequestNo);
  // Alipay keeps a refund number unique within its trade only: a row of another order is not this refund.
  if (refund && refund.orderId !== d.orderId) throw new CommandRefusedError(`refund ${d.outRequestNo} is recorded for another order (${refund.orderId}): check it by hand`);
  const order = await deps.prisma.order.findUnique({ where: { id: d.orderId }, select: { outTradeNo: true } });
  if (!order) throw new CommandRefusedError("the order of this difference no longer exists");
  const answer = await deps.refunds.alipay.refundQuery({ outTradeNo: order.outTradeNo, outRequestNo: d.outRequestNo });
  const said = answer.kind === "ok"
    ? answer.refundStatus === null ? "no such refund at Alipay" : `${answer.refundStatus} ${answer.refundFen ?? "?"} fen`
    : answer.kind === "unknown" ? `unknown: ${answer.reason}` : `${answer.code} ${answer.subCode}`.trim();
  if (answer.kind !== "ok") return { resolved: false, outcome: "unknown", reason: `refund query: ${said}` };

  if (!refund) return trustAlipayOnExternalRefund(deps.refunds, d, answer, said, actor);
  const evidence = evidenceFromRefundQuery(answer, refund.amountFen);
  const settled = await settleRefund(deps.refunds, refund, evidence, "query", {
    countCheck: true, lastQueryAnswer: JSON.parse(JSON.stringify({ ...answer, at: new Date().toISOString(), by: "bill difference" })),
  });
  const agrees = refundAgreesWithAlipay(settled.refund, answer.refundStatus, answer.refundFen);
  const reason = `refund query: ${said}; refund ${settled.outcome} (${settled.reason}), now ${settled.refund.state}`;
  if (agrees) {
    await resolveDifference(deps.prisma, { differenceId: d.id, actor, note: `trust Alipay: ${reason}; our refund record agrees with Alipay now` });
  }
  return { resolved: agrees, outcome: settled.outcome, reason };
}

/**
 * A refund no row here carries (made outside coursepay, e.g. in Alipay's merchant console): when
 * Alipay's refund query confirms it succeeded, core/refunds records it as an external refund row under
 * the bill's number and the order state machine applies it (once). Resolved when a row with that
 * number now holds Alipay's amount; otherwise open with the reason (the order is not paid here yet —
 * trust Alipay on its payment first —, or an external refund recorded from Alipay's refund total may
 * already hold the money, or the bill's amount differs from Alipay's answer).
 */
async function trustAlipayOnExternalRefund(
  refunds: RefundDeps,
  d: { id: number; orderId: number; outRequestNo: string | null; billFen: number | null },
  answer: RefundQueryOk,
  said: string,
  actor: string,
): Promise<TrustResult> {
  const outRequestNo = d.outRequestNo!;
  const r = await recordExternalRefund(refunds, { orderId: d.orderId, outRequestNo, answer, actor });
  if (!r) throw new CommandRefusedError("the order of this difference no longer exists");
  const base = `refund query: ${said}; no refund of ours carries ${outRequestNo} (made outside coursepay)`;
  let reason: string;
  let resolved = false;
  switch (r.kind) {
    case "not_confirmed":
      reason = `${base}: ${r.reason}; nothing recorded`;
      break;
    case "recorded":
      reason = `${base}: recorded as external refund ${r.refund.id}, order ${r.order.status} with ${r.order.refundedFen} fen refunded`;
      resolved = true;
      break;
    case "identified":
      reason = `${base}: it is external refund ${r.refund.id}, already counted from Alipay's refund total; it now carries this number`;
      resolved = true;
      break;
    case "exists":
      reason = `${base}: refund ${r.refund.id} with this number was recorded meanwhile (${r.refund.state}, ${r.refund.amountFen} fen)`;
      resolved = r.refund.state === "SUCCEEDED" && r.refund.amountFen === answer.refundFen;
      break;
    case "refused":
      reason = `${base}: the order state machine refuses it (${r.reason}); nothing recorded`;
      break;
    case "ambiguous":
      reason = `${base}: external refund(s) ${r.fromTotal.map((u) => `${u.outRequestNo} (${u.amountFen} fen)`).join(", ")} recorded from Alipay's refund total may already hold it; nothing recorded: check them and mark this difference resolved`;
      break;
  }
  // Recorded as Alipay's query says, but the bill says another amount: the books still disagree with
  // the bill, so the difference stays open for staff (no later run is certain to report it).
  if (resolved && d.billFen !== null && answer.refundFen !== d.billFen) {
    reason += `; but the bill says ${d.billFen} fen: left open`;
    resolved = false;
  }
  if (resolved) await resolveDifference(refunds.prisma, { differenceId: d.id, actor, note: `trust Alipay: ${reason}` });
  return { resolved, outcome: r.kind, reason };
}

/** Our refund agrees with Alipay's answer: both say succeeded (same amount), or both say it never happened. */
function refundAgreesWithAlipay(refund: Refund, status: string | null, fen: number | null): boolean {
  if (status === "REFUND_SUCCESS") return refund.state === "SUCCEEDED" && (fen === null || fen === refund.amountFen);
  if (status === null || status === "REFUND_FAIL") return refund.state !== "SUCCEEDED";
  return false;
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
