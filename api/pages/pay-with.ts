// The visible switch between Alipay's phone cashier (wap pay) and computer cashier (page pay), shown
// where a payment starts (checkout, "pay now" in My orders). The server guessed from the User-Agent
// (api/pay-channel.ts); the link sets ?pay= and the choice is remembered.
import type { PayChannel } from "../pay-channel.ts";
import { html, type Html } from "./html.ts";
import { messages, type Locale } from "./i18n.ts";

export function withPay(currentUrl: string, channel: PayChannel): string {
  const u = new URL(currentUrl, "http://local");
  u.searchParams.set("pay", channel);
  return `${u.pathname}${u.search}`;
}

export function payWithSwitch(locale: Locale, currentUrl: string, channel: PayChannel): Html {
  const m = messages(locale).payWith;
  const other: PayChannel = channel === "wap" ? "page" : "wap";
  return html`<p class="pay-with" id="pay-with" data-channel="${channel}">${m.label}: <span id="pay-with-text">${channel === "wap" ? m.wap : m.page}</span>
  <a href="${withPay(currentUrl, other)}" id="pay-with-switch" data-channel="${other}">${other === "wap" ? m.toWap : m.toPage}</a></p>`;
}
