// The result page the buyer lands on after Alipay's cashier (/orders/:outTradeNo/result, and the
// page GET /alipay/return renders). The return proves only that the browser came back — it carries
// no trade status — so the page says "confirming" and the script polls the order (GET /orders/:id
// with the buyer's token) until it is PAID, or CLOSED/CANCELLED. When the server already knows the
// order's status from the database (rendered by the return route), that status is shown at once.
import type { OrderStatus } from "@prisma/client";
import { fenToYuan } from "../../core/money/index.ts";
import { html } from "./html.ts";
import { format, messages, type Locale } from "./i18n.ts";
import { layout } from "./layout.ts";

export type ResultState = "confirming" | "paid" | "closed" | "unverified";

/** Where an order status leaves the buyer: still waiting, done, or over without payment. */
export function resultStateOf(status: OrderStatus): Exclude<ResultState, "unverified"> {
  switch (status) {
    case "PAID":
    case "PARTIALLY_REFUNDED":
    case "REFUNDED":
      return "paid";
    case "CLOSED":
    case "CANCELLED":
      return "closed";
    default:
      return "confirming";
  }
}

export interface ResultModel {
  outTradeNo: string | null;
  /** Known when the server rendered the page from the order row (return route). */
  order?: { id: number; status: OrderStatus; totalFen: number; subject: string } | null;
  /** false: a return whose signature did not verify; nothing about the order is shown. */
  verified?: boolean;
}

export const resultPath = (outTradeNo: string) => `/orders/${encodeURIComponent(outTradeNo)}/result`;

export function resultPage(locale: Locale, currentUrl: string, model: ResultModel): string {
  const all = messages(locale);
  const m = all.result;
  const t = all.client;
  const order = model.verified === false ? null : model.order ?? null;
  const state: ResultState = model.verified === false ? "unverified" : order ? resultStateOf(order.status) : "confirming";
  const total = order ? fenToYuan(order.totalFen) : "";
  const text: Record<ResultState, [string, string]> = {
    confirming: [t.confirming, t.confirmingDetail],
    paid: [t.paid, format(t.paidDetail, { total })],
    closed: [t.closed, format(t.closedDetail, { status: order ? t.status[order.status] : "" })],
    unverified: [m.unverified, m.unverifiedDetail],
  };
  const [title, detail] = text[state];
  const outTradeNo = model.verified === false ? null : model.outTradeNo;
  return layout(
    {
      locale,
      page: "result",
      title: m.title,
      currentUrl,
      // The script polls only from "confirming"; it needs the out_trade_no, and the id when known.
      data: { outTradeNo, orderId: order?.id ?? null, state },
    },
    html`<section class="result" id="result" data-state="${state}" aria-live="polite">
  <div class="result-icon" aria-hidden="true"></div>
  <h1 id="result-title">${title}</h1>
  <p id="result-detail">${detail}</p>
  ${outTradeNo ? html`<dl class="facts">
    <dt>${all.orders.orderNo}</dt><dd id="result-out-trade-no">${outTradeNo}</dd>
    <dt>${all.orders.courses}</dt><dd id="result-subject">${order?.subject ?? ""}</dd>
    <dt>${all.orders.amount}</dt><dd id="result-amount">${order ? `¥${total}` : ""}</dd>
    <dt>${all.orders.status}</dt><dd id="result-status" data-status="${order?.status ?? ""}">${order ? t.status[order.status] : ""}</dd>
  </dl>` : ""}
  <p class="note">${m.note}</p>
  <p><a class="button secondary" href="/orders" id="result-to-orders">${m.toOrders}</a></p>
</section>`,
  );
}
