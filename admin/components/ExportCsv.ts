// "Export CSV" on the order list. Opened in the drawer, so AdminJS carries the list's query string
// (its filters) to this URL (build-action-click-handler.js: showInDrawer keeps location.search); the
// link passes the same filters to the streaming export (admin/export.ts).
import type { ActionProps } from "adminjs";
import { useTranslation } from "adminjs";
import { Box, Button, MessageBox, Text } from "@adminjs/design-system";
import { h } from "./shared.ts";

export default function ExportCsv({ action, resource }: ActionProps) {
  const { translateMessage, translateComponent } = useTranslation();
  const params = new URLSearchParams(window.location.search);
  const filters = new URLSearchParams();
  for (const [k, v] of params) if (k.startsWith("filters.") || k === "sortBy" || k === "direction") filters.set(k, v);
  const count = [...filters.keys()].filter((k) => k.startsWith("filters.")).length;
  const href = `${String(action.custom?.href ?? "")}?${filters.toString()}`;
  return h(Box, { variant: "container" },
    h(MessageBox, { variant: "info", message: translateMessage("exportIntro", resource.id) }),
    h(Text, { my: "lg" }, count ? translateComponent("Export.filtersApplied", { count }) : translateComponent("Export.noFilters")),
    h(Button, { as: "a", href, variant: "contained", "data-testid": "export-csv-link", download: "" }, translateComponent("Export.download")),
  );
}
