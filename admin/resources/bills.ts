// Bill reconciliation (对账) in the back office: batches (one per bill day) with both sides' totals,
// and differences with the order's timeline and the bill's row. Read-only except the commands
// (bill-commands.ts): nothing here edits a batch or a difference directly.
import type { ActionContext, ActionRequest, ActionResponse, ResourceWithOptions } from "adminjs";
import type { Logger } from "pino";
import type { PrismaClient } from "@prisma/client";
import { billDayRefusal } from "../../core/bills/format.ts";
import { allow, assertCan } from "../access.ts";
import { commandAction, type CommandSpec } from "../actions/command.ts";
import { DEFAULT_LANGUAGE, parseLanguage, translate } from "../locale/index.ts";
import type { Components } from "../components/index.ts";
import { PrismaResource } from "../prisma-resource.ts";
import { builtInActions, exportCsvAction, NOT_EDITABLE, propertiesOf, SHOW_ONLY } from "./common.ts";
import { loadOrderView } from "./order-view.ts";

/** The differences list's resource: its filters also drive the CSV export (admin/export.ts). */
export function createBillDifferenceResource(prisma: PrismaClient): PrismaResource {
  return new PrismaResource("BillDifference", prisma, {
    exact: ["outTradeNo", "outRequestNo", "ref"],
    sortable: ["id", "createdAt"],
    defaultSort: { sortBy: "id", direction: "desc" },
  });
}

export interface BillAdminDeps {
  prisma: PrismaClient;
  components: Components;
  commands: CommandSpec[];
  logger: Logger;
  differences: PrismaResource;
  /** the differences CSV (admin/export.ts billDifferenceCsvExport) */
  differencesExportHref: string;
  /** queue "reconcile this date now" for the worker (core/bills queue); returns the job id */
  enqueueBillDate: (billDate: string, actor: string) => Promise<string>;
}

/**
 * "Reconcile a date now" on the batches list: any day Alipay serves a bill for (not today or later,
 * not before 2016), whether or not it has a batch yet. Operators; the worker's attempt records the
 * staff member (bill_attempt.actor) and this request is logged.
 */
function reconcileDateAction(deps: BillAdminDeps) {
  return {
    actionType: "resource" as const,
    icon: "Calendar",
    component: deps.components.ReconcileDate,
    showInDrawer: false,
    isAccessible: allow("BillBatch", "reconcileDate"),
    handler: async (request: ActionRequest, _response: unknown, context: ActionContext): Promise<ActionResponse> => {
      if (request.method !== "post") return {};
      const staff = assertCan(context.currentAdmin, "BillBatch", "reconcileDate");
      const lang = parseLanguage((context.currentAdmin as { locale?: unknown } | undefined)?.locale) ?? DEFAULT_LANGUAGE;
      const date = String(request.payload?.date ?? "").trim().slice(0, 20);
      const refusal = billDayRefusal(date, new Date());
      if (refusal) {
        return { notice: { message: "commandFailed", type: "error", options: { summary: lang === "en" ? refusal.en : refusal.zh } } };
      }
      const jobId = await deps.enqueueBillDate(date, staff.email);
      deps.logger.info({ actor: staff.email, billDate: date, jobId }, "bill reconciliation of a date requested");
      return {
        notice: { message: "commandDone", type: "success", options: { summary: `${translate(lang, "messages.commandOutcome.queued")} — ${date}` } },
        redirectUrl: context.h.resourceUrl({ resourceId: "BillBatch" }),
      };
    },
  };
}

