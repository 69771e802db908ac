// What an order's show page adds to the order row: its course lines, its timeline (OrderEvents) and
// the Alipay callbacks received for it — everything staff need to answer "what happened and why"
// on one page. Loaded by the show action's after-hook; the components (components/Order*.ts) render
// these shapes. Each query is by an indexed column and bounded.
import type { Prisma, PrismaClient } from "@prisma/client";
import { DEFAULT_LANGUAGE, type Language } from "../locale/index.ts";
import { localizeReason } from "../locale/reasons.ts";

export interface CourseLine {
  id: number;
  courseId: number;
  courseTitle: string;
  priceFen: number;
  realPriceFen: number;
}

export interface TimelineEntry {
  id: number;
  type: string;
  fromStatus: string | null;
  toStatus: string | null;
  source: string;
  actor: string;
  createdAt: string;
  reason: string | null;
  notificationId: number | null;
}

export interface NotificationRow {
  id: number;
  kind: string;
  receivedAt: string;
  verified: boolean;
  tradeStatus: string | null;
  totalFen: number | null;
  outcome: string;
  reason: string;
}

export interface RefundRow {
  id: number;
  createdAt: string;
  amountFen: number;
  state: string;
  requestedBy: string;
  reason: string;
  approvedBy: string | null;
  rejectedBy: string | null;
  rejectionReason: string | null;
  failureCode: string | null;
  failureMessage: string | null;
}

export interface OrderView {
  refunds: RefundRow[];
  details: CourseLine[];
  timeline: TimelineEntry[];
  notifications: NotificationRow[];
}

const MAX_EVENTS = 500;
const MAX_NOTIFICATIONS = 200;

/**
 * "why" of an event, from its payload: the staff's own words first (as typed), then the rule's reason
 * (its reason code) and any error, in the page's language (locale/reasons.ts).
 */
export function eventReason(payload: Prisma.JsonValue, lang: Language): string | null {
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) return null;
  const p = payload as Record<string, unknown>;
  const text = (v: unknown): v is string => typeof v === "string" && v !== "";
  const parts = [
    ...[p.requestedReason].filter(text),
    ...(text(p.reason) ? [localizeReason(lang, { code: p.reasonCode, params: p.reasonParams, text: p.reason })] : []),
    ...[p.error].filter(text).map((r) => localizeReason(lang, { text: r })),
  ];
  return parts.length ? parts.join(" — ") : null;
}

/** Events name buyers by id ("buyer:4", core/orders); staff know them by email. Staff actors are emails already. */
export async function actorNames(prisma: PrismaClient, actors: string[]): Promise<Map<string, string>> {
  const ids = [...new Set(actors.map((a) => /^buyer:(\d+)$/.exec(a)?.[1]).filter((v): v is string => !!v).map(Number))];
  const buyers = ids.length ? await prisma.user.findMany({ where: { id: { in: ids } }, select: { id: true, email: true } }) : [];
  return new Map(buyers.map((b) => [`buyer:${b.id}`, b.email]));
}

export async function loadOrderView(prisma: PrismaClient, order: { id: number; outTradeNo: string }, lang: Language = DEFAULT_LANGUAGE): Promise<OrderView> {
  const [refunds, details, events, notifications] = await Promise.all([
    prisma.refund.findMany({ where: { orderId: order.id }, orderBy: { id: "asc" } }),
    prisma.orderDetail.findMany({ where: { orderId: order.id }, include: { course: { select: { title: true } } }, orderBy: { id: "asc" } }),
    prisma.orderEvent.findMany({ where: { orderId: order.id }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: MAX_EVENTS }),
    // By out_trade_no (indexed), not order_id: callbacks that named this order but were refused
    // (forged, wrong amount) carry no order_id, and staff need to see them too.
    prisma.paymentNotification.findMany({
      where: { outTradeNo: order.outTradeNo },
      orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
      take: MAX_NOTIFICATIONS,
      select: { id: true, kind: true, receivedAt: true, verified: true, tradeStatus: true, totalFen: true, outcome: true, reason: true },
    }),
  ]);
  const names = await actorNames(prisma, events.map((e) => e.actor));
  return {
    refunds: refunds.map((r) => ({
      id: r.id, createdAt: r.createdAt.toISOString(), amountFen: r.amountFen, state: r.state, requestedBy: r.requestedBy, reason: r.reason,
      approvedBy: r.approvedBy, rejectedBy: r.rejectedBy, rejectionReason: r.rejectionReason, failureCode: r.failureCode, failureMessage: r.failureMessage,
    })),
    details: details.map((d) => ({ id: d.id, courseId: d.courseId, courseTitle: d.course.title, priceFen: d.priceFen, realPriceFen: d.realPriceFen })),
    timeline: events.map((e) => ({
      id: e.id, type: e.type, fromStatus: e.fromStatus, toStatus: e.toStatus, source: e.source, actor: names.get(e.actor) ?? e.actor,
      createdAt: e.createdAt.toISOString(), reason: eventReason(e.payload, lang), notificationId: e.notificationId,
    })),
    notifications: notifications.map((n) => ({ ...n, reason: n.reason ? localizeReason(lang, { text: n.reason }) : n.reason, receivedAt: n.receivedAt.toISOString() })),
  };
}
