// What every resource shares: role checks on AdminJS's built-in actions (from access.ts) and
// sortability limited to the columns the resource's QueryPolicy allows.
import type { Action, ActionResponse, PropertyOptions } from "adminjs";
import type { Components } from "../components/index.ts";
import { POLICY, allow } from "../access.ts";
import type { PrismaResource } from "../prisma-resource.ts";

type Actions = Record<string, Partial<Action<ActionResponse>>>;

const BUILT_IN = ["list", "show", "search", "new", "edit", "delete", "bulkDelete"] as const;

/**
 * Built-in actions gated by the policy. An action the policy does not list is neither visible nor
 * accessible: Orders, Notifications and Events have no new/edit/delete (append-only history).
 */
export function builtInActions(resourceId: string, extra: Actions = {}): Actions {
  const actions: Actions = {};
  for (const name of BUILT_IN) {
    actions[name] = POLICY[resourceId]?.[name] ? { isAccessible: allow(resourceId, name) } : { isAccessible: false, isVisible: false };
  }
  for (const [name, options] of Object.entries(extra)) actions[name] = { ...actions[name], ...options };
  return actions;
}

/** Property options with `isSortable` set from the resource's policy, merged under `custom`. */
export function propertiesOf(resource: PrismaResource, custom: Record<string, PropertyOptions>): Record<string, PropertyOptions> {
  const out: Record<string, PropertyOptions> = {};
  for (const p of resource.properties()) out[p.path()] = { isSortable: resource.policy.sortable.includes(p.path()) };
  for (const [path, options] of Object.entries(custom)) out[path] = { ...out[path], ...options };
  return out;
}

/** For virtual properties shown only on the show page. */
export const SHOW_ONLY = { list: false, filter: false, edit: false, show: true } as const;
/** For virtual filters. */
export const FILTER_ONLY = { list: false, filter: true, edit: false, show: false } as const;
/** Read-only columns: never in forms. */
export const NOT_EDITABLE = { list: true, filter: true, edit: false, show: true } as const;

/**
 * The "导出 CSV / Export CSV" resource action: a drawer with a download link to the resource's own
 * streaming CSV route (admin/export.ts), which checks the role again itself.
 */
export function exportCsvAction(resourceId: string, components: Components, href: string): Partial<Action<ActionResponse>> {
  return {
    actionType: "resource",
    icon: "Download",
    component: components.ExportCsv,
    showInDrawer: true,
    custom: { href },
    isAccessible: allow(resourceId, "exportCsv"),
    handler: async () => ({}),
  };
}
