// Callback intake (docs/architecture.md, "The path of one payment"): what the api does with Alipay's notify and return,
// up to and including the reply. Every callback is written to the inbox (PaymentNotification) before
// Alipay gets an answer; status changes happen later, in the worker, through the state machine.
//
// Reply policy for the notify (Alipay retries anything but exactly `success`, ~8 times over 25 h):
// - verified, for one of our orders, inbox written, apply job enqueued → 200 `success`.
// - inbox write or enqueue failed → 503, not `success`: the retry is how the notify gets through.
// - signature does not verify (forged, corrupted, or OUR key configuration is wrong) or the body
//   cannot be parsed → 400 `failure`. If it is genuine, Alipay's retries arrive again after the fix.
// - verified but failing a merchant check (amount, seller, app) or naming no order of ours →
//   recorded (anomaly event + needs_review when an order matches, via the worker) and answered
//   `success`: Alipay signed exactly this content, so each retry would carry the same mismatch and
//   change nothing; the record, not the retry, is what staff need. Never marks anything paid.
import type { NotificationOutcome, Order, PrismaClient } from "@prisma/client";
import { declaredFormCharset, normalizeCharset } from "../alipay/charset.ts";
import type { KeyLookup } from "../alipay/certs.ts";
import { tryParseFormBody } from "../alipay/form.ts";
import { parsePaymentNotification, type PaymentNotificationFields } from "../alipay/notification.ts";
import { checkMerchant, type Merchant } from "../alipay/protocol.ts";
import { reasonCode, verifyCallback } from "../alipay/signature.ts";
import { INT4_MAX } from "../db/index.ts";
import type { Logger } from "../logging/index.ts";
import { parseYuan } from "../money/index.ts";
import type { Queues } from "../queues/index.ts";
import { nowOf, type OrderDeps } from "./deps.ts";
import { fitColumn, intakeOutcome, isReprocessable, storableText, storedBody } from "./inbox.ts";
import { insertNotification, loadOrder, moveNotification, recordNotify, type NotifyClassification, type NotifyToRecord } from "./store.ts";

/** The order domain's one dependency object (deps.ts), with the queues intake enqueues on. */
export type IntakeDeps = OrderDeps & { queues: Queues };

/** Our app and seller, as the Alipay client was configured. */
const merchantOf = (deps: IntakeDeps): Merchant => ({ appId: deps.alipay.appId, sellerId: deps.alipay.sellerId });

export interface NotifyReply {
  status: number;
  /** Exactly `success` when Alipay should stop retrying. */
  body: string;
  notificationId: number | null;
  verified: boolean;
  outcome: NotificationOutcome | null;
  reason: string;
}

/** The amount in fen, or null when unparseable or too large for an integer column (it matches no order). */
function fen(value: string | undefined): number | null {
  const v = parseYuan(value);
  return v !== null && v <= INT4_MAX ? v : null;
}

/** A notify body after parsing and signature verification (verifyNotify). */
export interface VerifiedNotify {
  params: Record<string, string>;
  verified: boolean;
  /** Machine code then text, e.g. "signature wrong_key_or_tampered: …" */
  reason: string;
  fields: PaymentNotificationFields | null;
}

/** The key to verify a callback with: by its alipay_cert_sn in certificate mode, else the configured key. */
async function keyForCallback(deps: IntakeDeps, params: Record<string, string>): Promise<KeyLookup> {
  const keyFor = (deps.alipay as { alipayKeyFor?: (sn: string | undefined) => Promise<KeyLookup> }).alipayKeyFor;
  const fallback = deps.config?.alipay.alipayPublicKey ?? "";
  if (!keyFor) return { ok: true, key: fallback, sn: "" };
  const sn = params.alipay_cert_sn;
  return keyFor(typeof sn === "string" && sn !== "" ? sn : undefined);
}

// Certificate mode: a notify may carry alipay_cert_sn inside or outside the signed text; both verify.
const OPTIONAL_SIGNED = ["alipay_cert_sn"];

