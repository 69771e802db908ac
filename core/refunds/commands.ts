// Refund commands, in the imperative-shell style of core/orders/commands.ts: load, ask Alipay if
// needed (never while holding a lock), let the rules decide (transitions.ts), persist through the
// one writer (store.ts). The admin, the buyer API and the worker call these; none re-implements a rule.
import { randomBytes } from "node:crypto";
import type { EventSource, Order, PrismaClient, Refund, RefundSource } from "@prisma/client";
import type { AlipayClient, RefundQueryOk } from "../alipay/client.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logging/index.ts";
import type { DomainMetrics } from "../metrics/port.ts";
import { decide, type Decision, type Evidence } from "../orders/transitions.ts";
import type { Queues } from "../queues/index.ts";
import { evidenceFromRefundAnswer, evidenceFromRefundQuery } from "./evidence.ts";
import { failureText, refusal, RefundRefusedError } from "./messages.ts";
import { reasonPayload } from "../reasons.ts";
import * as store from "./store.ts";
import {
  decideRefund, initialState, nextRefundCheckAt, refundWindowOpen, REFUND_EVENT,
  type Actor, type EvidenceSource, type RefundCommand, type RefundDecision, type RefundEvidence, type RefundFacts, type RefundRules,
} from "./transitions.ts";

export interface RefundDeps {
  prisma: PrismaClient;
  alipay: Pick<AlipayClient, "appId" | "sellerId" | "refund" | "refundQuery">;
  queues?: Queues;
  logger?: Logger;
  rules: RefundRules & { windowDays: number };
  now?: () => Date;
  /** What refunds count (core/metrics/port.ts): the roles pass the Prometheus adapter, tests may pass noMetrics. */
  metrics: RefundMetrics;
}

/** What core/refunds counts. */
export type RefundMetrics = Pick<DomainMetrics, "refunds">;

// Same defaults as core/config (REFUND_APPROVAL_ABOVE_YUAN, REFUND_WINDOW_DAYS, REFUND_QUERY_DELAY_SECONDS).
/** The refund rules of a configuration (its defaults are core/config's alone). */
export function refundRulesFrom(config: Pick<Config, "refunds">): RefundDeps["rules"] {
  const r = config.refunds;
  return { approvalAboveFen: r.approvalAboveFen, windowDays: r.windowDays, settleDelayMs: r.settleDelaySeconds * 1000 };
}

export function createRefundDeps(opts: {
  prisma: PrismaClient; alipay: RefundDeps["alipay"]; config: Pick<Config, "refunds">; metrics: RefundMetrics; queues?: Queues; logger?: Logger; now?: () => Date;
}): RefundDeps {
  return { prisma: opts.prisma, alipay: opts.alipay, queues: opts.queues, logger: opts.logger, rules: refundRulesFrom(opts.config), now: opts.now, metrics: opts.metrics };
}

const nowOf = (deps: RefundDeps) => deps.now?.() ?? new Date();

/** 128 random bits, made once per refund and sent with every call for it. `rf_` + 32 hex = 35 chars. */
export function newOutRequestNo(): string {
  return `rf_${randomBytes(16).toString("hex")}`;
}

/** The refund as the rules see it; otherRefundsFen matters only to approve / reject (the four-eyes threshold). */
const facts = (r: Refund, otherRefundsFen = 0): RefundFacts => ({
  state: r.state, amountFen: r.amountFen, source: r.source, requestedBy: r.requestedBy, lastCallAt: r.lastCallAt, unsettledCalls: r.unsettledCalls,
  otherRefundsFen,
});

/** The order state machine's context for refund evidence (no expiry rule applies to paid orders). */
const orderContext = (deps: RefundDeps, now: Date) => ({ now, merchant: { appId: deps.alipay.appId, sellerId: deps.alipay.sellerId }, graceMs: 0 });

/** A SUCCEEDED refund row (ours or external) as evidence for its order: refunded_fen grows by exactly its amount, once. */
const succeededDecision = (deps: RefundDeps, now: Date) => (o: Order, r: Pick<Refund, "amountFen" | "outRequestNo">): Decision =>
  decide(o, { kind: "refund_succeeded", refundFen: r.amountFen, outRequestNo: r.outRequestNo }, orderContext(deps, now));

