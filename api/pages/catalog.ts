// The course catalog (/): server-rendered from the database so it shows without waiting for a
// script. A plain GET form to /checkout: buying works even before the script has loaded.
import { fenToYuan } from "../../core/money/index.ts";
import { html } from "./html.ts";
import { messages, type Locale } from "./i18n.ts";
import { layout } from "./layout.ts";

export interface CourseCard {
  id: number;
  title: string;
  description: string;
  priceFen: number;
}

export function catalogPage(locale: Locale, currentUrl: string, courses: CourseCard[]): string {
  const m = messages(locale).catalog;
  const list = courses.length
    ? html`<ul class="courses" id="course-list">${courses.map(
        (c) => html`
  <li class="course" data-course-id="${c.id}" data-price-fen="${c.priceFen}">
    <h2 class="course-title">${c.title}</h2>
    <p class="course-description">${c.description}</p>
    <div class="course-row">
      <span class="price">¥${fenToYuan(c.priceFen)}</span>
      <label class="pick"><input type="checkbox" name="course" value="${c.id}"> ${m.select}</label>
      <a class="button secondary buy-now" href="/checkout?course=${c.id}">${m.buyNow}</a>
    </div>
  </li>`,
      )}
</ul>`
    : html`<p class="empty" id="course-list-empty">${m.empty}</p>`;
  return layout(
    { locale, page: "catalog", title: m.title, currentUrl },
    html`<h1>${m.title}</h1>
<p class="intro">${m.intro}</p>
<form method="get" action="/checkout" id="catalog-form">
${list}
<div class="cart">
  <span id="selected-summary" data-template="${m.selectedTotal}"></span>
  <button type="submit" id="buy-selected"${courses.length ? "" : " disabled"}>${m.buySelected}</button>
</div>
</form>`,
  );
}
