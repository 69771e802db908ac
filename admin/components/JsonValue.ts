// JSON columns (event payloads) as indented text instead of AdminJS's flattened sub-fields.
import type { BasePropertyProps } from "adminjs";
import { flat, useTranslation } from "adminjs";
import { h, placed } from "./shared.ts";

export default function JsonValue({ property, record, where }: BasePropertyProps) {
  const { translateProperty } = useTranslation();
  const value = flat.get(record?.params ?? {}, property.path);
  const text = value === undefined ? "" : JSON.stringify(value, null, where === "show" ? 2 : 0);
  const body = where === "show"
    ? h("pre", { style: { whiteSpace: "pre-wrap", wordBreak: "break-all", margin: 0, fontSize: 12 } }, text)
    : h("span", { title: text }, text.length > 60 ? `${text.slice(0, 60)}…` : text);
  return placed(where, translateProperty(property.label, property.resourceId), body);
}
