// The back office's home page: today's payments, what is pending, what needs a human, queue health,
// the last reconciliation sweep, and a 14-day chart (inline SVG, no chart library to bundle).
import React, { useEffect, useState } from "react";
import { ApiClient, ViewHelpers, useTranslation } from "adminjs";
import { Box, H2, H5, Loader, Text } from "@adminjs/design-system";
import type { DashboardData, DayPoint } from "../dashboard/data.ts";
import { cell, formatTime, h, yuan } from "./shared.ts";

const api = new ApiClient();
const viewHelpers = new ViewHelpers();

function Card({ label, value, testId, tone }: { label: string; value: React.ReactNode; testId: string; tone?: "alert" }) {
  return h(Box, { variant: "card", "data-testid": testId, style: { flex: "1 1 180px", minWidth: 180 } },
    h(Text, { style: { color: "#666" } }, label),
    h(H2, { style: { margin: "8px 0 0", color: tone === "alert" ? "#c20012" : undefined } }, value));
}

/** Bars: orders per day; line: revenue per day (its own scale, right axis). */
function Chart({ series, labels }: { series: DayPoint[]; labels: { orders: string; revenue: string; today: string } }) {
  // Legend on top (it was drawn on the bottom edge and lost its lower half), day labels below.
  const W = 720, H = 240, pad = { l: 40, r: 70, t: 30, b: 26 };
  const iw = W - pad.l - pad.r, ih = H - pad.t - pad.b;
  const maxOrders = Math.max(1, ...series.map((d) => d.orders));
  const maxRevenue = Math.max(1, ...series.map((d) => d.revenueFen));
  const step = iw / Math.max(1, series.length);
  const x = (i: number) => pad.l + i * step;
  const yO = (v: number) => pad.t + ih - (v / maxOrders) * ih;
  const yR = (v: number) => pad.t + ih - (v / maxRevenue) * ih;
  const line = series.map((d, i) => `${i ? "L" : "M"}${(x(i) + step / 2).toFixed(1)},${yR(d.revenueFen).toFixed(1)}`).join(" ");
  return h("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": `${labels.orders} / ${labels.revenue}`, "data-testid": "dashboard-chart" },
    h("line", { x1: pad.l, y1: pad.t + ih, x2: pad.l + iw, y2: pad.t + ih, stroke: "#999" }),
    ...series.map((d, i) => h("g", { key: d.day },
      h("rect", { x: x(i) + step * 0.15, y: yO(d.orders), width: step * 0.7, height: pad.t + ih - yO(d.orders), fill: "#8fa0ff" },
        h("title", null, `${d.day}: ${d.orders} ${labels.orders}, ${yuan(d.revenueFen)}`)),
      // Every other day, counted back from today, so the newest bar always has its date.
      (series.length - 1 - i) % 2 === 0
        ? h("text", { x: x(i) + step / 2, y: H - 8, fontSize: 10, textAnchor: "middle", fill: "#666", "data-testid": i === series.length - 1 ? "chart-today" : undefined },
            i === series.length - 1 ? `${labels.today} ${d.day.slice(5)}` : d.day.slice(5))
        : null,
    )),
    h("path", { d: line, fill: "none", stroke: "#e07000", strokeWidth: 2 }),
    h("text", { x: 4, y: pad.t + 10, fontSize: 10, fill: "#3040d6" }, String(maxOrders)),
    h("text", { x: W - pad.r + 6, y: pad.t + 10, fontSize: 10, fill: "#e07000" }, yuan(maxRevenue)),
    h("g", { "data-testid": "chart-legend" },
      h("text", { x: pad.l, y: 14, fontSize: 11, fill: "#3040d6" }, `■ ${labels.orders}`),
      h("text", { x: pad.l + 140, y: 14, fontSize: 11, fill: "#e07000" }, `— ${labels.revenue}`)),
  );
}

