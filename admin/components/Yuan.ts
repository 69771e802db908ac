// Money columns (integer fen in the database) shown as yuan, e.g. 1230 → ¥12.30.
import type { BasePropertyProps } from "adminjs";
import { useTranslation } from "adminjs";
import { placed, yuan } from "./shared.ts";

export default function Yuan({ property, record, where }: BasePropertyProps) {
  const { translateProperty } = useTranslation();
  return placed(where, translateProperty(property.label, property.resourceId), yuan(record?.params[property.path]));
}