/** External refunds revealed by Alipay's refund_fee, recorded in the same transaction (store.ts). */
const externalRefunds = (deps: RefundDeps, now: Date, source: EventSource, outBizNo?: string | null): store.ExternalRefunds =>
  ({ decide: succeededDecision(deps, now), source, outBizNo });

/** How long a QUEUED refund's job may take before the sweep enqueues it again (lost job, crash). */
const QUEUED_LEASE_MS = 60_000;

// ---- creating -------------------------------------------------------------------------------------

export interface RequestRefundInput {
  orderId: number;
  /** null: everything not yet refunded */
  amountFen: number | null;
  reason: string;
  source: RefundSource;
  /** staff email or buyer:<id> */
  actor: string;
  /** buyers: the order must be theirs, inside the refund window */
  buyerId?: number;
}

export async function requestRefund(deps: RefundDeps, input: RequestRefundInput): Promise<Refund> {
  const reason = input.reason.trim().replace(/\s+/g, " ").slice(0, 256);
  if (!reason) throw refusal("reasonRequired", 400);
  if (input.amountFen !== null && (!Number.isSafeInteger(input.amountFen) || input.amountFen < 1)) throw refusal("badAmount", 400);
  const order = await deps.prisma.order.findUnique({ where: { id: input.orderId }, select: { id: true, buyerId: true, totalFen: true, refundedFen: true, status: true } });
  if (!order || (input.source === "buyer" && order.buyerId !== input.buyerId)) throw refusal("orderNotFound", 404);
  if (input.source === "buyer") {
    const pending = await deps.prisma.refund.count({ where: { orderId: order.id, source: "buyer", state: "AWAITING_APPROVAL" } });
    if (pending > 0) throw refusal("pendingRequest");
  }
  const now = nowOf(deps);
  // The default amount is read now; the insert re-checks it under the order's lock.
  const amountFen = input.amountFen ?? (await store.refundableFen(deps.prisma, order));
  if (amountFen < 1) throw refusal("nothingLeft");
  const eventSource: EventSource = input.source === "buyer" ? "buyer" : "staff";
  const inserted = await store.insertRefund(
    deps.prisma,
    {
      orderId: order.id, outRequestNo: newOutRequestNo(), amountFen, source: input.source, reason, requestedBy: input.actor, now,
      stateFor: (otherRefundsFen) => initialState(input.source, amountFen, otherRefundsFen, deps.rules),
      nextCheckAtFor: (state) => (state === "QUEUED" ? new Date(now.getTime() + QUEUED_LEASE_MS) : null),
      event: { type: REFUND_EVENT.requested, source: eventSource, payload: { reason } },
    },
    (locked) => (input.source === "buyer" && !refundWindowOpen(locked.paidAt, now, deps.rules.windowDays) ? "window" : null),
  );
  if (!inserted.ok) {
    if (inserted.reason === "order_not_found") throw refusal("orderNotFound", 404);
    if (inserted.reason === "not_refundable") throw refusal("notRefundable");
    if (inserted.reason === "refused") throw refusal("windowClosed", 403, `${deps.rules.windowDays} days`);
    throw inserted.refundableFen > 0 ? refusal("exceeds", 409, `≤ ${(inserted.refundableFen / 100).toFixed(2)}`) : refusal("nothingLeft");
  }
  const refund = inserted.refund;
  deps.metrics.refunds.inc({ event: "requested", source: input.source });
  deps.logger?.info({ refundId: refund.id, orderId: order.id, outRequestNo: refund.outRequestNo, amountFen, state: refund.state, actor: input.actor }, "refund requested");
  if (refund.state === "QUEUED") await enqueue(deps, refund.id, "submit");
  return refund;
}

async function enqueue(deps: RefundDeps, refundId: number, action: "submit" | "check"): Promise<void> {
  if (!deps.queues) return;
  try {
    await deps.queues.enqueueRefund({ refundId, action });
  } catch (e) {
    // next_check_at is set: the worker's sweep enqueues it on a later tick.
    deps.logger?.warn({ refundId, action, err: (e as Error).message }, "refund job not enqueued; the sweep will pick the refund up");
  }
}

// ---- four eyes ----------------------------------------------------------------------------------

