// The order's history on its show page: every OrderEvent, oldest first — status changes with their
// evidence (notify, return, reconciliation, expiry), anomalies, and staff actions with who ran them.
import type { BasePropertyProps } from "adminjs";
import { useTranslation } from "adminjs";
import { Box, Text, ValueGroup } from "@adminjs/design-system";
import { enumBadge, formatTime, h, parseJsonParam } from "./shared.ts";
import type { TimelineEntry } from "../resources/order-view.ts";

export default function OrderTimeline({ property, record }: BasePropertyProps) {
  const { translateProperty, translateLabel, translateComponent } = useTranslation();
  const entries = parseJsonParam<TimelineEntry[]>(record?.params[property.path], []);
  const label = translateProperty(property.label, property.resourceId);
  if (!entries.length) return h(ValueGroup, { label }, translateComponent("Timeline.empty"));
  return h(ValueGroup, { label },
    h("ol", { "data-testid": "order-timeline", style: { listStyle: "none", margin: 0, padding: 0 } },
      ...entries.map((e) => {
        const anomaly = e.type.startsWith("anomaly.");
        return h("li", {
          key: e.id,
          "data-event-type": e.type,
          style: { borderLeft: `3px solid ${anomaly ? "#c20012" : "#3040d6"}`, padding: "4px 12px", marginBottom: 8 },
        },
          h(Box, { flex: true, style: { gap: 8, alignItems: "center", flexWrap: "wrap" } },
            h(Text, { as: "span", style: { color: "#888", fontSize: 12 } }, formatTime(e.createdAt)),
            h(Text, { as: "strong", style: { color: anomaly ? "#c20012" : undefined } },
              translateComponent(`Timeline.types.${e.type}`, { defaultValue: e.type })),
            e.fromStatus || e.toStatus
              ? h("span", null, enumBadge("status", e.fromStatus, translateLabel), " → ", enumBadge("status", e.toStatus, translateLabel))
              : null,
            enumBadge("source", e.source, translateLabel),
            e.actor ? h("span", { "data-testid": "timeline-actor" }, translateComponent("Timeline.by", { actor: e.actor })) : null,
          ),
          e.reason ? h(Text, { style: { fontSize: 12, color: "#555", marginTop: 2 } }, e.reason) : null,
        );
      }),
    ),
  );
}
