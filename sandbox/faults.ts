import { randomUUID } from "node:crypto";
import { z } from "zod";

// Fault injection: the failure modes a merchant backend must survive in production (docs/alipay-protocol.md §4 retries
// and duplicates, §5 unknown results / timeouts), made reproducible on demand. A fault is scoped to one
// out_trade_no or global; a per-trade fault is used before a global one of the same kind. Each fault has a
// number of uses (`times`, absent = until cleared); a use is one notify attempt or one gateway call.

export const API_METHODS = [
  "alipay.trade.page.pay",
  "alipay.trade.wap.pay",
  "alipay.trade.query",
  "alipay.trade.close",
  "alipay.trade.refund",
  "alipay.trade.fastpay.refund.query",
  "alipay.data.dataservice.bill.downloadurl.query",
  "alipay.open.app.alipaycert.download",
] as const;
export type SandboxApiMethod = (typeof API_METHODS)[number];

/** Server-to-server methods: the default target of gateway faults (page.pay and wap.pay are opened by a browser). */
export const SERVER_API_METHODS: SandboxApiMethod[] = API_METHODS.filter((m) => m !== "alipay.trade.page.pay" && m !== "alipay.trade.wap.pay");

const times = z.number().int().min(1).max(1_000_000).optional();
const methods = z.array(z.enum(API_METHODS)).min(1).optional();
const yuan = z.string().regex(/^(0|[1-9]\d{0,9})\.\d{2}$/, "expected yuan with two decimals, e.g. 0.01");

