// Orders: the list staff filter (status, dates, buyer, out_trade_no, trade_no, free search), the
// show page with its lines, timeline and callbacks, and the commands. Money and status are never
// edited here: there is no new/edit/delete, and statuses change only through the commands.
import type { ActionContext, ActionResponse, ResourceWithOptions } from "adminjs";
import type { Logger } from "pino";
import type { PrismaClient } from "@prisma/client";
import { commandAction, type CommandSpec } from "../actions/command.ts";
import type { Components } from "../components/index.ts";
import { PrismaResource, type Where } from "../prisma-resource.ts";
import { FILTER_ONLY, NOT_EDITABLE, SHOW_ONLY, builtInActions, exportCsvAction, propertiesOf } from "./common.ts";
import { DEFAULT_LANGUAGE, parseLanguage } from "../locale/index.ts";
import { loadOrderView } from "./order-view.ts";

/**
 * The free-text search: whatever identifier a customer or Alipay gives staff — out_trade_no, Alipay
 * trade_no, buyer email, order id. Exact matches only, each served by an index; a substring search
 * over a million subjects would be a full scan. The buyer is looked up first (buyer.email is
 * unique) so the order query is a plain OR of indexed equalities: as a relation filter inside the
 * OR, PostgreSQL scanned the whole order table (bench/admin.ts, ~1 s at 10⁶ orders).
 */
export function orderSearch(prisma: PrismaClient): (q: string) => Promise<Where | null> {
  return async (q) => {
    if (!q) return null;
    const or: Where[] = [{ outTradeNo: q }, { tradeNo: q }];
    if (q.includes("@")) {
      const buyers = await prisma.user.findMany({ where: { email: { in: [...new Set([q, q.toLowerCase()])] } }, select: { id: true } });
      if (buyers.length) or.push({ buyerId: { in: buyers.map((b) => b.id) } });
    }
    if (/^\d{1,9}$/.test(q)) or.push({ id: Number(q) });
    return { OR: or };
  };
}

export function createOrderResource(prisma: PrismaClient): PrismaResource {
  return new PrismaResource("Order", prisma, {
    exact: ["outTradeNo", "tradeNo"],
    // Indexed: order(created_at), and (status|buyer_id, created_at) for the filtered lists.
    sortable: ["createdAt", "id"],
    defaultSort: { sortBy: "createdAt", direction: "desc" },
    virtualFilters: { q: orderSearch(prisma) },
  });
}

export function orderResourceOptions(deps: {
  resource: PrismaResource;
  prisma: PrismaClient;
  components: Components;
  commands: CommandSpec[];
  exportHref: string;
  logger: Logger;
}): ResourceWithOptions {
  const { resource, prisma, components: C } = deps;
  const money = { components: { list: C.Yuan, show: C.Yuan }, isVisible: NOT_EDITABLE };
  const commands = Object.fromEntries(
    deps.commands.filter((c) => c.resourceId === "Order").map((c) => [c.name, commandAction(c, C, deps.logger)]),
  );
  return {
    resource,
    options: {
      navigation: { name: "payments", icon: "ShoppingCart" },
      sort: { sortBy: "createdAt", direction: "desc" },
      // No Alipay trade number here: 28 digits wide, it pushed the row and its actions menu past a
      // laptop window's edge. It is on the order page, and the search box finds an order by it.
      listProperties: ["id", "outTradeNo", "buyer", "subject", "totalFen", "status", "createdAt"],
      filterProperties: ["q", "status", "createdAt", "buyer", "outTradeNo", "tradeNo", "needsReview"],
      // "What happened to this order and why" first: the identity, the status, then the timeline.
      showProperties: [
        "outTradeNo", "status", "totalFen", "buyer", "tradeNo", "createdAt", "paidAt", "needsReview",
        "refunds", "timeline", "lines", "callbacks",
        "id", "subject", "refundedFen", "alipayRefundFeeFen", "buyerAlipayId", "expiresAt", "closedAt", "checkAttempts", "nextCheckAt", "updatedAt",
      ],
      editProperties: [],
      properties: propertiesOf(resource, {
        outTradeNo: { isTitle: true },
        totalFen: money,
        refundedFen: money,
        alipayRefundFeeFen: money,
        status: { components: { list: C.StatusBadge, show: C.StatusBadge }, isVisible: NOT_EDITABLE },
        q: { type: "string", isVisible: FILTER_ONLY },
        lines: { type: "string", isVisible: SHOW_ONLY, components: { show: C.OrderCourses } },
        timeline: { type: "string", isVisible: SHOW_ONLY, components: { show: C.OrderTimeline } },
        callbacks: { type: "string", isVisible: SHOW_ONLY, components: { show: C.OrderNotifications } },
        refunds: { type: "string", isVisible: SHOW_ONLY, components: { show: C.OrderRefunds } },
      }),
      actions: builtInActions("Order", {
        show: {
          after: async (response: ActionResponse, _request: unknown, context: ActionContext) => {
            const params = response.record?.params;
            if (!params?.id) return response; // refused or not found: nothing to add
            const lang = parseLanguage((context.currentAdmin as { locale?: unknown } | undefined)?.locale) ?? DEFAULT_LANGUAGE;
            const view = await loadOrderView(prisma, { id: Number(params.id), outTradeNo: String(params.outTradeNo) }, lang);
            params.lines = JSON.stringify(view.details);
            params.timeline = JSON.stringify(view.timeline);
            params.callbacks = JSON.stringify(view.notifications);
            params.refunds = JSON.stringify(view.refunds);
            return response;
          },
        },
        exportCsv: exportCsvAction("Order", C, deps.exportHref),
        ...commands,
      }),
    },
  };
}
