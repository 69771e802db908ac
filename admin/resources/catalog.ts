// Courses, buyers and order lines. Courses are edited by admins (price in integer fen); buyers and
// order lines are read-only (lines are shown inside their order).
import type { ResourceWithOptions } from "adminjs";
import type { PrismaClient } from "@prisma/client";
import type { Components } from "../components/index.ts";
import { PrismaResource } from "../prisma-resource.ts";
import { builtInActions, propertiesOf } from "./common.ts";

export function courseResourceOptions(deps: { prisma: PrismaClient; components: Components }): ResourceWithOptions {
  const C = deps.components;
  const resource = new PrismaResource("Course", deps.prisma, { sortable: ["id", "title", "priceFen", "createdAt"], defaultSort: { sortBy: "id", direction: "asc" } });
  return {
    resource,
    options: {
      navigation: { name: "catalog", icon: "BookOpen" },
      listProperties: ["id", "title", "priceFen", "active", "createdAt"],
      filterProperties: ["title", "active"],
      editProperties: ["title", "description", "priceFen", "active"],
      properties: propertiesOf(resource, {
        title: { isTitle: true },
        description: { type: "textarea" },
        priceFen: { components: { list: C.Yuan, show: C.Yuan } },
      }),
      actions: builtInActions("Course"),
    },
  };
}

export function buyerResourceOptions(deps: { prisma: PrismaClient }): ResourceWithOptions {
  const resource = new PrismaResource("User", deps.prisma, {
    exact: ["email"],
    sortable: ["id"],
    defaultSort: { sortBy: "id", direction: "desc" },
  });
  return {
    resource,
    options: {
      navigation: { name: "people", icon: "Users" },
      listProperties: ["id", "email", "displayName", "createdAt"],
      filterProperties: ["email"],
      showProperties: ["id", "email", "displayName", "createdAt"],
      editProperties: [],
      properties: propertiesOf(resource, { email: { isTitle: true } }),
      actions: builtInActions("User"),
    },
  };
}

export function orderLineResourceOptions(deps: { prisma: PrismaClient; components: Components }): ResourceWithOptions {
  const C = deps.components;
  const resource = new PrismaResource("OrderDetail", deps.prisma, { sortable: ["id"], defaultSort: { sortBy: "id", direction: "desc" } });
  return {
    resource,
    options: {
      navigation: false,
      listProperties: ["id", "order", "course", "priceFen", "realPriceFen"],
      filterProperties: ["order", "course"],
      editProperties: [],
      properties: propertiesOf(resource, {
        priceFen: { components: { list: C.Yuan, show: C.Yuan } },
        realPriceFen: { components: { list: C.Yuan, show: C.Yuan } },
      }),
      actions: builtInActions("OrderDetail"),
    },
  };
}
