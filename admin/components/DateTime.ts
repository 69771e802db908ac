// Every date-time property, in lists and on show pages (overrides AdminJS's DefaultDatetime*Property,
// which formats in the browser's own zone without naming it, in a format unlike ours): the one
// format and zone of admin/display-time.ts.
import type { BasePropertyProps } from "adminjs";
import { useTranslation } from "adminjs";
import { formatTime, h, placed } from "./shared.ts";

export default function DateTime({ property, record, where }: BasePropertyProps) {
  const { translateProperty } = useTranslation();
  const value = record?.params[property.path];
  const text = value ? formatTime(value) : "";
  return placed(where === "show" ? "show" : "list", translateProperty(property.label, property.resourceId),
    h("span", { "data-testid": "datetime", style: { whiteSpace: "nowrap" } }, text));
}