async function loadOrRefuse(deps: RefundDeps, refundId: number): Promise<Refund> {
  const r = await store.loadRefund(deps.prisma, refundId);
  if (!r) throw refusal("refundNotFound", 404);
  return r;
}

function refusedBy(d: RefundDecision): never {
  // The admin says d.why in the page's language; the API (and logs) read the English sentence.
  const reason = d.kind === "refused" ? d.reason : "not allowed";
  throw new RefundRefusedError("notAllowed", { zh: `不允许：${reason}`, en: `Not allowed: ${reason}` }, 403, d.kind === "refused" ? d.why : undefined);
}

export async function approveRefund(deps: RefundDeps, input: { refundId: number; actor: Actor }): Promise<Refund> {
  const refund = await loadOrRefuse(deps, input.refundId);
  const now = nowOf(deps);
  const d = decideRefund(facts(refund, await store.otherRefundsFen(deps.prisma, refund)), { kind: "approve", actor: input.actor }, { ...deps.rules, now });
  if (d.kind !== "transition") refusedBy(d);
  const written = await store.writeRefund(deps.prisma, {
    now,
    refund: {
      id: refund.id, expectState: refund.state,
      changes: { state: d.to, approvedBy: input.actor.email, approvedAt: now, nextCheckAt: new Date(now.getTime() + QUEUED_LEASE_MS) },
      event: { type: d.event, source: "staff", actor: input.actor.email, notificationId: null, payload: reasonPayload(d) },
    },
  });
  if (!written) throw refusal("refundNotFound", 409, "changed meanwhile, reload");
  deps.logger?.info({ refundId: refund.id, actor: input.actor.email }, "refund approved");
  await enqueue(deps, refund.id, "submit");
  return written.refund!;
}

export async function rejectRefund(deps: RefundDeps, input: { refundId: number; actor: Actor; reason: string }): Promise<Refund> {
  const refund = await loadOrRefuse(deps, input.refundId);
  const reason = input.reason.trim().slice(0, 500);
  if (!reason) throw refusal("reasonRequired", 400);
  const now = nowOf(deps);
  const d = decideRefund(facts(refund, await store.otherRefundsFen(deps.prisma, refund)), { kind: "reject", actor: input.actor, reason }, { ...deps.rules, now });
  if (d.kind !== "transition") refusedBy(d);
  const written = await store.writeRefund(deps.prisma, {
    now,
    refund: {
      id: refund.id, expectState: refund.state,
      changes: { state: d.to, rejectedBy: input.actor.email, rejectedAt: now, rejectionReason: reason, nextCheckAt: null },
      event: { type: d.event, source: "staff", actor: input.actor.email, notificationId: null, payload: { reason } },
    },
  });
  if (!written) throw refusal("refundNotFound", 409, "changed meanwhile, reload");
  deps.logger?.info({ refundId: refund.id, actor: input.actor.email }, "refund rejected");
  return written.refund!;
}

// ---- talking to Alipay (worker) ---------------------------------------------------------------------

export type SettleOutcome = "succeeded" | "failed" | "processing" | "requeued" | "unknown" | "unchanged" | "skipped";

export interface SettleResult {
  outcome: SettleOutcome;
  refund: Refund;
  reason: string;
}

const EVENT_SOURCE: Record<EvidenceSource, EventSource> = { call: "system", query: "reconcile", notify: "notify" };

/** What a refund notify carries besides "this refund succeeded": the trade evidence (refund_fee) for the order. */
export interface NotifyContext {
  notificationId: number;
  /** The notify as order evidence (core/orders evidenceFromNotify). */
  evidence: Evidence;
  outBizNo: string | null;
}

/**
 * Apply one piece of evidence about a refund: decide, write (CAS on the refund's state, retried on
 * the fresh row when another writer got there first). `extra` are bookkeeping columns written in
 * any case (the answer as received, the next check time). Each write also records the external
 * refunds Alipay's refund_fee reveals (store.ts), since a refund of ours leaving flight can reveal them.
 */
