// Order commands, in the imperative-shell style: load, ask Alipay if needed (never while holding
// anything in the database), let the state machine decide, persist atomically (apply.ts). Every role —
// api routes, worker processors, admin actions — calls these; none re-implements a rule.
import { randomBytes } from "node:crypto";
import type { EventSource, Order, OrderEvent, PaymentNotification } from "@prisma/client";
import { parseFormBody } from "../alipay/form.ts";
import { parsePaymentNotification } from "../alipay/notification.ts";
import type { CheckSource } from "../queues/index.ts";
import { applyEvidence, type ApplyMeta, type ApplyResult } from "./apply.ts";
import { nowOf, orderSettings, type OrderDeps } from "./deps.ts";
import { CommandRefusedError, NotificationNotFoundError, OrderInputError, OrderNotFoundError } from "./errors.ts";
import { isReprocessable } from "./inbox.ts";
import { closeVerdict, evidenceFromNotify, evidenceFromQuery } from "./evidence.ts";
import { firstCheckAt } from "./schedule.ts";
import * as store from "./store.ts";
import type { OrderWithDetails } from "./store.ts";
import type { PayChannel } from "../alipay/client.ts";
import { EVENT, type Evidence } from "./transitions.ts";
import { because, type OrderWhy } from "./reasons.ts";

export type CommandOutcome = "paid" | "closed" | "cancelled" | "refunded" | "anomaly" | "unchanged" | "unknown";

export interface CommandResult {
  outcome: CommandOutcome;
  order: Order;
  /** The event written (transition, anomaly, or the staff audit event), if any. */
  event?: OrderEvent | null;
  /** Why, in words (the decision's reason). */
  reason: string;
  /** The same, as a code and parameters (core/orders/reasons.ts): what the admin says in the page's language. */
  why: OrderWhy;
}

export type { CheckSource };

function toResult(r: ApplyResult): CommandResult {
  const d = r.decision;
  let outcome: CommandOutcome;
  switch (d.kind) {
    case "transition":
      outcome = d.to === "PAID" ? "paid" : d.to === "CLOSED" ? "closed" : d.to === "CANCELLED" ? "cancelled" : "refunded";
      break;
    case "anomaly": outcome = "anomaly"; break;
    case "unknown": outcome = "unknown"; break;
    default: outcome = "unchanged";
  }
  return { outcome, order: r.order, event: r.event, reason: d.reason, why: d.why };
}

async function loadOrder(deps: OrderDeps, orderId: number): Promise<Order> {
  // In the worker, the reads of concurrent checks share one statement (batching.ts).
  const order = await (deps.batching ? deps.batching.readOrder(orderId) : store.loadOrder(deps.prisma, { id: orderId }));
  if (!order) throw new OrderNotFoundError(orderId);
  return order;
}

/**
 * Apply evidence about the order with this out_trade_no. If the state machine says "close at Alipay
 * first" (WAIT_BUYER_PAY past expiry), the close happens here, then its result is applied.
 */
export async function applyTradeStatus(
  deps: OrderDeps,
  input: { outTradeNo: string; evidence: Evidence; source: EventSource; actor?: string; notificationId?: number },
): Promise<CommandResult> {
  const meta: ApplyMeta = { source: input.source, actor: input.actor, notificationId: input.notificationId };
  const r = await applyEvidence(deps, { outTradeNo: input.outTradeNo }, input.evidence, meta);
  if (r.decision.kind === "close_at_alipay_first") return closeAtAlipay(deps, r.order, "CLOSED", { ...meta, source: "expiry" });
  return toResult(r);
}

/**
 * Ask Alipay (alipay.trade.query) and apply the answer. Counts as a check of the order (check_attempts,
 * next_check_at). Staff checks always leave an event with the actor, even when nothing changes.
 */
export async function checkPayment(
  deps: OrderDeps,
  input: { orderId: number; source: CheckSource; actor?: string },
): Promise<CommandResult> {
  const order = await loadOrder(deps, input.orderId);
  const source: EventSource = input.source;
  const audit = input.source === "staff" ? EVENT.paymentChecked : undefined;
  if (input.source === "reconcile" && order.status !== "UNPAID") {
    // A check queued before the order was settled by other evidence: nothing to ask.
    if (order.nextCheckAt) await store.clearNextCheck(deps.prisma, order.id, order.status, nowOf(deps));
    deps.metrics.paymentChecks.inc({ source, result: "skipped" });
    return { outcome: "unchanged", order, ...because("order.already", { status: order.status }) };
  }
  const answer = await deps.alipay.queryTrade(order.outTradeNo);
  const evidence = evidenceFromQuery(answer);
  const meta: ApplyMeta = { source, actor: input.actor, countsAsCheck: true, auditEvent: audit };
  // The order as read before the query is the snapshot; if it changed meanwhile, the write says so.
  const r = await applyEvidence(deps, order.id, evidence, meta, { order, notificationOutcome: null });
  const result = r.decision.kind === "close_at_alipay_first"
    ? await closeAtAlipay(deps, r.order, "CLOSED", { ...meta, countsAsCheck: false, source: input.source === "staff" ? "staff" : "expiry" })
    : toResult(r);
  deps.metrics.paymentChecks.inc({ source, result: result.outcome });
  if (result.outcome === "unknown") deps.logger?.warn({ orderId: order.id, outTradeNo: order.outTradeNo, reason: result.reason }, "payment check inconclusive; will retry");
  return result;
}

