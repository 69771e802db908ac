// "My orders" (/orders, when a browser asks for a page). Only the frame is rendered here: the rows
// come from GET /orders with the buyer's bearer token, which only the script holds. Rows are built
// with textContent in the script, never innerHTML, so titles from the database stay text.
import { html } from "./html.ts";
import { messages, type Locale } from "./i18n.ts";
import { layout } from "./layout.ts";
import type { PayChannel } from "../pay-channel.ts";
import { payWithSwitch } from "./pay-with.ts";

// ?order=<out_trade_no> (wap pay's quit_url: the buyer left Alipay's phone cashier) marks that row.
export function myOrdersPage(locale: Locale, currentUrl: string, channel: PayChannel = "page"): string {
  const all = messages(locale);
  const m = all.orders;
  return layout(
    { locale, page: "orders", title: m.title, currentUrl, data: { payChannel: channel } },
    html`<h1>${m.title}</h1>
${payWithSwitch(locale, currentUrl, channel)}
<p class="notice" id="orders-message" role="status">${all.client.loading}</p>
<table class="orders" id="orders-table" hidden>
  <thead><tr><th>${m.orderNo}</th><th>${m.courses}</th><th class="num">${m.amount}</th><th>${m.status}</th><th>${m.created}</th><th>${m.actions}</th></tr></thead>
  <tbody id="orders-body"></tbody>
</table>
<p><button type="button" class="secondary" id="orders-more" hidden>${m.more}</button></p>`,
  );
}