/** 昨日对账: the state of yesterday's bill batch, its open differences, both sides' money. */
function BillsCard({ bills, d, tl }: { bills: DashboardData["bills"]; d: (k: string, o?: object) => string; tl: (k: string) => string }) {
  const b = bills.batch;
  const listUrl = (filters: Record<string, string>) =>
    `${viewHelpers.resourceUrl({ resourceId: "BillDifference" })}?${new URLSearchParams(Object.entries(filters).map(([k, v]) => [`filters.${k}`, v])).toString()}`;
  if (!b) return h(Box, { variant: "card", style: { flex: "1 1 320px" }, "data-testid": "dash-bills" }, h(H5, null, d("bills")), h(Text, null, d("billsNone", { date: bills.billDate })));
  const allResolved = b.state === "differences" && b.differencesOpen === 0;
  const side = (label: string, s: typeof b.alipay, testId: string) =>
    h("tr", { "data-testid": testId }, h("th", { style: { ...cell, textAlign: "left" } }, label),
      h("td", { style: cell }, `${s.trades} · ${yuan(s.tradeFen)}`), h("td", { style: cell }, `${s.refunds} · ${yuan(s.refundFen)}`), h("td", { style: cell }, yuan(s.netFen)));
  return h(Box, { variant: "card", style: { flex: "1 1 420px" }, "data-testid": "dash-bills" },
    h(H5, null, `${d("bills")} · ${bills.billDate}`),
    // A batch keeps the state its run found; once staff have resolved every difference it says so.
    h(Text, { "data-testid": "dash-bills-state", style: { color: b.state === "matched" || allResolved ? "#1a7f37" : b.state === "differences" || b.state === "corrupt" || b.state === "no_bill" ? "#c20012" : undefined } },
      allResolved ? `${tl(`state.${b.state}`)} · ${d("billsAllResolved")}` : tl(`state.${b.state}`)),
    h(Text, { mt: "sm", "data-testid": "dash-bills-open" }, `${d("billsOpen")}: `,
      b.differencesOpen ? h("a", { href: listUrl({ batch: String(b.id), state: "open" }) }, String(b.differencesOpen)) : "0"),
    h("table", { style: { borderCollapse: "collapse", width: "100%", marginTop: 8 } },
      h("thead", null, h("tr", null, h("th", { style: cell }), ...["billsPayments", "billsRefunds", "billsNet"].map((k) => h("th", { key: k, style: { ...cell, whiteSpace: "nowrap" } }, d(k))))),
      h("tbody", null, side(d("billsAlipay"), b.alipay, "dash-bills-alipay"), side(d("billsOurs"), b.ours, "dash-bills-ours"))),
  );
}

