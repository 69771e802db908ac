// Why a decision was taken, as data: a stable code and its parameters. The state machines
// (core/orders/transitions.ts, core/refunds/transitions.ts) give every decision one; its English
// sentence (logs, event payloads, API errors) is written from the code by the domain's own table
// (core/orders/reasons.ts, core/refunds/reasons.ts), and the admin says it in the page's language
// from the same code (admin/locale/reasons.*.ts). Codes are stored with events
// (payload.reasonCode / payload.reasonParams): never rename one, add a new code instead.

/** A parameter value: an id, an amount in fen, a status name, free text; null when absent. */
export type ReasonParam = string | number | null;
export type ReasonParams = Record<string, ReasonParam | undefined>;

/** A table of reasons: code → its English sentence from the parameters. */
export type ReasonTable = Record<string, (p: never) => string>;

/** One reason of a table: its code and the parameters its sentence takes. */
export type WhyOf<T extends ReasonTable> = { [C in keyof T & string]: { code: C; params: ParamsOf<T[C]> } }[keyof T & string];

/** The parameters of one sentence ({} for a sentence that takes none). */
export type ParamsOf<F extends (p: never) => string> = Parameters<F> extends [] ? Record<string, never> : Parameters<F>[0];

/** Any reason, as stored and read back (the admin narrows it by code). */
export interface Why {
  code: string;
  params: ReasonParams;
}

/** A reason and its English sentence, built together so the two never disagree. */
export interface Explained<W> {
  reason: string;
  why: W;
}

/** Binds a table: `because(code, params)` gives the reason and its English sentence. */
export function reasonsOf<T extends ReasonTable>(table: T) {
  return <C extends keyof T & string>(code: C, ...params: Parameters<T[C]> extends [] ? [] : [Parameters<T[C]>[0]]): Explained<WhyOf<T>> => {
    const p = params[0] ?? {};
    return { reason: (table[code] as unknown as (p: unknown) => string)(p), why: { code, params: p } as unknown as WhyOf<T> };
  };
}

/** The payload fields an event stores its reason in (the English sentence stays under `reason`). */
export function reasonPayload(e: Explained<{ code: string; params: object }>): { reason: string; reasonCode: string; reasonParams: object } {
  return { reason: e.reason, reasonCode: e.why.code, reasonParams: e.why.params };
}
