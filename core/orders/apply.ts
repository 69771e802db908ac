// The persistence half of every status change: read the order, decide (transitions.ts), and write
// the decision — guarded status update, its OrderEvent, the inbox row's outcome — as ONE atomic
// statement (store.ts writeDecision, the only writer of these tables).
//
// Idempotency lives here, in PostgreSQL. The write is a compare-and-set on the state the decision
// was made from (`WHERE status = <expected> AND refunded_fen = <seen>`); if another writer got there
// first, PostgreSQL serialises the two on the row and the loser's guard fails, so it re-reads and
// decides again — and the same evidence, decided on the new state, is a no-op. Anomaly events carry
// a dedupe key under a unique index. Whichever process, job or retry carries the evidence, it
// changes the order at most once.
import type { EventSource, NotificationOutcome, Order, OrderEvent } from "@prisma/client";
import { nowOf, orderSettings, type OrderDeps } from "./deps.ts";
import { ConcurrentChangeError, OrderNotFoundError } from "./errors.ts";
import { isReprocessable, outcomeOfDecision } from "./inbox.ts";
import { nextCheckAt } from "./schedule.ts";
import { readSnapshot, writeDecision, type OrderChanges, type Snapshot, type WritePlan } from "./store.ts";
import { decide, type Decision, type Evidence, type EventType } from "./transitions.ts";
import { because } from "./reasons.ts";
import { reasonPayload } from "../reasons.ts";

export interface ApplyMeta {
  source: EventSource;
  actor?: string;
  /** The inbox row this evidence came from: its outcome is written in the same statement. */
  notificationId?: number;
  /** This application is the result of a payment check: count it and schedule the next one. */
  countsAsCheck?: boolean;
  /** Staff actions leave a trace even when nothing changes: this event type is written then. */
  auditEvent?: EventType;
  /** Extra fields for the event payload (e.g. the staff's reason). */
  payload?: Record<string, unknown>;
}

export interface ApplyResult {
  decision: Decision;
  order: Order;
  event: OrderEvent | null;
  /** Set when the inbox row had already been processed: nothing was done. */
  alreadyProcessed?: NotificationOutcome;
}

/** Compare-and-set retries before giving up (the job's own retry then takes over). */
export const APPLY_MAX_ATTEMPTS = 8;

function evidenceSummary(e: Evidence): Record<string, unknown> {
  if (e.kind !== "trade") return { ...e };
  return {
    kind: e.kind, tradeStatus: e.tradeStatus, totalFen: e.totalFen, tradeNo: e.tradeNo,
    appId: e.appId, sellerId: e.sellerId, refundFen: e.refundFen, paidAt: e.paidAt?.toISOString(),
  };
}

/** Same anomaly, same evidence → one event, however many copies of the notify arrive. */
function anomalyKey(type: string, e: Evidence): string {
  const parts = e.kind === "trade" ? [e.tradeNo, e.tradeStatus, e.totalFen, e.appId, e.sellerId, e.refundFen] : [e.kind];
  return `${type}|${parts.map((v) => v ?? "").join("|")}`.slice(0, 200);
}

