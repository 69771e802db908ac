// An order's refunds on its show page: amount, state, who asked and why, who approved or rejected,
// and what Alipay answered — each linked to the refund's full record.
import type { BasePropertyProps } from "adminjs";
import { ViewHelpers, useTranslation } from "adminjs";
import { ValueGroup } from "@adminjs/design-system";
import { cell, enumBadge, formatTime, h, parseJsonParam, yuan } from "./shared.ts";
import type { RefundRow } from "../resources/order-view.ts";

const viewHelpers = new ViewHelpers();

export default function OrderRefunds({ property, record }: BasePropertyProps) {
  const { translateProperty, translateLabel, i18n } = useTranslation();
  const rows = parseJsonParam<RefundRow[]>(record?.params[property.path], []);
  const R = "Refund";
  const th = (key: string) => h("th", { style: cell }, translateProperty(key, R));
  return h(ValueGroup, { label: translateProperty(property.label, property.resourceId) },
    h("table", { "data-testid": "order-refunds", style: { borderCollapse: "collapse", width: "100%" } },
      h("thead", null, h("tr", null, th("createdAt"), th("amountFen"), th("state"), th("requestedBy"), th("reason"), th("approvedBy"), th("failureCode"))),
      h("tbody", null, ...rows.map((r) =>
        h("tr", { key: r.id, "data-refund-state": r.state },
          h("td", { style: cell }, h("a", { href: viewHelpers.recordActionUrl({ resourceId: R, recordId: String(r.id), actionName: "show" }) },
            formatTime(r.createdAt))),
          h("td", { style: cell }, yuan(r.amountFen)),
          h("td", { style: cell }, enumBadge("state", r.state, translateLabel, R)),
          h("td", { style: cell }, r.requestedBy),
          h("td", { style: cell }, r.reason),
          h("td", { style: cell }, r.approvedBy ?? r.rejectedBy ?? "–"),
          h("td", { style: cell }, [r.failureCode, r.failureMessage, r.rejectionReason].filter(Boolean).join(" ") || "–"),
        ))),
    ),
  );
}