export default function Dashboard() {
  const { translateComponent: tc, translateLabel: tl } = useTranslation();
  const [data, setData] = useState<DashboardData | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    api.getDashboard<DashboardData>().then((r) => setData(r.data), () => setFailed(true));
  }, []);
  useEffect(() => {
    document.title = `${tc("Dashboard.title")} · coursepay`;
  });
  if (failed) return h(Box, { variant: "container" }, h(Text, null, "…"));
  if (!data) return h(Loader);
  const d = (key: string, opts?: object) => tc(`Dashboard.${key}`, opts);
  const orderUrl = (id: number) => viewHelpers.recordActionUrl({ resourceId: "Order", recordId: String(id), actionName: "show" });
  return h(Box, { variant: "grey", "data-testid": "dashboard" },
    h(Box, { flex: true, style: { justifyContent: "space-between", alignItems: "baseline" } },
      h(H2, null, d("title")),
      h(Text, { style: { color: "#888" } }, d("generatedAt", { time: formatTime(data.generatedAt) }))),
    h(Box, { flex: true, style: { gap: 16, flexWrap: "wrap" } },
      h(Card, { label: d("paidToday"), value: data.today.paidOrders, testId: "dash-paid-today" }),
      h(Card, { label: d("revenueToday"), value: yuan(data.today.revenueFen), testId: "dash-revenue-today" }),
      h(Card, { label: d("refundsToday"), value: `${data.today.refunds} · ${yuan(data.today.refundedFen)}`, testId: "dash-refunds-today" }),
      h(Card, { label: d("netToday"), value: yuan(data.today.netFen), testId: "dash-net-today" }),
      h(Card, { label: d("unpaid"), value: data.unpaid, testId: "dash-unpaid" }),
      h(Card, { label: d("needsReview"), value: data.needsReview, testId: "dash-needs-review", tone: data.needsReview ? "alert" : undefined }),
    ),
    h(Box, { variant: "card", mt: "xl" }, h(H5, null, d("chart")),
      h(Chart, { series: data.series, labels: { orders: d("orders"), revenue: d("revenue"), today: d("today") } })),
    h(Box, { flex: true, mt: "xl", style: { gap: 16, flexWrap: "wrap" } },
      h(Box, { variant: "card", style: { flex: "1 1 320px" }, "data-testid": "dash-anomalies" }, h(H5, null, d("anomalies")),
        data.anomalies.length
          ? h("ul", { style: { margin: 0, paddingLeft: 16 } }, ...data.anomalies.map((a) =>
              h("li", { key: a.eventId },
                h("a", { href: orderUrl(a.orderId) }, a.outTradeNo), " ",
                tc(`Timeline.types.${a.type}`, { defaultValue: a.type }), " · ", formatTime(a.createdAt))))
          : h(Text, null, d("noAnomalies"))),
      h(Box, { variant: "card", style: { flex: "1.4 1 420px" }, "data-testid": "dash-queues" }, h(H5, null, d("queues")),
        data.queues
          ? h(Box, { style: { overflowX: "auto" } }, h("table", { style: { borderCollapse: "collapse", width: "100%" } },
              h("thead", null, h("tr", null, ...["queue", "waiting", "active", "delayed", "failed"].map((k) => h("th", { key: k, style: { ...cell, whiteSpace: "nowrap" } }, d(k))))),
              h("tbody", null, ...data.queues.map((q) => h("tr", { key: q.name },
                h("td", { style: { ...cell, whiteSpace: "nowrap" } }, q.name), h("td", { style: cell }, q.waiting), h("td", { style: cell }, q.active),
                h("td", { style: cell }, q.delayed), h("td", { style: { ...cell, color: q.failed ? "#c20012" : undefined } }, q.failed))))))
          : h(Text, null, d("queuesUnavailable")),
        data.queuesHref ? h(Box, { mt: "default" }, h("a", { href: data.queuesHref }, d("openQueues"))) : null),
      h(Box, { variant: "card", style: { flex: "1 1 320px" }, "data-testid": "dash-sweep" }, h(H5, null, d("sweep")),
        data.sweep
          ? h(Box, null,
              h(Text, { style: { color: data.sweep.failed ? "#c20012" : undefined } },
                formatTime(data.sweep.finishedAt), data.sweep.failed ? ` · ${d("failed")}` : ""),
              h("dl", { style: { margin: "8px 0", fontSize: 13 } },
                ...Object.entries(data.sweep.result).filter(([, v]) => v !== undefined).map(([k, v]) =>
                  h("div", { key: k }, h("dt", { style: { display: "inline", color: "#666" } }, `${d(`sweepFields.${k}`, { defaultValue: k })}: `),
                    h("dd", { style: { display: "inline", margin: 0 } }, String(v))))))
          : h(Text, null, d("noSweep")),
        h(Text, { mt: "default", style: { color: "#666" } }, d("reconciled24h")),
        Object.keys(data.reconciled).length
          ? h("ul", { style: { margin: 0, paddingLeft: 16 } }, ...Object.entries(data.reconciled).map(([type, n]) =>
              h("li", { key: type }, `${tc(`Timeline.types.${type}`, { defaultValue: type })}: ${n}`)))
          : h(Text, null, "–")),
      h(BillsCard, { bills: data.bills, d, tl }),
    ),
  );
}
