// Status-like enums (order status, notification outcome) as coloured, translated badges.
import type { BasePropertyProps } from "adminjs";
import { useTranslation } from "adminjs";
import { enumBadge, placed } from "./shared.ts";

export default function StatusBadge({ property, record, where }: BasePropertyProps) {
  const { translateProperty, translateLabel } = useTranslation();
  return placed(
    where,
    translateProperty(property.label, property.resourceId),
    enumBadge(property.path, record?.params[property.path], translateLabel, property.resourceId),
  );
}