export async function settleRefund(
  deps: RefundDeps,
  refund: Refund,
  evidence: RefundEvidence,
  from: EvidenceSource,
  extra: store.RefundChanges = {},
  notify?: NotifyContext,
): Promise<SettleResult> {
  let current = refund;
  for (let attempt = 1; attempt <= 8; attempt++) {
    const now = nowOf(deps);
    const d = decideRefund(facts(current), { kind: "evidence", evidence, from }, { ...deps.rules, now });
    const changes: store.RefundChanges = { ...extra };
    let event: store.NewOrderEvent | undefined;
    let orderDecision: store.RefundWrite["orderDecision"];
    let outcome: SettleOutcome = "unchanged";
    const base = { source: EVENT_SOURCE[from], actor: "", notificationId: notify?.notificationId ?? null };
    if (d.kind === "transition") {
      changes.state = d.to;
      event = { ...base, type: d.event, payload: { ...reasonPayload(d), from: current.state, to: d.to, evidence: from, anomaly: d.anomaly } };
      switch (d.to) {
        case "SUCCEEDED":
          Object.assign(changes, { succeededAt: now, settledBy: from, nextCheckAt: null });
          orderDecision = succeededDecision(deps, now);
          outcome = "succeeded";
          break;
        case "FAILED": {
          const code = evidence.kind === "failed" ? evidence.code : null;
          const message = evidence.kind === "failed" ? evidence.message : null;
          const text = failureText(code, message);
          Object.assign(changes, { failedAt: now, settledBy: from, nextCheckAt: null, failureCode: code?.slice(0, 64) ?? null, failureMessage: message?.slice(0, 500) ?? null });
          event.payload = { ...event.payload, failureCode: code, zh: text.zh, en: text.en };
          outcome = "failed";
          break;
        }
        case "QUEUED":
          // The query found no refund data: the next call is a first one again (transitions.ts).
          Object.assign(changes, { nextCheckAt: new Date(now.getTime() + QUEUED_LEASE_MS), knownAbsent: true });
          outcome = "requeued";
          break;
        case "UNKNOWN":
          // A business error on a resend is left to the refund query, after the settle delay.
          changes.nextCheckAt ??= evidence.kind === "failed" ? nextRefundCheckAt(now, 0, deps.rules.settleDelayMs) : nextRefundCheckAt(now, current.checks, deps.rules.settleDelayMs);
          outcome = "unknown";
          break;
        case "SUBMITTED":
          changes.nextCheckAt ??= nextRefundCheckAt(now, current.checks, deps.rules.settleDelayMs);
          outcome = "processing";
          break;
      }
    } else if (d.kind === "anomaly") {
      event = { ...base, type: d.event, payload: reasonPayload(d), dedupeKey: `${d.event}|${current.id}` };
    } else {
      outcome = evidence.kind === "unknown" ? "unknown" : evidence.kind === "processing" ? "processing" : "unchanged";
    }
    if (d.kind !== "transition" && Object.keys(changes).length === 0 && !notify && !event) {
      return { outcome, refund: current, reason: d.reason };
    }
    const written = await store.writeRefund(deps.prisma, {
      now,
      refund: { id: current.id, expectState: current.state, changes, event },
      orderDecision,
      orderEvidence: notify ? (o) => decide(o, notify.evidence, orderContext(deps, now)) : undefined,
      orderEvent: { source: EVENT_SOURCE[from], actor: "", payload: { evidence: from } },
      flagOrder: d.kind === "anomaly" || (d.kind === "transition" && d.anomaly),
      external: externalRefunds(deps, now, EVENT_SOURCE[from], notify?.outBizNo && notify.outBizNo !== current.outRequestNo ? notify.outBizNo : null),
      notification: notify ? { id: notify.notificationId, outcome: d.kind === "transition" ? "applied" : d.kind === "anomaly" ? "anomaly" : "duplicate" } : undefined,
    });
    if (written) {
      if (d.kind === "transition") {
        deps.metrics.refunds.inc({ event: d.to.toLowerCase(), source: from });
        deps.logger?.info({ refundId: current.id, outRequestNo: current.outRequestNo, from: d.from, to: d.to, evidence: from, reason: d.reason,
          orderStatus: written.order.status }, "refund state changed");
      }
      reportExternal(deps, written);
      return { outcome, refund: written.refund!, reason: d.reason };
    }
    const fresh = await store.loadRefund(deps.prisma, current.id);
    if (!fresh) throw new Error(`refund ${current.id} disappeared`);
    current = fresh;
  }
  throw new Error(`refund ${refund.id} kept changing while settling; retry later`);
}

