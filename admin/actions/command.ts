// One shape for every staff command (Query Alipay now, Close order, Re-drive): a thin AdminJS record
// action that loads, re-checks the role, calls core/orders, and reports. Status changes and their
// OrderEvents (with the staff member as actor) happen in core/orders only.
//
// GET returns the record (AdminJS loads it to render CommandAction), POST runs the command. The role
// is checked three times: AdminJS isAccessible, actionGuard (403 before AdminJS), and here.
import type { Action, ActionContext, ActionRequest, ActionResponse, BaseRecord } from "adminjs";
import type { Logger } from "pino";
import { CommandRefusedError, NotificationNotFoundError, OrderNotFoundError } from "../../core/orders/index.ts";
import { allow, assertCan, type Staff } from "../access.ts";
import type { Components } from "../components/index.ts";
import type { Bilingual } from "../../core/refunds/index.ts";
import type { Why } from "../../core/reasons.ts";
import { DEFAULT_LANGUAGE, parseLanguage, translate, type Language } from "../locale/index.ts";
import { localizeReason } from "../locale/reasons.ts";
import type en from "../locale/en.ts";

export type CommandOutcome = keyof (typeof en)["messages"]["commandOutcome"];
export interface CommandReport {
  outcome: CommandOutcome;
  /** Why, from core (the rule's reason code), said in the page's language after the translated outcome. */
  why?: Why;
  /** A text core already gives in both languages (core/refunds/messages.ts). */
  text?: Bilingual;
  /** Figures shown as they are (an amount, a refund number). */
  detail?: string;
}

/** What follows the outcome, in the page's language. */
function explain(lang: Language, r: CommandReport): string | undefined {
  if (r.why) return localizeReason(lang, { code: r.why.code, params: r.why.params });
  if (r.text) return lang === "en" ? r.text.en : r.text.zh;
  return r.detail;
}

export interface CommandSpec {
  resourceId: string;
  name: string;
  icon: string;
  /** messages.<intro> explains what the command does, above the confirm button. */
  intro: string;
  withReason?: boolean;
  /** An amount field (yuan) is shown and passed to run() as text. */
  withAmount?: boolean;
  /** Offered only on records where the command makes sense (enforced again by core/orders). */
  appliesTo: (record: BaseRecord) => boolean;
  run: (input: { id: number; staff: Staff; reason?: string; amount?: string }) => Promise<CommandReport>;
}

const NOTICE_TYPE: Record<CommandOutcome, "success" | "info" | "error"> = {
  paid: "success", closed: "success", cancelled: "success", refunded: "success", redriven: "success", resolved: "success", queued: "success",
  unchanged: "info", unknown: "info", stillOpen: "info",
  refundQueued: "success", refundAwaitingApproval: "info", refundApproved: "success", refundRejected: "success",
  anomaly: "error", notFound: "error", refused: "error", error: "error",
};

function reason(payload: Record<string, unknown> | undefined): string | undefined {
  const r = typeof payload?.reason === "string" ? payload.reason.trim().slice(0, 500) : "";
  return r || undefined;
}

async function report(spec: CommandSpec, id: number, staff: Staff, payload: Record<string, unknown> | undefined, logger: Logger): Promise<CommandReport> {
  try {
    const amount = spec.withAmount && typeof payload?.amount === "string" ? payload.amount.slice(0, 20) : undefined;
    return await spec.run({ id, staff, reason: spec.withReason ? reason(payload) : undefined, amount });
  } catch (e) {
    if (e instanceof OrderNotFoundError || e instanceof NotificationNotFoundError) return { outcome: "notFound" };
    if (e instanceof CommandRefusedError) return { outcome: "refused", why: e.why, detail: e.message };
    logger.error({ err: e, command: spec.name, id, actor: staff.email }, "staff command failed");
    return { outcome: "error" };
  }
}

export function commandAction(spec: CommandSpec, components: Components, logger: Logger): Partial<Action<ActionResponse>> {
  const { resourceId, name } = spec;
  const accessible = allow(resourceId, name);
  return {
    actionType: "record",
    icon: spec.icon,
    component: components.CommandAction,
    // A page of its own, not a drawer: AdminJS renders a record action's drawer over the resource's
    // *list* (record-action.js), so opening a command from an order page flashed the order list,
    // first empty, behind it.
    showInDrawer: false,
    custom: { intro: spec.intro, withReason: !!spec.withReason, withAmount: !!spec.withAmount },
    isAccessible: accessible,
    isVisible: (ctx: ActionContext) => accessible(ctx) && !!ctx.record && spec.appliesTo(ctx.record),
    handler: async (request: ActionRequest, _response: unknown, context: ActionContext): Promise<ActionResponse> => {
      const { record, currentAdmin, resource, h } = context;
      if (!record) throw new OrderNotFoundError(String(request.params.recordId));
      if (request.method !== "post") return { record: record.toJSON(currentAdmin) };
      const staff = assertCan(currentAdmin, resourceId, name);
      const id = Number(record.id());
      const result = await report(spec, id, staff, request.payload, logger);
      const lang = parseLanguage((currentAdmin as { locale?: unknown } | undefined)?.locale) ?? DEFAULT_LANGUAGE;
      const summary = [translate(lang, `messages.commandOutcome.${result.outcome}`), explain(lang, result)].filter(Boolean).join(" — ");
      const fresh = (await resource.findOne(String(id), context)) ?? record;
      return {
        record: fresh.toJSON(currentAdmin),
        notice: { message: "commandDone", type: NOTICE_TYPE[result.outcome], options: { summary } },
        redirectUrl: h.recordActionUrl({ resourceId, recordId: String(id), actionName: "show" }),
      };
    },
  };
}