/** Parse once, verify (rule V1), then type the fields. Nothing is believed before `verified`. */
export async function verifyNotify(deps: IntakeDeps, raw: Buffer | string): Promise<VerifiedNotify> {
  // GBK apps get GBK notifies: the body's own charset parameter says how to decode it (charset.ts).
  const declared = declaredFormCharset(raw);
  const charset = normalizeCharset(declared);
  if (charset === null) return { params: {}, verified: false, reason: storableText(`signature charset: notify declares unsupported charset ${declared}`.slice(0, 300)), fields: null };
  const parsed = tryParseFormBody(raw, { charset });
  if (!parsed.ok) return { params: parsed.error.params, verified: false, reason: storableText(`form ${parsed.error.code}: ${parsed.error.message}`), fields: null };
  const key = await keyForCallback(deps, parsed.params);
  if (!key.ok) return { params: parsed.params, verified: false, reason: storableText(`signature ${key.reason}`.slice(0, 1000)), fields: null };
  const v = verifyCallback(parsed.params, key.key, { optionalParams: OPTIONAL_SIGNED });
  if (!v.valid) return { params: parsed.params, verified: false, reason: storableText(`signature ${v.reason}`), fields: null };
  const f = parsePaymentNotification(parsed.params);
  if (!f.ok) return { params: parsed.params, verified: true, reason: `fields: ${f.errors.join("; ")}`.slice(0, 2000), fields: null };
  return { params: parsed.params, verified: true, reason: "ok", fields: f.fields };
}

/**
 * Inbox outcome and reason of a notify for each order its insert may find (store.ts recordNotify
 * looks the order up and picks one in the same statement). With an order, even a mismatching notify
 * goes to the state machine, which records the anomaly.
 */
function classify(v: VerifiedNotify, merchant: Merchant, now: Date): NotifyClassification {
  const at = (outcome: NotificationOutcome) => (isReprocessable(outcome) ? null : now);
  const noOrder = intakeOutcome("notify", v.verified, false, v.fields !== null);
  const withOrder = intakeOutcome("notify", v.verified, true, v.fields !== null);
  if (!v.verified || !v.fields) {
    return {
      noOrder: { outcome: noOrder, reason: v.reason, processedAt: at(noOrder) },
      withOrder: { outcome: withOrder, reason: v.reason, processedAt: at(withOrder), totalFen: null, amountMismatchFormat: formatLiteral(v.reason) },
    };
  }
  const f = v.fields;
  const problems = checkMerchant(f, merchant);
  const said = (list: string[]) => (list.length ? `merchant check failed: ${list.join("; ")}` : v.reason);
  // The order's amount is known only inside the statement: format()'s %s; the rest is literal text.
  const mismatch = `total_amount ${f.totalFen} fen does not equal the order's %s fen`;
  return {
    noOrder: { outcome: noOrder, reason: said([...problems, `out_trade_no ${f.outTradeNo} is not one of our orders`]), processedAt: at(noOrder) },
    withOrder: {
      outcome: withOrder,
      reason: said(problems),
      processedAt: at(withOrder),
      totalFen: f.totalFen,
      amountMismatchFormat: said([...problems.map(formatLiteral), mismatch]),
    },
  };
}

/** Text as a PostgreSQL format() string that prints it unchanged. */
const formatLiteral = (text: string) => text.replaceAll("%", "%%");

/**
 * `verified`: this body's verifyNotify result, when the caller verified it first (the api does, to
 * count only unverified notifies against an address's limit without verifying twice).
 */
