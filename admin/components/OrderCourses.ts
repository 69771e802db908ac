// The order's lines (OrderDetail) inside its show page: course, list price, price paid.
import type { BasePropertyProps } from "adminjs";
import { useTranslation } from "adminjs";
import { ValueGroup } from "@adminjs/design-system";
import { cell, h, parseJsonParam, yuan } from "./shared.ts";
import type { CourseLine } from "../resources/order-view.ts";

export default function OrderCourses({ property, record }: BasePropertyProps) {
  const { translateProperty } = useTranslation();
  const lines = parseJsonParam<CourseLine[]>(record?.params[property.path], []);
  const th = (key: string) => h("th", { style: cell }, translateProperty(key, "OrderDetail"));
  return h(ValueGroup, { label: translateProperty(property.label, property.resourceId) },
    h("table", { "data-testid": "order-courses", style: { borderCollapse: "collapse", width: "100%" } },
      h("thead", null, h("tr", null, th("course"), th("priceFen"), th("realPriceFen"))),
      h("tbody", null, ...lines.map((l) =>
        h("tr", { key: l.id },
          h("td", { style: cell }, l.courseTitle),
          h("td", { style: cell }, yuan(l.priceFen)),
          h("td", { style: cell }, yuan(l.realPriceFen)),
        ))),
    ),
  );
}