/** Staff/system close of an unpaid order: close at Alipay first; if Alipay says it is paid → PAID instead. */
export async function closeOrder(
  deps: OrderDeps,
  input: { orderId: number; source: EventSource; actor?: string; reason?: string },
): Promise<CommandResult> {
  const order = await loadOrder(deps, input.orderId);
  return closeAtAlipay(deps, order, "CLOSED", {
    source: input.source,
    actor: input.actor,
    auditEvent: input.source === "staff" ? EVENT.closeRequested : undefined,
    payload: input.reason ? { requestedReason: input.reason } : undefined,
  });
}

/** Buyer cancel → CANCELLED through the same close-first logic. Other buyers' orders are "not found". */
export async function cancelOrder(deps: OrderDeps, input: { orderId: number; buyerId: number }): Promise<CommandResult> {
  const order = await deps.prisma.order.findFirst({ where: { id: input.orderId, buyerId: input.buyerId } });
  if (!order) throw new OrderNotFoundError(input.orderId);
  return closeAtAlipay(deps, order, "CANCELLED", { source: "buyer", actor: `buyer:${input.buyerId}` });
}

/**
 * Close at Alipay, then locally. An order that is no longer UNPAID is left alone (the state machine
 * would say noop anyway; this saves the Alipay call). Unknown answers change nothing.
 */
async function closeAtAlipay(deps: OrderDeps, order: Order, target: "CLOSED" | "CANCELLED", meta: ApplyMeta): Promise<CommandResult> {
  if (order.status !== "UNPAID") {
    const evidence: Evidence = { kind: "closed_at_alipay", target };
    return toResult(await applyEvidence(deps, order.id, evidence, meta));
  }
  const verdict = closeVerdict(await deps.alipay.closeTrade(order.outTradeNo));
  let evidence: Evidence;
  if (verdict.kind === "closed") evidence = { kind: "closed_at_alipay", target };
  else if (verdict.kind === "unknown") evidence = { kind: "unknown", reason: verdict.reason };
  else {
    evidence = evidenceFromQuery(await deps.alipay.queryTrade(order.outTradeNo));
    // Still open although the close was refused: we cannot tell what happened.
    if (evidence.kind === "trade" && evidence.tradeStatus === "WAIT_BUYER_PAY") evidence = { kind: "unknown", reason: verdict.reason };
  }
  const r = await applyEvidence(deps, order.id, evidence, meta);
  if (r.decision.kind === "close_at_alipay_first") {
    return toResult({ ...r, decision: { kind: "unknown", ...because("order.still_open") } });
  }
  return toResult(r);
}

/** An inbox row with the order it names, read once for every applier of the worker's notify job. */
export function loadInboxRow(deps: OrderDeps, notificationId: number): Promise<store.InboxRow | null> {
  return deps.batching ? deps.batching.readInbox(notificationId) : store.loadNotificationWithOrder(deps.prisma, notificationId);
}

/**
 * Apply one inbox row (the worker's notify job). Only verified rows are applied; evidence is re-read
 * from the raw body (parsed once, the same way the api verified it), never from derived columns.
 */
export async function applyNotification(
  deps: OrderDeps,
  input: { notificationId: number },
  /** The row as the caller just read it (loadInboxRow), to save a round trip; read here when absent. */
  preloaded?: store.InboxRow | null,
): Promise<CommandResult | { outcome: "skipped"; reason: string }> {
  const loaded = preloaded !== undefined ? preloaded : await store.loadNotificationWithOrder(deps.prisma, input.notificationId);
  if (!loaded) throw new NotificationNotFoundError(input.notificationId);
  const { notification: row, order } = loaded;
  if (!isReprocessable(row.outcome)) return { outcome: "skipped", reason: `already ${row.outcome}` };
  const reject = async (reason: string) => {
    await store.moveNotification(deps.prisma, row.id, "rejected", { reason: row.reason || reason, processedAt: nowOf(deps) });
    return { outcome: "skipped" as const, reason };
  };
  if (!row.verified) return reject("not verified");
  const parsed = parsePaymentNotification(parseFormBody(row.rawBody));
  if (!parsed.ok) return reject(`unparseable: ${parsed.errors.join("; ")}`);
  const { outTradeNo } = parsed.fields;
  const meta: ApplyMeta = { source: "notify", notificationId: row.id };
  try {
    // The api linked the row to the order its verified out_trade_no names: reuse that read.
    const snapshot = order && order.outTradeNo === outTradeNo ? { order, notificationOutcome: row.outcome } : undefined;
    const r = await applyEvidence(deps, { outTradeNo }, evidenceFromNotify(parsed.fields), meta, snapshot);
    if (r.decision.kind === "close_at_alipay_first") return closeAtAlipay(deps, r.order, "CLOSED", { ...meta, source: "expiry" });
    return toResult(r);
  } catch (e) {
    if (e instanceof OrderNotFoundError) return reject("unknown out_trade_no");
    throw e;
  }
}

