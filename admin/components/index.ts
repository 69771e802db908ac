// The back office's React components, registered with AdminJS's ComponentLoader. AdminJS bundles
// them (rollup + babel) into components.bundle.js; see ../bundle.ts for how and when.
import { ComponentLoader } from "adminjs";
import { fileURLToPath } from "node:url";

const FILES = {
  Yuan: "./Yuan.ts",
  StatusBadge: "./StatusBadge.ts",
  JsonValue: "./JsonValue.ts",
  OrderTimeline: "./OrderTimeline.ts",
  OrderCourses: "./OrderCourses.ts",
  OrderNotifications: "./OrderNotifications.ts",
  OrderRefunds: "./OrderRefunds.ts",
  CommandAction: "./CommandAction.ts",
  ExportCsv: "./ExportCsv.ts",
  ReconcileDate: "./ReconcileDate.ts",
  Dashboard: "./Dashboard.ts",
} as const;

/** AdminJS's own components replaced by ours (ComponentLoader.override; see each file for why). */
const OVERRIDES = {
  LoggedIn: "./LoggedIn.ts",
  ActionHeader: "./ActionHeader.ts",
  DefaultDatetimeListProperty: "./DateTime.ts",
  DefaultDatetimeShowProperty: "./DateTime.ts",
} as const;

export type ComponentName = keyof typeof FILES;
export type Components = Record<ComponentName, string>;

export function createComponents(): { loader: ComponentLoader; components: Components } {
  const loader = new ComponentLoader();
  const components = Object.fromEntries(
    Object.entries(FILES).map(([name, file]) => [name, loader.add(name, fileURLToPath(new URL(file, import.meta.url)))]),
  ) as Components;
  for (const [name, file] of Object.entries(OVERRIDES)) loader.override(name, fileURLToPath(new URL(file, import.meta.url)));
  return { loader, components };
}
