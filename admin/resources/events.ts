// OrderEvents: the append-only history across all orders (each order's own timeline is on its show
// page). Read-only.
import type { ActionResponse, RecordJSON, ResourceWithOptions } from "adminjs";
import type { PrismaClient } from "@prisma/client";
import type { Components } from "../components/index.ts";
import { PrismaResource } from "../prisma-resource.ts";
import { builtInActions, propertiesOf } from "./common.ts";
import { actorNames } from "./order-view.ts";

/** Shows buyers' emails instead of "buyer:4" in the actor column. */
async function withActorNames<T>(prisma: PrismaClient, response: T, records: RecordJSON[]): Promise<T> {
  const names = await actorNames(prisma, records.map((r) => String(r.params.actor ?? "")));
  for (const r of records) r.params.actor = names.get(String(r.params.actor)) ?? r.params.actor;
  return response;
}

export function eventResourceOptions(deps: { prisma: PrismaClient; components: Components }): ResourceWithOptions {
  const C = deps.components;
  const resource = new PrismaResource("OrderEvent", deps.prisma, {
    exact: ["type", "actor"],
    // The primary key follows time; there is no index on created_at alone (order_event is indexed by
    // (order_id, created_at) and (type, created_at)), so lists sort by id.
    sortable: ["id"],
    defaultSort: { sortBy: "id", direction: "desc" },
  });
  return {
    resource,
    options: {
      navigation: { name: "payments", icon: "Activity" },
      sort: { sortBy: "id", direction: "desc" },
      listProperties: ["id", "createdAt", "order", "type", "fromStatus", "toStatus", "source", "actor"],
      filterProperties: ["order", "type", "source"],
      showProperties: ["id", "createdAt", "order", "type", "fromStatus", "toStatus", "source", "actor", "notificationId", "payload"],
      editProperties: [],
      properties: propertiesOf(resource, {
        fromStatus: { components: { list: C.StatusBadge, show: C.StatusBadge } },
        toStatus: { components: { list: C.StatusBadge, show: C.StatusBadge } },
        payload: { type: "mixed", components: { list: C.JsonValue, show: C.JsonValue } },
      }),
      actions: builtInActions("OrderEvent", {
        list: { after: async (response: ActionResponse) => withActorNames(deps.prisma, response, (response.records ?? []) as RecordJSON[]) },
        show: { after: async (response: ActionResponse) => withActorNames(deps.prisma, response, response.record ? [response.record as RecordJSON] : []) },
      }),
    },
  };
}
