// The frame every buyer page shares: header (shop, navigation, account, language switch), main, and
// the page's data block for the script. No inline script anywhere (CSP script-src 'self'); inline
// style attributes are allowed by the policy but the stylesheet covers everything.
import { assetUrls } from "./assets.ts";
import { html, jsonBlock, type Html } from "./html.ts";
import { messages, type Locale } from "./i18n.ts";

/** Which script behaviour a page gets (document.body.dataset.page). */
export type PageId = "catalog" | "signin" | "checkout" | "result" | "orders";

export interface Frame {
  locale: Locale;
  page: PageId;
  title: string;
  /** The request's path and query, to build the language switch link. */
  currentUrl: string;
  /** Extra data for the script (ids, the order being confirmed…), merged into the data block. */
  data?: Record<string, unknown>;
}

/** The same URL with ?lang= set: switching language keeps the buyer where they are. */
export function withLang(currentUrl: string, locale: Locale): string {
  const u = new URL(currentUrl, "http://local");
  u.searchParams.set("lang", locale);
  return `${u.pathname}${u.search}`;
}

export function layout(frame: Frame, main: Html): string {
  const m = messages(frame.locale);
  const other = m.nav.languageLocale as Locale;
  return html`<!doctype html>
<html lang="${frame.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · ${m.site.name}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrls.style}">
<script src="${assetUrls.script}" defer></script>
</head>
<body data-page="${frame.page}">
<header class="top">
  <a class="brand" href="/">${m.site.name}<small>${m.site.tagline}</small></a>
  <nav>
    <a href="/" id="nav-catalog">${m.nav.catalog}</a>
    <a href="/orders" id="nav-orders">${m.nav.orders}</a>
    <span id="account"><a href="/signin" id="nav-signin">${m.nav.signin}</a></span>
    <a href="${withLang(frame.currentUrl, other)}" id="lang-switch" hreflang="${other}" lang="${other}">${m.nav.language}</a>
  </nav>
</header>
<main>
${main}
</main>
${jsonBlock("page-data", { locale: frame.locale, page: frame.page, t: m.client, nav: { signin: m.nav.signin, signout: m.nav.signout }, ...frame.data })}
</body>
</html>
`.value;
}
