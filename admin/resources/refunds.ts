// Refunds: every refund staff or buyers asked for, with its state, who asked, who approved or
// rejected, and Alipay's answers. Filters: state, date, requester, order, source (buyers' requests:
// source = buyer, state = AWAITING_APPROVAL). Read-only except through the approve/reject commands.
import type { ResourceWithOptions } from "adminjs";
import type { Logger } from "pino";
import type { PrismaClient } from "@prisma/client";
import { commandAction, type CommandSpec } from "../actions/command.ts";
import type { Components } from "../components/index.ts";
import { PrismaResource } from "../prisma-resource.ts";
import { builtInActions, NOT_EDITABLE, propertiesOf } from "./common.ts";

export function refundResourceOptions(deps: { prisma: PrismaClient; components: Components; commands: CommandSpec[]; logger: Logger }): ResourceWithOptions {
  const C = deps.components;
  const resource = new PrismaResource("Refund", deps.prisma, {
    exact: ["outRequestNo", "requestedBy"],
    // refund(created_at) and (requested_by, created_at) are indexed.
    sortable: ["createdAt", "id"],
    defaultSort: { sortBy: "createdAt", direction: "desc" },
  });
  const money = { components: { list: C.Yuan, show: C.Yuan }, isVisible: NOT_EDITABLE };
  const commands = Object.fromEntries(
    deps.commands.filter((c) => c.resourceId === "Refund").map((c) => [c.name, commandAction(c, C, deps.logger)]),
  );
  return {
    resource,
    options: {
      navigation: { name: "payments", icon: "RotateCcw" },
      sort: { sortBy: "createdAt", direction: "desc" },
      listProperties: ["id", "createdAt", "order", "amountFen", "state", "source", "requestedBy", "approvedBy", "reason"],
      filterProperties: ["state", "createdAt", "requestedBy", "order", "source", "outRequestNo"],
      showProperties: [
        "id", "order", "amountFen", "state", "source", "reason", "requestedBy", "createdAt", "approvedBy", "approvedAt", "rejectedBy", "rejectedAt",
        "rejectionReason", "failureCode", "failureMessage", "outRequestNo", "attempts", "checks", "unsettledCalls", "lastCallAt", "nextCheckAt", "submittedAt",
        "succeededAt", "failedAt", "settledBy", "lastCallAnswer", "lastQueryAnswer", "updatedAt",
      ],
      editProperties: [],
      properties: propertiesOf(resource, {
        amountFen: money,
        lastCallAnswer: { type: "mixed", components: { list: C.JsonValue, show: C.JsonValue } },
        lastQueryAnswer: { type: "mixed", components: { list: C.JsonValue, show: C.JsonValue } },
      }),
      actions: { ...builtInActions("Refund"), ...commands },
    },
  };
}