function reportExternal(deps: RefundDeps, written: store.RefundWriteResult): void {
  for (const x of written.external) {
    deps.metrics.refunds.inc({ event: "external", source: "alipay" });
    deps.logger?.warn({ orderId: x.orderId, refundId: x.id, outRequestNo: x.outRequestNo, amountFen: x.amountFen, orderStatus: written.order.status },
      "refund made outside coursepay recorded");
  }
}

/**
 * A refund notify (or other order evidence carrying refund_fee) that names none of our refunds — a
 * console refund, a notify without out_biz_no — for an order already paid here: the state machine
 * records Alipay's cumulative refund_fee, and what our refunds cannot account for becomes an external
 * refund row, in one transaction with the inbox row's outcome.
 */
export async function applyRefundEvidence(deps: RefundDeps, input: { orderId: number; notify?: NotifyContext; outBizNo?: string | null; source: EventSource }): Promise<store.RefundWriteResult | null> {
  const now = nowOf(deps);
  const written = await store.writeRefund(deps.prisma, {
    now,
    orderId: input.orderId,
    orderEvidence: input.notify ? (o) => decide(o, input.notify!.evidence, orderContext(deps, now)) : undefined,
    orderEvent: { source: input.source, actor: "", payload: { evidence: input.source } },
    external: externalRefunds(deps, now, input.source, input.notify?.outBizNo ?? input.outBizNo),
    notification: input.notify ? { id: input.notify.notificationId, outcome: "duplicate" } : undefined,
  });
  if (written) reportExternal(deps, written);
  return written;
}

/**
 * A refund made outside coursepay (Alipay's merchant console) that Alipay's daily bill shows under
 * its number, confirmed by a refund query for that number (`answer`): recorded as an external
 * SUCCEEDED row carrying the number, and the order moves through its state machine — once, whoever
 * asks and however often (store.ts recordConfirmedExternalRefund says when nothing is recorded).
 * `actor` is the staff member who asked (the timeline shows it).
 */
export async function recordExternalRefund(
  deps: RefundDeps,
  input: { orderId: number; outRequestNo: string; answer: RefundQueryOk; actor: string },
): Promise<store.ConfirmedExternalResult | { kind: "not_confirmed"; reason: string } | null> {
  const a = input.answer;
  if (a.refundStatus !== "REFUND_SUCCESS" || a.refundFen === null || a.refundFen <= 0) {
    return { kind: "not_confirmed", reason: `Alipay's refund query does not confirm a succeeded refund ${input.outRequestNo} (${a.refundStatus ?? "no refund data"})` };
  }
  if (a.outRequestNo && a.outRequestNo !== input.outRequestNo) {
    return { kind: "not_confirmed", reason: `Alipay answered about refund ${a.outRequestNo}, not ${input.outRequestNo}` };
  }
  const now = nowOf(deps);
  const r = await store.recordConfirmedExternalRefund(deps.prisma, {
    orderId: input.orderId, outRequestNo: input.outRequestNo, amountFen: a.refundFen, source: "staff", actor: input.actor, now,
    decide: succeededDecision(deps, now),
  });
  if (r?.kind === "recorded" || r?.kind === "identified") {
    if (r.kind === "recorded") deps.metrics.refunds.inc({ event: "external", source: "alipay" });
    deps.logger?.warn({ orderId: input.orderId, refundId: r.refund.id, outRequestNo: input.outRequestNo, amountFen: a.refundFen, how: r.kind, actor: input.actor },
      "refund made outside coursepay recorded from Alipay's bill");
  }
  return r;
}

/** Thrown by submitRefund when the outcome is unknown, so the job is retried (same out_request_no). */
export class RefundOutcomeUnknownError extends Error {
  constructor(readonly refundId: number, reason: string) {
    super(`refund ${refundId}: outcome unknown (${reason}); retried with the same out_request_no`);
    this.name = "RefundOutcomeUnknownError";
  }
}

/**
 * The worker's submit job: mark the refund SUBMITTED (attempts + 1, before the call: a crash after
 * the call then leaves a SUBMITTED refund that the retry or the sweep settles), call
 * alipay.trade.refund with the refund's fixed out_request_no, apply the answer.
 */
