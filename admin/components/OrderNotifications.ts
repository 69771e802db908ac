// The Alipay callbacks received for an order (the inbox rows), linked to their full record.
import type { BasePropertyProps } from "adminjs";
import { ViewHelpers, useTranslation } from "adminjs";
import { ValueGroup } from "@adminjs/design-system";
import { cell, enumBadge, formatTime, h, parseJsonParam, yuan } from "./shared.ts";
import type { NotificationRow } from "../resources/order-view.ts";

const viewHelpers = new ViewHelpers();

export default function OrderNotifications({ property, record }: BasePropertyProps) {
  const { translateProperty, translateLabel } = useTranslation();
  const rows = parseJsonParam<NotificationRow[]>(record?.params[property.path], []);
  const R = "PaymentNotification";
  const th = (key: string) => h("th", { style: cell }, translateProperty(key, R));
  return h(ValueGroup, { label: translateProperty(property.label, property.resourceId) },
    h("table", { "data-testid": "order-notifications", style: { borderCollapse: "collapse", width: "100%" } },
      h("thead", null, h("tr", null, th("receivedAt"), th("kind"), th("verified"), th("tradeStatus"), th("totalFen"), th("outcome"), th("reason"))),
      h("tbody", null, ...rows.map((n) =>
        h("tr", { key: n.id },
          h("td", { style: cell }, h("a", { href: viewHelpers.recordActionUrl({ resourceId: R, recordId: String(n.id), actionName: "show" }) },
            formatTime(n.receivedAt))),
          h("td", { style: cell }, n.kind),
          h("td", { style: cell }, n.verified ? "✓" : "✗"),
          h("td", { style: cell }, enumBadge("tradeStatus", n.tradeStatus, translateLabel, R)),
          h("td", { style: cell }, yuan(n.totalFen)),
          h("td", { style: cell }, enumBadge("outcome", n.outcome, translateLabel, R)),
          h("td", { style: cell }, n.reason),
        ))),
    ),
  );
}
