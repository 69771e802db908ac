// Staff accounts, for admins only: role and disabled flag. Passwords are never shown or set here —
// `npm run staff -- create|reset EMAIL` prints a generated one once. An admin cannot demote or
// disable their own account (that is how a shop locks itself out).
import { ValidationError, type ActionContext, type ActionRequest, type ResourceWithOptions } from "adminjs";
import type { PrismaClient } from "@prisma/client";
import { asStaff } from "../access.ts";
import { PrismaResource } from "../prisma-resource.ts";
import { builtInActions, propertiesOf } from "./common.ts";

export function staffResourceOptions(deps: { prisma: PrismaClient }): ResourceWithOptions {
  const resource = new PrismaResource("StaffUser", deps.prisma, {
    exact: ["email"],
    sortable: ["id", "email"],
    defaultSort: { sortBy: "id", direction: "asc" },
  });
  return {
    resource,
    options: {
      navigation: { name: "people", icon: "Shield" },
      listProperties: ["id", "email", "role", "disabled", "lastLoginAt", "createdAt"],
      filterProperties: ["email", "role", "disabled"],
      showProperties: ["id", "email", "role", "disabled", "lastLoginAt", "createdAt"],
      editProperties: ["role", "disabled"],
      properties: propertiesOf(resource, { email: { isTitle: true } }),
      actions: builtInActions("StaffUser", {
        edit: {
          before: async (request: ActionRequest, context: ActionContext) => {
            const me = asStaff(context.currentAdmin);
            const own = me && String(me.id) === String(request.params.recordId);
            if (request.method === "post" && own) {
              const p = request.payload ?? {};
              if ((p.role !== undefined && p.role !== me.role) || String(p.disabled) === "true") {
                throw new ValidationError({ role: { message: "You cannot demote or disable your own account" } });
              }
            }
            // Only these two fields may change, whatever the form posts.
            if (request.method === "post") {
              request.payload = Object.fromEntries(Object.entries(request.payload ?? {}).filter(([k]) => k === "role" || k === "disabled"));
            }
            return request;
          },
        },
      }),
    },
  };
}