export async function receiveNotify(deps: IntakeDeps, rawBody: Buffer, verified?: VerifiedNotify): Promise<NotifyReply> {
  deps.metrics.callbacksReceived.inc({ kind: "notify" });
  const v = verified ?? (await verifyNotify(deps, rawBody));
  const claimed = fitColumn(v.params.out_trade_no, 64);
  if (v.verified) deps.metrics.callbacksVerified.inc({ kind: "notify" });
  else deps.metrics.callbacksRejected.inc({ kind: "notify", reason: reasonCode(v.reason.replace(/^(signature|form) /, "")) });

  // The order is looked up for unverified bodies too, but only to prompt a query to Alipay, never as evidence.
  const now = nowOf(deps);
  const record = deps.intakeBatching ? deps.intakeBatching.recordNotify : (n: NotifyToRecord, c: NotifyClassification) => recordNotify(deps.prisma, n, c);
  const { id, orderId, outcome, reason } = await record(
    {
      rawBody: storedBody(rawBody, v.verified),
      verified: v.verified,
      notifyId: fitColumn(v.params.notify_id, 128),
      outTradeNo: claimed,
      tradeNo: fitColumn(v.params.trade_no, 64),
      tradeStatus: fitColumn(v.params.trade_status, 32),
      totalFen: fen(v.params.total_amount),
      refundFen: fen(v.params.refund_fee),
      receivedAt: now,
    },
    classify(v, merchantOf(deps), now),
  );
  const log = { notificationId: id, outTradeNo: claimed, notifyId: v.params.notify_id, verified: v.verified, reason };

  if (outcome === "pending") {
    try {
      await (deps.intakeBatching ?? deps.queues).enqueueNotifyApply({ notificationId: id });
    } catch (e) {
      deps.logger?.error({ ...log, err: (e as Error).message }, "notify recorded but not enqueued; asking Alipay to retry");
      // The row is settled later (core/orders/commands.ts settleInbox) if Alipay's retry does not do it first.
      await moveNotification(deps.prisma, id, "failed", { lastError: `enqueue failed: ${(e as Error).message}` }).catch(() => {});
      deps.metrics.notifyReplies.inc({ reply: "retry" });
      return { status: 503, body: "failure", notificationId: id, verified: v.verified, outcome: "failed", reason: "enqueue failed" };
    }
  }

  if (!v.verified) {
    // A forged or unverifiable notify naming a real order: ask Alipay what really happened.
    if (orderId !== null) {
      await deps.queues.enqueuePaymentCheck({ orderId, source: "notify" }).catch((e) =>
        deps.logger?.warn({ ...log, err: (e as Error).message }, "could not enqueue the payment check prompted by an unverified notify"),
      );
    }
    deps.logger?.warn(log, "notify rejected: not verified");
    deps.metrics.notifyReplies.inc({ reply: "failure" });
    return { status: 400, body: "failure", notificationId: id, verified: false, outcome, reason };
  }
  if (reason !== "ok") deps.logger?.warn(log, "verified notify fails merchant checks; recorded, acknowledged");
  else deps.logger?.info(log, "notify recorded");
  deps.metrics.notifyReplies.inc({ reply: "success" });
  return { status: 200, body: "success", notificationId: id, verified: true, outcome, reason };
}

export interface ReturnResult {
  verified: boolean;
  reason: string;
  /** The order, only when the return verified and names one of ours. */
  order: Order | null;
  checkEnqueued: boolean;
}

/**
 * The browser's return from the cashier: verify (rule V1), record, and prompt a payment check.
 * It carries no trade status (docs/alipay-protocol.md §3), so it never changes an order by itself.
 */
export async function receiveReturn(deps: IntakeDeps, rawQuery: string): Promise<ReturnResult> {
  deps.metrics.callbacksReceived.inc({ kind: "return" });
  const parsed = tryParseFormBody(rawQuery, { charset: normalizeCharset(declaredFormCharset(rawQuery)) ?? "utf-8" });
  const params = parsed.ok ? parsed.params : parsed.error.params;
  let verified = false;
  let reason: string;
  if (!parsed.ok) reason = `form ${parsed.error.code}: ${parsed.error.message}`;
  else {
    const key = await keyForCallback(deps, params);
    const r = key.ok ? verifyCallback(params, key.key, { optionalParams: OPTIONAL_SIGNED }) : { valid: false, reason: key.reason };
    verified = r.valid && params.app_id === deps.alipay.appId;
    reason = !r.valid ? `signature ${r.reason}` : verified ? "ok" : `app_id ${params.app_id} is not ours`;
  }
  if (verified) deps.metrics.callbacksVerified.inc({ kind: "return" });
  else deps.metrics.callbacksRejected.inc({ kind: "return", reason: reasonCode(reason.replace(/^(signature|form) /, "")) });
  const claimed = fitColumn(params.out_trade_no, 64);
  const order = verified && claimed ? await loadOrder(deps.prisma, { outTradeNo: claimed }) : null;
  const now = nowOf(deps);
  // A return is never applied: it only prompts a check (its outcome is final at once).
  const outcome = intakeOutcome("return", verified, order !== null, true);
  await insertNotification(deps.prisma, {
    kind: "return", rawBody: storedBody(rawQuery, verified), verified, reason: storableText(reason), outcome,
    notifyId: null, outTradeNo: claimed, orderId: order?.id ?? null, tradeNo: fitColumn(params.trade_no, 64), tradeStatus: null,
    totalFen: fen(params.total_amount), refundFen: null, receivedAt: now, processedAt: isReprocessable(outcome) ? null : now,
  });
  let checkEnqueued = false;
  if (order && order.status === "UNPAID") {
    try {
      await deps.queues.enqueuePaymentCheck({ orderId: order.id, source: "return" });
      checkEnqueued = true;
    } catch (e) {
      // The page still renders; reconciliation will find the payment.
      deps.logger?.warn({ orderId: order.id, err: (e as Error).message }, "could not enqueue the payment check for a return");
    }
  }
  return { verified, reason, order, checkEnqueued };
}
