// The "why" of a decision, in the page's language. core/orders and core/refunds give every decision a
// reason code with parameters (core/reasons.ts), stored with its event (payload.reasonCode,
// payload.reasonParams) next to the English sentence. Staff read the code here, through the
// language's table (reasons.zh-CN.ts, reasons.en.ts), with statuses by their labels and amounts in
// yuan. The English sentence is never reworded: a new rule with a new code that has no text fails to
// type-check, and test/unit/admin/reasons.test.ts checks every code has both languages.
//
// Rows written before reason codes carry only the English sentence: legacyWhy() recognises the
// sentences those versions wrote (a frozen list; they can no longer change) and says them through
// the same tables. Anything else (a network error, a gateway code, staff's own words) is shown as it is.
import { OrderStatus, type NotificationOutcome, type RefundState, type StaffRole } from "@prisma/client";
import { TRADE_STATUSES } from "../../core/alipay/protocol.ts";
import type { ORDER_REASONS } from "../../core/orders/reasons.ts";
import type { REFUND_REASONS } from "../../core/refunds/reasons.ts";
import type { ParamsOf, Why } from "../../core/reasons.ts";
import { fenToYuan } from "../../core/money/index.ts";
import { translate, type Language } from "./index.ts";
import en from "./reasons.en.ts";
import zhCN from "./reasons.zh-CN.ts";

type Sentences = typeof ORDER_REASONS & typeof REFUND_REASONS;
export type ReasonCode = keyof Sentences;

/** What a table's texts may use to say a parameter in the page's language. */
export interface Say {
  status(s: OrderStatus): string;
  trade(s: string): string;
  state(s: RefundState): string;
  outcome(o: NotificationOutcome): string;
  role(r: StaffRole): string;
  yuan(fen: number): string;
}

/** One language's texts: every reason code, from its parameters. */
export type ReasonTexts = { [C in ReasonCode]: (p: ParamsOf<Sentences[C]>, say: Say) => string };

export const REASON_TEXTS: Record<Language, ReasonTexts> = { "zh-CN": zhCN, en };

function sayIn(lang: Language): Say {
  return {
    status: (s) => translate(lang, `labels.status.${s}`, s),
    trade: (s) => translate(lang, `labels.tradeStatus.${s}`, s),
    state: (s) => translate(lang, `labels.state.${s}`, s),
    outcome: (o) => translate(lang, `labels.outcome.${o}`, o),
    role: (r) => translate(lang, `labels.role.${r}`, r),
    yuan: (fen) => (Number.isSafeInteger(fen) && fen >= 0 ? `¥${fenToYuan(fen)}` : String(fen)),
  };
}

export function isReasonCode(code: unknown): code is ReasonCode {
  return typeof code === "string" && Object.hasOwn(REASON_TEXTS.en, code);
}

/** A reason code with its parameters in the page's language; null when the code is not known here. */
export function sayWhy(lang: Language, why: Why): string | null {
  if (!isReasonCode(why.code)) return null;
  const text = REASON_TEXTS[lang][why.code] as (p: unknown, say: Say) => string;
  return text(why.params ?? {}, sayIn(lang));
}

/**
 * The reason of a stored event or command result, in the page's language: its code when it has one,
 * else the English sentence of an older row, recognised (legacyWhy) or shown as it is.
 */
export function localizeReason(lang: Language, reason: { code?: unknown; params?: unknown; text?: string | null }): string {
  if (isReasonCode(reason.code)) {
    const params = reason.params && typeof reason.params === "object" ? (reason.params as Why["params"]) : {};
    const said = sayWhy(lang, { code: reason.code, params });
    if (said !== null) return said;
  }
  const text = reason.text ?? "";
  const legacy = legacyWhy(text);
  return (legacy && sayWhy(lang, legacy)) ?? text;
}

// ---- rows from before reason codes -----------------------------------------------------------------
// The sentences core/orders wrote into event payloads before it wrote codes, as they were then.
// Frozen: core's wording may change freely; these only read old rows.