export function billResourceOptions(deps: BillAdminDeps): ResourceWithOptions[] {
  const { prisma, components: C } = deps;
  const money = { components: { list: C.Yuan, show: C.Yuan }, isVisible: NOT_EDITABLE };
  const commandsFor = (resourceId: string) =>
    Object.fromEntries(deps.commands.filter((c) => c.resourceId === resourceId).map((c) => [c.name, commandAction(c, C, deps.logger)]));

  const batches = new PrismaResource("BillBatch", prisma, {
    exact: ["billDate", "billType"],
    sortable: ["billDate", "id"],
    defaultSort: { sortBy: "billDate", direction: "desc" },
  });
  const differences = deps.differences;
  const fen = ["billTradeFen", "billRefundFen", "billFeeFen", "billNetFen", "localTradeFen", "localRefundFen", "localFeeFen", "localNetFen"];
  return [
    {
      resource: batches,
      options: {
        navigation: { name: "reconciliation", icon: "CheckSquare" },
        sort: { sortBy: "billDate", direction: "desc" },
        listProperties: ["billDate", "billType", "state", "differencesOpen", "billTrades", "billTradeFen", "localTrades", "localTradeFen", "attempts", "finishedAt"],
        filterProperties: ["billDate", "billType", "state"],
        showProperties: [
          "billDate", "billType", "state", "differencesOpen", "lastError",
          "billTrades", "localTrades", "billTradeFen", "localTradeFen", "billRefunds", "localRefunds", "billRefundFen", "localRefundFen",
          "billFeeFen", "localFeeFen", "billNetFen", "localNetFen", "attempts", "attemptLog", "finishedAt", "createdAt", "updatedAt", "id",
        ],
        editProperties: [],
        properties: propertiesOf(batches, {
          billDate: { isTitle: true },
          ...Object.fromEntries(fen.map((f) => [f, money])),
          attemptLog: { type: "mixed", isVisible: SHOW_ONLY, components: { show: C.JsonValue } },
        }),
        actions: builtInActions("BillBatch", {
          show: {
            after: async (response: ActionResponse) => {
              const params = response.record?.params;
              if (!params?.id) return response;
              const log = await prisma.billAttempt.findMany({ where: { batchId: Number(params.id) }, orderBy: { attempt: "asc" } });
              params.attemptLog = JSON.stringify(log.map((a) => ({ attempt: a.attempt, trigger: a.trigger, actor: a.actor, outcome: a.outcome, startedAt: a.startedAt, finishedAt: a.finishedAt, detail: a.detail })));
              return response;
            },
          },
          reconcileDate: reconcileDateAction(deps),
          ...commandsFor("BillBatch"),
        }),
      },
    },
    {
      resource: differences,
      options: {
        navigation: { name: "reconciliation", icon: "AlertTriangle" },
        sort: { sortBy: "id", direction: "desc" },
        listProperties: ["id", "batch", "kind", "state", "outTradeNo", "outRequestNo", "billAmountFen", "localAmountFen", "localStatus", "createdAt"],
        filterProperties: ["batch", "kind", "state", "outTradeNo", "outRequestNo", "createdAt"],
        showProperties: [
          "kind", "state", "batch", "outTradeNo", "outRequestNo", "billAmountFen", "localAmountFen", "localStatus", "orderId",
          "billRow", "timeline", "note", "resolvedBy", "resolvedAt", "lastSeenAttempt", "createdAt", "updatedAt", "id",
        ],
        editProperties: [],
        properties: propertiesOf(differences, {
          billAmountFen: money,
          localAmountFen: money,
          billRow: { type: "mixed", isVisible: SHOW_ONLY, components: { show: C.JsonValue } },
          timeline: { type: "string", isVisible: SHOW_ONLY, components: { show: C.OrderTimeline } },
        }),
        actions: builtInActions("BillDifference", {
          show: {
            after: async (response: ActionResponse) => {
              const params = response.record?.params;
              if (!params?.id) return response;
              const d = await prisma.billDifference.findUnique({ where: { id: Number(params.id) } });
              if (!d) return response;
              const row = await prisma.billRow.findFirst({
                where: { batchId: d.batchId, ...(d.outRequestNo ? { outRequestNo: d.outRequestNo } : { outTradeNo: d.outTradeNo ?? "", kind: "trade" }) },
              });
              params.billRow = JSON.stringify(row);
              if (d.orderId) {
                const order = await prisma.order.findUnique({ where: { id: d.orderId }, select: { id: true, outTradeNo: true } });
                if (order) params.timeline = JSON.stringify((await loadOrderView(prisma, order)).timeline);
              }
              return response;
            },
          },
          exportCsv: exportCsvAction("BillDifference", C, deps.differencesExportHref),
          ...commandsFor("BillDifference"),
        }),
      },
    },
  ];
}