/** Re-enqueue the apply job of an inbox row that failed or never ran; recorded as an event. */
export async function redriveNotification(
  deps: OrderDeps,
  input: { notificationId: number; actor: string },
): Promise<{ jobId: string; notification: PaymentNotification }> {
  if (!deps.queues) throw new Error("redriveNotification needs deps.queues");
  const row = await deps.prisma.paymentNotification.findUnique({ where: { id: input.notificationId } });
  if (!row) throw new NotificationNotFoundError(input.notificationId);
  if (!row.verified) throw new CommandRefusedError(because("order.redrive_unverified"));
  if (!isReprocessable(row.outcome)) throw new CommandRefusedError(because("order.redrive_processed", { outcome: row.outcome }));
  const notification = await store.requeueNotification(deps.prisma, { id: row.id, source: "staff", actor: input.actor, now: nowOf(deps) });
  if (!notification) throw new CommandRefusedError(because("order.redrive_meanwhile"));
  const jobId = await deps.queues.enqueueNotifyApply({ notificationId: row.id });
  deps.logger?.info({ notificationId: row.id, actor: input.actor, jobId }, "notification re-driven");
  return { jobId, notification };
}

/**
 * The notify job failed for good (its attempts ran out, or it can never succeed): the inbox row says
 * so, for staff and for settleInbox. Only a pending row moves to failed (inbox.ts).
 */
export async function recordApplyFailure(deps: OrderDeps, input: { notificationId: number; error: string }): Promise<boolean> {
  return store.moveNotification(deps.prisma, input.notificationId, "failed", { lastError: input.error });
}

/** Automatic re-drives of one inbox row before it is left failed for staff. */
export const AUTO_REDRIVE_LIMIT = 3;

export interface InboxUpkeepPolicy {
  /** A verified notify row still pending or failed this long after it arrived is re-driven. */
  settleAfterMs: number;
  /** Unverified rejected rows are deleted this long after they arrived. */
  rejectedRetentionMs: number;
  /** Rows per statement (and per tick for re-drives). */
  batchSize: number;
}

/**
 * Settle the inbox so that staff see only rows that need a person (run on the reconciliation tick):
 * - verified notify rows left pending (the api died between insert and enqueue) or failed (Redis was
 *   down; an apply failed for good) are re-driven through the apply job. The state machine then
 *   applies them, or marks them `duplicate` when the order already reflects the same evidence (the
 *   usual case: Alipay's retry was applied as a newer row). A row re-driven AUTO_REDRIVE_LIMIT times
 *   and still failing is left `failed`: that one needs a person.
 * - unverified rejected rows past the retention are deleted (docs/operations.md, "Callback inbox").
 */
export async function settleInbox(deps: OrderDeps, policy: InboxUpkeepPolicy): Promise<{ redriven: number; purged: number }> {
  if (!deps.queues) throw new Error("settleInbox needs deps.queues");
  const now = nowOf(deps).getTime();
  const ids = await store.claimStaleNotifications(deps.prisma, { before: new Date(now - policy.settleAfterMs), maxAttempts: AUTO_REDRIVE_LIMIT, limit: policy.batchSize });
  let redriven = 0;
  for (const id of ids) {
    try {
      await deps.queues.enqueueNotifyApply({ notificationId: id });
      redriven++;
    } catch (e) {
      await store.moveNotification(deps.prisma, id, "failed", { lastError: `re-drive not enqueued: ${(e as Error).message}` });
    }
  }
  if (ids.length) deps.logger?.info({ redriven, claimed: ids.length }, "stale inbox rows re-driven");
  let purged = 0;
  for (let n = policy.batchSize; n === policy.batchSize; purged += n) {
    n = await store.purgeRejectedNotifications(deps.prisma, { before: new Date(now - policy.rejectedRetentionMs), limit: policy.batchSize });
  }
  if (purged) deps.logger?.info({ purged }, "rejected inbox rows past retention deleted");
  return { redriven, purged };
}

