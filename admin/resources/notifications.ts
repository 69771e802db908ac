// The callback inbox (PaymentNotification): every notify/return as received — raw body, whether its
// signature verified, why it was refused, what applying it did. Append-only; the one command is
// re-driving a verified notification whose apply failed or never ran.
import type { ResourceWithOptions } from "adminjs";
import type { Logger } from "pino";
import type { PrismaClient } from "@prisma/client";
import { commandAction, type CommandSpec } from "../actions/command.ts";
import type { Components } from "../components/index.ts";
import { PrismaResource } from "../prisma-resource.ts";
import { NOT_EDITABLE, builtInActions, propertiesOf } from "./common.ts";

export function notificationResourceOptions(deps: { prisma: PrismaClient; components: Components; commands: CommandSpec[]; logger: Logger }): ResourceWithOptions {
  const C = deps.components;
  const resource = new PrismaResource("PaymentNotification", deps.prisma, {
    exact: ["outTradeNo", "notifyId"],
    // payment_notification(received_at) and (outcome, received_at).
    sortable: ["receivedAt", "id"],
    defaultSort: { sortBy: "receivedAt", direction: "desc" },
  });
  const money = { components: { list: C.Yuan, show: C.Yuan }, isVisible: NOT_EDITABLE };
  const commands = Object.fromEntries(
    deps.commands.filter((c) => c.resourceId === "PaymentNotification").map((c) => [c.name, commandAction(c, C, deps.logger)]),
  );
  return {
    resource,
    options: {
      navigation: { name: "payments", icon: "Inbox" },
      sort: { sortBy: "receivedAt", direction: "desc" },
      listProperties: ["id", "receivedAt", "kind", "outTradeNo", "tradeStatus", "totalFen", "verified", "outcome"],
      filterProperties: ["outTradeNo", "notifyId", "outcome", "receivedAt", "verified"],
      showProperties: [
        "id", "kind", "receivedAt", "verified", "reason", "outcome", "processedAt", "attempts", "lastError",
        "outTradeNo", "order", "notifyId", "tradeNo", "tradeStatus", "totalFen", "refundFen", "rawBody",
      ],
      editProperties: [],
      properties: propertiesOf(resource, {
        outTradeNo: { isTitle: true },
        totalFen: money,
        refundFen: money,
        outcome: { components: { list: C.StatusBadge, show: C.StatusBadge }, isVisible: NOT_EDITABLE },
        tradeStatus: { components: { list: C.StatusBadge, show: C.StatusBadge }, isVisible: NOT_EDITABLE },
        rawBody: { type: "textarea" },
        lastError: { type: "textarea" },
      }),
      actions: builtInActions("PaymentNotification", commands),
    },
  };
}
