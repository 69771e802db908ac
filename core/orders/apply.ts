// The persistence half of every status change: lock the order row, decide (transitions.ts), and
// write the guarded update, its OrderEvent and the inbox row's outcome in ONE transaction.
//
// Idempotency lives here, in PostgreSQL: the row lock (SELECT … FOR NO KEY UPDATE) serialises concurrent
// applications to one order, the decision is made on the locked, current row, and the update is
// guarded by `WHERE status = <expected>`. The same evidence applied twice therefore decides "noop"
// the second time, whichever process, job or retry carries it.
import type { EventSource, NotificationOutcome, Order, OrderEvent, Prisma } from "@prisma/client";
import { metrics } from "../metrics/index.ts";
import { nowOf, orderSettings, type OrderDeps } from "./deps.ts";
import { OrderNotFoundError } from "./errors.ts";
import { nextCheckAt } from "./schedule.ts";
import { decide, type Decision, type Evidence, type EventType } from "./transitions.ts";

export interface ApplyMeta {
  source: EventSource;
  actor?: string;
  /** The inbox row this evidence came from: its outcome is written in the same transaction. */
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

const REPROCESSABLE: NotificationOutcome[] = ["pending", "failed"];

/** Inbox outcome for a decision (close_at_alipay_first writes none: the close that follows does). */
function outcomeOf(d: Decision): NotificationOutcome | null {
  switch (d.kind) {
    case "transition": return "applied";
    case "anomaly": return "anomaly";
    case "noop": return d.duplicate ? "duplicate" : "ignored";
    case "unknown": return "ignored";
    case "close_at_alipay_first": return null;
  }
}

function evidenceSummary(e: Evidence): Record<string, unknown> {
  if (e.kind !== "trade") return { ...e };
  return {
    kind: e.kind, tradeStatus: e.tradeStatus, totalFen: e.totalFen, tradeNo: e.tradeNo,
    appId: e.appId, sellerId: e.sellerId, refundFen: e.refundFen, paidAt: e.paidAt?.toISOString(),
  };
}

/** Same anomaly, same evidence → one event, however many copies of the notify arrive. */
function anomalyFingerprint(e: Evidence): string {
  return e.kind === "trade" ? [e.tradeNo, e.tradeStatus, e.totalFen, e.appId, e.sellerId, e.refundFen].map((v) => v ?? "").join("|") : e.kind;
}

export async function applyEvidence(deps: OrderDeps, orderId: number, evidence: Evidence, meta: ApplyMeta): Promise<ApplyResult> {
  const settings = orderSettings(deps);
  const now = nowOf(deps);
  const actor = meta.actor ?? "";
  const result = await deps.prisma.$transaction(
    async (tx): Promise<ApplyResult> => {
      // NO KEY UPDATE: serialises appliers of this order without blocking inserts that merely
      // reference it (inbox rows and events take KEY SHARE on the order for their foreign key).
      const locked = await tx.$queryRaw<{ id: number }[]>`SELECT id FROM "order" WHERE id = ${orderId} FOR NO KEY UPDATE`;
      if (locked.length === 0) throw new OrderNotFoundError(orderId);
      let order = (await tx.order.findUnique({ where: { id: orderId } }))!;

      if (meta.notificationId !== undefined) {
        const row = await tx.paymentNotification.findUnique({ where: { id: meta.notificationId }, select: { outcome: true } });
        if (row && !REPROCESSABLE.includes(row.outcome)) {
          return { decision: { kind: "noop", reason: `notification already ${row.outcome}`, duplicate: true }, order, event: null, alreadyProcessed: row.outcome };
        }
      }

      const decision = decide(order, evidence, { now, merchant: { appId: deps.alipay.appId, sellerId: deps.alipay.sellerId }, graceMs: settings.graceMs });
      const basePayload = { reason: decision.reason, evidence: evidenceSummary(evidence), ...meta.payload };
      let event: OrderEvent | null = null;
      const orderData: Prisma.OrderUpdateManyMutationInput = {};

      if (decision.kind === "transition") {
        Object.assign(orderData, decision.patch, { status: decision.to, nextCheckAt: null });
        const updated = await tx.order.updateMany({ where: { id: orderId, status: decision.from }, data: orderData });
        // Cannot happen under the row lock; if it ever does, roll back rather than write a false event.
        if (updated.count !== 1) throw new Error(`guarded update of order ${orderId} from ${decision.from} matched ${updated.count} rows`);
        event = await tx.orderEvent.create({
          data: {
            orderId, type: decision.event, fromStatus: decision.from, toStatus: decision.to, source: meta.source, actor,
            notificationId: meta.notificationId ?? null, payload: { ...basePayload, anomaly: decision.anomaly } as Prisma.InputJsonObject,
          },
        });
      } else {
        if (decision.kind === "anomaly") {
          const fingerprint = anomalyFingerprint(evidence);
          const seen = await tx.orderEvent.findFirst({
            where: { orderId, type: decision.event, payload: { path: ["fingerprint"], equals: fingerprint } },
            select: { id: true },
          });
          if (!seen) {
            event = await tx.orderEvent.create({
              data: {
                orderId, type: decision.event, fromStatus: order.status, toStatus: order.status, source: meta.source, actor,
                notificationId: meta.notificationId ?? null, payload: { ...basePayload, fingerprint } as Prisma.InputJsonObject,
              },
            });
          }
          orderData.needsReview = true;
        }
        if (meta.countsAsCheck && order.status === "UNPAID") {
          const attempts = order.checkAttempts + 1;
          orderData.checkAttempts = attempts;
          orderData.nextCheckAt = nextCheckAt(order.expiresAt, attempts, now, { firstCheckSeconds: settings.firstCheckSeconds, graceMs: settings.graceMs });
        }
        if (Object.keys(orderData).length) await tx.order.updateMany({ where: { id: orderId }, data: orderData });
        if (!event && meta.auditEvent) {
          event = await tx.orderEvent.create({
            data: {
              orderId, type: meta.auditEvent, fromStatus: order.status, toStatus: order.status, source: meta.source, actor,
              notificationId: meta.notificationId ?? null, payload: { ...basePayload, result: decision.kind } as Prisma.InputJsonObject,
            },
          });
        }
      }

      const outcome = meta.notificationId !== undefined ? outcomeOf(decision) : null;
      if (outcome) {
        await tx.paymentNotification.update({
          where: { id: meta.notificationId },
          data: { outcome, processedAt: now, attempts: { increment: 1 }, lastError: null, orderId },
        });
      }
      if (Object.keys(orderData).length) order = (await tx.order.findUnique({ where: { id: orderId } }))!;
      return { decision, order, event };
    },
    { maxWait: 10_000, timeout: 20_000 },
  );

  const d = result.decision;
  if (d.kind === "transition") {
    metrics.orderTransitions.inc({ from: d.from, to: d.to, source: meta.source });
    if (d.anomaly) metrics.anomalies.inc({ kind: d.event });
    deps.logger?.info({ orderId, outTradeNo: result.order.outTradeNo, from: d.from, to: d.to, source: meta.source, actor, event: d.event }, "order status changed");
  } else if (d.kind === "anomaly" && result.event) {
    metrics.anomalies.inc({ kind: d.event });
    deps.logger?.warn({ orderId, outTradeNo: result.order.outTradeNo, anomaly: d.event, reason: d.reason, source: meta.source }, "payment anomaly recorded for staff");
  }
  return result;
}