// ---- creating orders ----------------------------------------------------------------------------

const MAX_COURSES_PER_ORDER = 50;

/** 128 random bits: unique without coordination, never derived from the clock. `cp_` + 32 hex = 35 chars. */
export function newOutTradeNo(): string {
  return `cp_${randomBytes(16).toString("hex")}`;
}

/** Alipay's subject may not contain / = & (docs/alipay-protocol.md §2) and is at most 256 characters. */
export function orderSubject(titles: string[]): string {
  const clean = (t: string) => t.replace(/[/=&]+/g, " ").replace(/\s+/g, " ").trim();
  const first = clean(titles[0] ?? "") || "course";
  const text = titles.length === 1 ? first : `${first} 等 ${titles.length} 门课程`;
  return text.slice(0, 256);
}

export type { OrderWithDetails };

/** Price the courses from the database (never from the client), create the order, sign its pay URL. */
export async function createOrder(
  deps: OrderDeps,
  input: { buyerId: number; courseIds: number[]; channel?: PayChannel },
): Promise<{ order: OrderWithDetails; payUrl: string }> {
  const settings = orderSettings(deps);
  if (!settings.notifyUrl || !settings.returnUrl) throw new Error("createOrder needs deps.config (notify and return URLs)");
  const ids = [...new Set(input.courseIds)];
  if (ids.length === 0) throw new OrderInputError("choose at least one course", [{ path: "courseIds", message: "empty" }]);
  if (ids.length > MAX_COURSES_PER_ORDER) throw new OrderInputError(`at most ${MAX_COURSES_PER_ORDER} courses per order`);
  const courses = await deps.prisma.course.findMany({ where: { id: { in: ids }, active: true } });
  const missing = ids.filter((id) => !courses.some((c) => c.id === id));
  if (missing.length) {
    throw new OrderInputError(`unknown or unavailable course(s): ${missing.join(", ")}`, [{ path: "courseIds", message: `unknown: ${missing.join(", ")}` }]);
  }
  const ordered = ids.map((id) => courses.find((c) => c.id === id)!);
  const totalFen = ordered.reduce((sum, c) => sum + c.priceFen, 0);
  if (totalFen < 1) throw new OrderInputError("nothing to pay: the total is 0");

  const now = nowOf(deps);
  const expiresAt = new Date(now.getTime() + settings.expiryMinutes * 60_000);
  const order = await store.insertOrder(deps.prisma, {
    order: {
      outTradeNo: newOutTradeNo(),
      buyerId: input.buyerId,
      subject: orderSubject(ordered.map((c) => c.title)),
      totalFen,
      expiresAt,
      nextCheckAt: firstCheckAt(now, expiresAt, { firstCheckSeconds: settings.firstCheckSeconds, graceMs: settings.graceMs }),
    },
    details: ordered.map((c) => ({ courseId: c.id, priceFen: c.priceFen, realPriceFen: c.priceFen })),
    event: { type: EVENT.created, source: "buyer", actor: `buyer:${input.buyerId}`, payload: { totalFen, courseIds: ids } },
  });
  deps.logger?.info({ orderId: order.id, outTradeNo: order.outTradeNo, totalFen }, "order created");
  return { order, payUrl: payUrlFor(deps, order, input.channel)! };
}

/**
 * A freshly signed pay URL for an order the buyer can still pay; null otherwise. `channel` picks the
 * cashier: "page" (computer, alipay.trade.page.pay) or "wap" (phone browser, alipay.trade.wap.pay).
 * Either way it is the same order, the same out_trade_no, notify_url and return_url, so the notify,
 * the return and reconciliation cannot tell them apart.
 */
export function payUrlFor(deps: OrderDeps, order: Order, channel: PayChannel = "page"): string | null {
  const settings = orderSettings(deps);
  if (order.status !== "UNPAID" || order.expiresAt.getTime() <= nowOf(deps).getTime()) return null;
  if (!settings.notifyUrl || !settings.returnUrl) return null;
  const request = {
    outTradeNo: order.outTradeNo,
    totalFen: order.totalFen,
    subject: order.subject,
    expiresAt: order.expiresAt,
    returnUrl: settings.returnUrl,
    notifyUrl: settings.notifyUrl,
  };
  if (channel === "wap" && settings.quitUrl) {
    // A buyer who quits the phone cashier comes back to this order in their orders list.
    const quitUrl = new URL(settings.quitUrl);
    quitUrl.searchParams.set("order", order.outTradeNo);
    return deps.alipay.wapPayUrl({ ...request, quitUrl: quitUrl.toString() });
  }
  return deps.alipay.pagePayUrl(request);
}