export async function submitRefund(deps: RefundDeps, input: { refundId: number; retryUnknown: boolean }): Promise<SettleResult> {
  let refund = await loadOrRefuse(deps, input.refundId);
  const order = await deps.prisma.order.findUnique({ where: { id: refund.orderId }, select: { outTradeNo: true } });
  if (!order) throw new Error(`refund ${refund.id}: order ${refund.orderId} missing`);
  // Decide on the refund as it is; should it change meanwhile (a query requeued it while this job was
  // starting), decide again on the fresh row: this job may be the only one (a new submit job for the
  // same refund is deduplicated while this one runs).
  let marked: store.RefundWriteResult | null = null;
  let now = nowOf(deps);
  for (let attempt = 1; !marked; attempt++) {
    now = nowOf(deps);
    const d = decideRefund(facts(refund), { kind: "dispatch" }, { ...deps.rules, now });
    if (d.kind !== "transition") return { outcome: "skipped", refund, reason: d.reason };
    marked = await store.writeRefund(deps.prisma, {
      now,
      refund: {
        id: refund.id, expectState: refund.state,
        changes: {
          state: "SUBMITTED", countAttempt: true, lastCallAt: now, submittedAt: refund.submittedAt ?? now,
          // If this process dies now, the sweep asks Alipay after the settle delay.
          nextCheckAt: nextRefundCheckAt(now, 0, deps.rules.settleDelayMs),
        },
        event: refund.state === "QUEUED"
          ? { type: REFUND_EVENT.submitted, source: "system", actor: "", notificationId: null, payload: { reason: d.reason, attempt: refund.attempts + 1 } }
          : undefined,
      },
    });
    if (!marked) {
      if (attempt >= 4) return { outcome: "skipped", refund, reason: "changed meanwhile" };
      refund = await loadOrRefuse(deps, input.refundId);
    }
  }
  refund = marked.refund!;
  const answer = await deps.alipay.refund({ outTradeNo: order.outTradeNo, refundFen: refund.amountFen, outRequestNo: refund.outRequestNo, reason: refund.reason });
  const evidence = evidenceFromRefundAnswer(answer);
  const result = await settleRefund(deps, refund, evidence, "call", { lastCallAnswer: answerRecord(answer) });
  // Only a truly unknown answer is worth the same call again; a business error on a resend is left
  // to the refund query (calling again would get the same error).
  if (result.outcome === "unknown" && evidence.kind === "unknown" && input.retryUnknown) throw new RefundOutcomeUnknownError(refund.id, result.reason);
  return result;
}

/**
 * The sweep's check job: a QUEUED refund (its job was lost) is submitted; a SUBMITTED or UNKNOWN one
 * is settled by alipay.trade.fastpay.refund.query with its out_request_no.
 */
export async function checkRefund(deps: RefundDeps, input: { refundId: number }): Promise<SettleResult> {
  const refund = await loadOrRefuse(deps, input.refundId);
  if (refund.state === "QUEUED") {
    await enqueue(deps, refund.id, "submit");
    return { outcome: "unchanged", refund, reason: "queued: submit job enqueued" };
  }
  if (refund.state !== "SUBMITTED" && refund.state !== "UNKNOWN") return { outcome: "skipped", refund, reason: `already ${refund.state}` };
  const order = await deps.prisma.order.findUnique({ where: { id: refund.orderId }, select: { outTradeNo: true } });
  if (!order) throw new Error(`refund ${refund.id}: order ${refund.orderId} missing`);
  const answer = await deps.alipay.refundQuery({ outTradeNo: order.outTradeNo, outRequestNo: refund.outRequestNo });
  const evidence = evidenceFromRefundQuery(answer, refund.amountFen);
  const now = nowOf(deps);
  const result = await settleRefund(deps, refund, evidence, "query", {
    countCheck: true,
    lastQueryAnswer: answerRecord(answer),
    nextCheckAt: nextRefundCheckAt(now, refund.checks + 1, deps.rules.settleDelayMs),
  });
  if (result.outcome === "requeued") await enqueue(deps, refund.id, "submit");
  return result;
}

/** What is kept of an answer: the verified fields (dates as ISO), never anything secret. */
function answerRecord(answer: unknown): unknown {
  return JSON.parse(JSON.stringify({ ...(answer as object), at: new Date().toISOString() }));
}