export const FaultSpecSchema = z.discriminatedUnion("kind", [
  /** The attempt never reaches the merchant (recorded as dropped); the retry schedule continues. */
  z.object({ kind: z.literal("dropNotify"), times: times.default(1) }).strict(),
  /** Each attempt is sent `copies` times at once (same notify_id), like Alipay's occasional duplicates. */
  z.object({ kind: z.literal("duplicateNotify"), copies: z.number().int().min(2).max(20), times }).strict(),
  /** Each attempt waits `ms` before being sent. */
  z.object({ kind: z.literal("delayNotify"), ms: z.number().int().min(0).max(3_600_000), times }).strict(),
  /** Hold the next `count` first deliveries, then send them newest first (or when maxHoldMs passes). */
  z.object({ kind: z.literal("reorderNotify"), count: z.number().int().min(2).max(100), maxHoldMs: z.number().int().min(1).max(3_600_000).optional() }).strict(),
  /** The sign of each attempt is altered (still valid Base64), so verification must fail. */
  z.object({ kind: z.literal("corruptNotifySignature"), times }).strict(),
  /** The notify reports this total_amount, correctly signed: only the merchant's amount check can catch it. */
  z.object({ kind: z.literal("notifyAmount"), totalAmount: yuan, times }).strict(),
  /** Answer with 20000 isp.unknow-error or 40004 ACQ.SYSTEM_ERROR (result unknown, docs/alipay-protocol.md §5). */
  z.object({ kind: z.literal("gatewayError"), error: z.enum(["isp.unknow-error", "ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR"]), methods, commit: z.boolean().optional(), times }).strict(),
  /** Never answer (until the sandbox closes): the client's timeout path. */
  z.object({ kind: z.literal("hang"), methods, commit: z.boolean().optional(), times }).strict(),
  /** Refunds made while this is active are asynchronous: REFUND_PROCESSING (fund_change N) for `ms`, then settled and notified. */
  z.object({ kind: z.literal("asyncRefund"), ms: z.number().int().min(1).max(3_600_000), times }).strict(),
  /** fastpay.refund.query answers a successful refund WITHOUT refund_status (Alipay's synchronous-refund answer). */
  z.object({ kind: z.literal("refundQueryNoStatus"), times }).strict(),
  /**
   * alipay.trade.refund fails with this business error (nothing is refunded). With onReplay, only a
   * resend of an existing out_request_no gets it (the refund stays made): a merchant must not take
   * an error on a resend as "not refunded".
   */
  z.object({
    kind: z.literal("refundError"),
    error: z.enum(["ACQ.SELLER_BALANCE_NOT_ENOUGH", "ACQ.TRADE_STATUS_ERROR", "ACQ.REASON_TRADE_REFUND_FEE_ERR", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"]),
    onReplay: z.boolean().optional(),
    times,
  }).strict(),
  /** The response is signed wrongly: the client must reject it. */
  z.object({ kind: z.literal("corruptResponseSignature"), methods, times }).strict(),
  /** Answer with an unsigned refusal, as Alipay does for caller-identity errors: no "sign", or `"sign":""`. */
  z
    .object({
      kind: z.literal("unsignedError"),
      error: z.enum(["isv.invalid-app-id", "isv.invalid-signature", "isv.missing-signature-config"]),
      emptySign: z.boolean().optional(),
      methods,
      times,
    })
    .strict(),
  /** Business errors carry their sub_code with the "aop." prefix real gateways sometimes add (aop.ACQ.TRADE_NOT_EXIST). */
  z.object({ kind: z.literal("aopSubCodes"), methods, times }).strict(),
  /** Answers and notifications in GBK (charset=GBK, signed over the GBK bytes), like an app configured for GBK. */
  z.object({ kind: z.literal("gbkCharset"), times }).strict(),
  /** Certificate mode: notifies carry alipay_cert_sn inside the signed text, or not at all (default: outside it). */
  z.object({ kind: z.literal("notifyCertSn"), placement: z.enum(["signed", "absent"]), times }).strict(),
  /** The next payment is by a buyer known by buyer_open_id (newer apps) instead of buyer_id / buyer_user_id. */
  z.object({ kind: z.literal("buyerOpenId"), openId: z.string().min(1).max(128).optional(), times: times.default(1) }).strict(),
]);

export const FaultBodySchema = z
  .object({
    /** omit for a global fault */
    outTradeNo: z.string().min(1).max(64).optional(),
    faults: z.array(FaultSpecSchema).min(1).max(20),
  })
  .strict();

export type FaultBody = z.infer<typeof FaultBodySchema>;
/** A validated fault (defaults applied). */
export type FaultSpec = z.infer<typeof FaultSpecSchema>;
/** What a client may send for one fault. */
export type FaultSpecInput = z.input<typeof FaultSpecSchema>;
/** What a client may send to POST /sandbox/control/faults. */
export type FaultBodyInput = z.input<typeof FaultBodySchema>;
export type FaultKind = FaultSpec["kind"];
type SpecOf<K extends FaultKind> = Extract<FaultSpec, { kind: K }>;

export interface ActiveFault {
  id: string;
  /** null = global, else the out_trade_no it applies to */
  outTradeNo: string | null;
  spec: FaultSpec;
  /** uses left; null = until cleared */
  remaining: number | null;
  createdAt: number;
}

export class FaultStore {
  private faults: ActiveFault[] = [];
  private readonly removedListeners: ((removed: ActiveFault[]) => void)[] = [];

  add(body: FaultBody): ActiveFault[] {
    const added = body.faults.map((spec): ActiveFault => ({
      id: randomUUID(),
      outTradeNo: body.outTradeNo ?? null,
      spec,
      remaining: "times" in spec && spec.times !== undefined ? spec.times : null,
      createdAt: Date.now(),
    }));
    this.faults.push(...added);
    return added;
  }

  list(): ActiveFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Clears all faults, or only those scoped to one out_trade_no. */
  clear(outTradeNo?: string): ActiveFault[] {
    const removed = outTradeNo === undefined ? this.faults : this.faults.filter((f) => f.outTradeNo === outTradeNo);
    this.faults = this.faults.filter((f) => !removed.includes(f));
    this.emitRemoved(removed);
    return removed;
  }

  remove(id: string): void {
    const removed = this.faults.filter((f) => f.id === id);
    this.faults = this.faults.filter((f) => f.id !== id);
    this.emitRemoved(removed);
  }

  onRemoved(listener: (removed: ActiveFault[]) => void): void {
    this.removedListeners.push(listener);
  }

  private emitRemoved(removed: ActiveFault[]): void {
    if (removed.length) for (const l of this.removedListeners) l(removed);
  }

  /** The active fault of `kind` for this trade (trade-scoped first, then global), without using it. */
  peek<K extends FaultKind>(kind: K, outTradeNo: string | null, method?: SandboxApiMethod): (ActiveFault & { spec: SpecOf<K> }) | undefined {
    const matches = (f: ActiveFault) =>
      f.spec.kind === kind && (method === undefined || appliesToMethod(f.spec, method));
    const scoped = outTradeNo === null ? undefined : this.faults.find((f) => f.outTradeNo === outTradeNo && matches(f));
    const found = scoped ?? this.faults.find((f) => f.outTradeNo === null && matches(f));
    return found as (ActiveFault & { spec: SpecOf<K> }) | undefined;
  }

  /** Like peek, but uses one of the fault's `times` (removing it when none are left). */
  take<K extends FaultKind>(kind: K, outTradeNo: string | null, method?: SandboxApiMethod): SpecOf<K> | undefined {
    const f = this.peek(kind, outTradeNo, method);
    if (!f) return undefined;
    if (f.remaining !== null) {
      f.remaining -= 1;
      if (f.remaining <= 0) this.remove(f.id);
    }
    return f.spec;
  }
}

function appliesToMethod(spec: FaultSpec, method: SandboxApiMethod): boolean {
  if (!("methods" in spec)) return true;
  return (spec.methods ?? SERVER_API_METHODS).includes(method);
}