/** What to write for a decision taken on `order` (null: nothing to write). */
function planFor(deps: OrderDeps, order: Order, decision: Decision, evidence: Evidence, meta: ApplyMeta, now: Date): WritePlan | null {
  const settings = orderSettings(deps);
  const notificationId = meta.notificationId ?? null;
  const payload = { ...reasonPayload(decision), evidence: evidenceSummary(evidence), ...meta.payload };
  const base = { source: meta.source, actor: meta.actor ?? "", notificationId };
  const changes: OrderChanges = {};
  let event: WritePlan["event"];

  if (decision.kind === "transition") {
    Object.assign(changes, decision.patch, { status: decision.to, nextCheckAt: null });
    event = { ...base, type: decision.event, fromStatus: decision.from, toStatus: decision.to, payload: { ...payload, anomaly: decision.anomaly } };
  } else {
    if (decision.kind === "anomaly") {
      if (!order.needsReview) changes.needsReview = true;
      event = { ...base, type: decision.event, fromStatus: order.status, toStatus: order.status, payload, dedupeKey: anomalyKey(decision.event, evidence) };
    } else if (meta.auditEvent) {
      event = { ...base, type: meta.auditEvent, fromStatus: order.status, toStatus: order.status, payload: { ...payload, result: decision.kind } };
    }
    if (meta.countsAsCheck && order.status === "UNPAID") {
      changes.countCheck = true;
      changes.nextCheckAt = nextCheckAt(order.expiresAt, order.checkAttempts + 1, now, { firstCheckSeconds: settings.firstCheckSeconds, graceMs: settings.graceMs });
    }
  }
  const outcome = notificationId !== null ? outcomeOfDecision(decision) : null;
  const notification = outcome ? { id: notificationId!, outcome } : undefined;
  if (!event && !notification && Object.keys(changes).length === 0) return null;
  return { orderId: order.id, seen: { status: order.status, refundedFen: order.refundedFen, alipayRefundFeeFen: order.alipayRefundFeeFen }, changes, event, notification, now };
}

/**
 * Decide and persist. `snapshot` may be passed when the caller has just read the order (saves a
 * round trip); it is re-read whenever the write finds the order changed.
 */
export async function applyEvidence(
  deps: OrderDeps,
  ref: number | { outTradeNo: string },
  evidence: Evidence,
  meta: ApplyMeta,
  snapshot?: Snapshot,
): Promise<ApplyResult> {
  const settings = orderSettings(deps);
  const notificationId = meta.notificationId ?? null;
  const orderRef = typeof ref === "number" ? { id: ref } : ref;
  let current = snapshot;
  for (let attempt = 1; ; attempt++) {
    current ??= (await readSnapshot(deps.prisma, orderRef, notificationId)) ?? undefined;
    if (!current) throw new OrderNotFoundError(typeof ref === "number" ? ref : ref.outTradeNo);
    const { order } = current;
    if (current.notificationOutcome && !isReprocessable(current.notificationOutcome)) {
      return {
        decision: { kind: "noop", ...because("order.notification_done", { outcome: current.notificationOutcome }), duplicate: true },
        order, event: null, alreadyProcessed: current.notificationOutcome,
      };
    }
    const now = nowOf(deps);
    const decision = decide(order, evidence, { now, merchant: { appId: deps.alipay.appId, sellerId: deps.alipay.sellerId }, graceMs: settings.graceMs });
    const plan = planFor(deps, order, decision, evidence, meta, now);
    if (!plan) return { decision, order, event: null };
    const written = await (deps.batching ? deps.batching.write(plan) : writeDecision(deps.prisma, plan));
    if (written) {
      if (plan.notification && !written.notificationMarked && decision.kind !== "transition") {
        // Another run of the same job marked the row first; what we wrote is idempotent.
        return { decision, order: written.order, event: written.event, alreadyProcessed: "duplicate" };
      }
      report(deps, decision, written.order, written.event, meta);
      return { decision, order: written.order, event: written.event };
    }
    if (attempt >= APPLY_MAX_ATTEMPTS) throw new ConcurrentChangeError(order.id, attempt);
    current = undefined; // the order changed under us: read it again and decide again
  }
}

function report(deps: OrderDeps, d: Decision, order: Order, event: OrderEvent | null, meta: ApplyMeta): void {
  if (d.kind === "transition") {
    deps.metrics.orderTransitions.inc({ from: d.from, to: d.to, source: meta.source });
    if (d.anomaly) deps.metrics.anomalies.inc({ kind: d.event });
    deps.logger?.info({ orderId: order.id, outTradeNo: order.outTradeNo, from: d.from, to: d.to, source: meta.source, actor: meta.actor, event: d.event }, "order status changed");
  } else if (d.kind === "anomaly" && event) {
    deps.metrics.anomalies.inc({ kind: d.event });
    deps.logger?.warn({ orderId: order.id, outTradeNo: order.outTradeNo, anomaly: d.event, reason: d.reason, source: meta.source }, "payment anomaly recorded for staff");
  }
}
