// Checkout (/checkout?course=1&course=2): what the buyer is about to pay for. The total shown is
// for the buyer's eyes only; the order is priced again by the server from course ids alone
// (POST /orders), so a tampered page cannot change what Alipay is asked to collect.
import { z } from "zod";
import { INT4_MAX } from "../../core/db/index.ts";
import { fenToYuan } from "../../core/money/index.ts";
import { html } from "./html.ts";
import { format, messages, type Locale } from "./i18n.ts";
import { layout } from "./layout.ts";
import type { CourseCard } from "./catalog.ts";
import type { PayChannel } from "../pay-channel.ts";
import { payWithSwitch } from "./pay-with.ts";

const MAX_COURSES = 50;
const CourseId = z.coerce.number().int().positive().max(INT4_MAX);

/** ?course=1&course=2 (or course=1,2) → distinct valid ids, in the order given; junk is dropped. */
export function courseIdsFrom(query: unknown): number[] {
  const values = ([] as unknown[]).concat(query ?? []).flatMap((v) => (typeof v === "string" ? v.split(",") : []));
  const ids = values.map((v) => CourseId.safeParse(v.trim())).flatMap((r) => (r.success ? [r.data] : []));
  return [...new Set(ids)].slice(0, MAX_COURSES);
}

export function checkoutPage(locale: Locale, currentUrl: string, asked: number[], courses: CourseCard[], channel: PayChannel = "page"): string {
  const m = messages(locale).checkout;
  const found = asked.flatMap((id) => courses.filter((c) => c.id === id));
  const total = fenToYuan(found.reduce((sum, c) => sum + c.priceFen, 0));
  const body = found.length
    ? html`<table class="lines" id="checkout-lines">
  <thead><tr><th>${m.course}</th><th class="num">${m.price}</th></tr></thead>
  <tbody>${found.map((c) => html`
    <tr data-course-id="${c.id}"><td>${c.title}</td><td class="num">¥${fenToYuan(c.priceFen)}</td></tr>`)}
  </tbody>
  <tfoot><tr><th>${m.total}</th><td class="num total" id="checkout-total">¥${total}</td></tr></tfoot>
</table>
${found.length < asked.length ? html`<p class="warning" id="checkout-unavailable">${m.unavailable}</p>` : ""}
<p class="note">${m.note}</p>
${payWithSwitch(locale, currentUrl, channel)}
<p class="error" id="checkout-error" role="alert" hidden></p>
<div class="actions">
  <button type="button" class="primary" id="pay" data-course-ids="${found.map((c) => c.id).join(",")}">${format(m.pay, { total })}</button>
  <a href="/" class="button secondary">${m.back}</a>
</div>`
    : html`<p class="empty" id="checkout-empty">${m.none}</p><p><a href="/" class="button secondary">${m.back}</a></p>`;
  return layout({ locale, page: "checkout", title: m.title, currentUrl, data: { payChannel: channel } }, html`<h1>${m.title}</h1>\n${body}`);
}
