// Every resource of the back office, in sidebar order.
import type { ResourceWithOptions } from "adminjs";
import type { Logger } from "pino";
import type { PrismaClient } from "@prisma/client";
import type { CommandSpec } from "../actions/command.ts";
import type { Components } from "../components/index.ts";
import type { PrismaResource } from "../prisma-resource.ts";
import { buyerResourceOptions, courseResourceOptions, orderLineResourceOptions } from "./catalog.ts";
import { eventResourceOptions } from "./events.ts";
import { notificationResourceOptions } from "./notifications.ts";
import { orderResourceOptions } from "./orders.ts";
import { billResourceOptions, type BillAdminDeps } from "./bills.ts";
import { refundResourceOptions } from "./refunds.ts";
import { staffResourceOptions } from "./staff.ts";

export function buildResources(deps: {
  prisma: PrismaClient;
  orders: PrismaResource;
  components: Components;
  commands: CommandSpec[];
  exportHref: string;
  logger: Logger;
  bills: Pick<BillAdminDeps, "differences" | "differencesExportHref" | "enqueueBillDate">;
}): ResourceWithOptions[] {
  return [
    orderResourceOptions({ ...deps, resource: deps.orders }),
    refundResourceOptions(deps),
    notificationResourceOptions(deps),
    eventResourceOptions(deps),
    ...billResourceOptions({ ...deps, ...deps.bills }),
    orderLineResourceOptions(deps),
    courseResourceOptions(deps),
    buyerResourceOptions(deps),
    staffResourceOptions(deps),
  ];
}