const S = `(${Object.values(OrderStatus).join("|")})`;
const T = `(${TRADE_STATUSES.join("|")})`;
const LEGACY: [RegExp, (m: string[]) => Why][] = [
  [new RegExp(`^${T}$`), (m) => ({ code: "order.paid", params: { tradeStatus: m[1]! } })],
  [new RegExp(`^already ${S}$`), (m) => ({ code: "order.already", params: { status: m[1]! } })],
  [new RegExp(`^already ${S} \\(${T}\\)$`), (m) => ({ code: "order.already_trade", params: { status: m[1]!, tradeStatus: m[2]! } })],
  [/^cancelled by the buyer; closed at Alipay first$/, () => ({ code: "order.cancelled_closed_at_alipay", params: {} })],
  [/^closed at Alipay first$/, () => ({ code: "order.closed_at_alipay", params: {} })],
  [new RegExp(`^trade does not exist at Alipay; order already ${S}$`), (m) => ({ code: "order.no_trade_already", params: { status: m[1]! } })],
  [/^trade not created at Alipay yet \(buyer has not reached the cashier\)$/, () => ({ code: "order.no_trade_yet", params: {} })],
  [/^expired and the trade was never created at Alipay \(grace passed\)$/, () => ({ code: "order.no_trade_expired", params: {} })],
  [/^total (\d+) fen does not equal the order's (\d+) fen$/, (m) => ({ code: "order.amount_mismatch", params: { paidFen: Number(m[1]), totalFen: Number(m[2]) } })],
  [/^trade_no (\S+) differs from the recorded (\S+)$/, (m) => ({ code: "order.trade_no_mismatch", params: { tradeNo: m[1]!, recorded: m[2]! } })],
  [new RegExp(`^${T} for an order already ${S}: money arrived after a local close$`), (m) => ({ code: "order.paid_after_close", params: { tradeStatus: m[1]!, status: m[2]! } })],
  [new RegExp(`^${T} with refund_fee (\\d+) fen for an order never recorded as paid(?: \\(${S}\\))?: payment and refund recorded$`),
    (m) => ({ code: "order.refund_without_payment", params: { tradeStatus: m[1]!, refundFen: Number(m[2]), was: m[3] ?? null } })],
  [new RegExp(`^TRADE_CLOSED at Alipay while ${S} here \\(full refund\\?\\)$`), (m) => ({ code: "order.closed_while_paid", params: { status: m[1]! } })],
  [/^TRADE_CLOSED at Alipay$/, () => ({ code: "order.trade_closed", params: {} })],
  [new RegExp(`^${T}; (?:order )?already ${S}$`), (m) => ({ code: "order.trade_status_already", params: { tradeStatus: m[1]!, status: m[2]! } })],
  [/^waiting for the buyer to pay$/, () => ({ code: "order.waiting_for_buyer", params: {} })],
  [/^expired while WAIT_BUYER_PAY: close at Alipay before closing here$/, () => ({ code: "order.expired_close_first", params: {} })],
  [new RegExp(`^${T} with refund_fee (\\d+) fen: Alipay reports (\\d+) of (\\d+) fen refunded in all$`),
    (m) => ({ code: "order.refund_reported", params: { tradeStatus: m[1]!, refundFen: Number(m[2]), reportedFen: Number(m[3]), totalFen: Number(m[4]) } })],
  [new RegExp(`^already ${S}; refund_fee (\\d+) fen already known \\(${T}\\)$`),
    (m) => ({ code: "order.refund_known", params: { status: m[1]!, refundFen: Number(m[2]), tradeStatus: m[3]! } })],
  [/^refund (\S+) of (\d+) fen succeeded$/, (m) => ({ code: "order.refund_succeeded", params: { outRequestNo: m[1]!, refundFen: Number(m[2]) } })],
  [new RegExp(`^refund (\\S+) of (\\d+) fen succeeded for an order ${S} here with (\\d+) of (\\d+) fen refunded$`),
    (m) => ({ code: "order.refund_beyond_books", params: { outRequestNo: m[1]!, refundFen: Number(m[2]), status: m[3]!, refundedFen: Number(m[4]), totalFen: Number(m[5]) } })],
  [/^Alipay still shows the trade open$/, () => ({ code: "order.still_open", params: {} })],
  [/^(app_id|seller_id) (\(absent\)|\S+) is not ours \((\S+)\)(?:; (seller_id) (\(absent\)|\S+) is not ours \((\S+)\))?$/, (m) => {
    const got = (v: string | undefined) => (v === "(absent)" ? null : v!);
    const params: Why["params"] = {};
    for (const [field, g, ours] of [[m[1], m[2], m[3]], [m[4], m[5], m[6]]]) {
      if (field === "app_id") Object.assign(params, { appIdGot: got(g), appIdOurs: ours });
      if (field === "seller_id") Object.assign(params, { sellerIdGot: got(g), sellerIdOurs: ours });
    }
    return { code: "order.merchant_mismatch", params };
  }],
];

/** The code of a sentence an older version wrote, or null. */
export function legacyWhy(text: string): Why | null {
  for (const [re, why] of LEGACY) {
    const m = re.exec(text);
    if (m) return why(m as unknown as string[]);
  }
  return null;
}
