// Sign in / register (/signin?next=…). The forms are submitted by the script to the JSON API
// (POST /auth/login, /auth/register); the bearer token it gets back is kept in localStorage.
// `next` is only ever a same-site path: checked here and again by the script before navigating.
import { html } from "./html.ts";
import { messages, type Locale } from "./i18n.ts";
import { layout } from "./layout.ts";

/** A local path to go back to after signing in; anything else (//evil, https://…, \\) becomes "/". */
export function safeNext(value: unknown): string {
  if (typeof value !== "string" || value.length > 2000) return "/";
  return /^\/(?![/\\])[^\\\s]*$/.test(value) ? value : "/";
}

export function signinPage(locale: Locale, currentUrl: string, next: unknown): string {
  const m = messages(locale).signin;
  return layout(
    { locale, page: "signin", title: m.title, currentUrl, data: { next: safeNext(next) } },
    html`<div class="forms">
<section class="panel">
  <h1>${m.signinHeading}</h1>
  <form id="signin-form" novalidate>
    <label>${m.email}<input type="email" name="email" autocomplete="username" required></label>
    <label>${m.password}<input type="password" name="password" autocomplete="current-password" required></label>
    <p class="error" id="signin-error" role="alert" hidden></p>
    <button type="submit" id="signin-submit">${m.signinButton}</button>
  </form>
</section>
<section class="panel">
  <h2>${m.registerHeading}</h2>
  <form id="register-form" novalidate>
    <label>${m.email}<input type="email" name="email" autocomplete="email" required></label>
    <label>${m.password}<input type="password" name="password" autocomplete="new-password" minlength="8" required>
      <small>${m.passwordHint}</small></label>
    <label>${m.displayName}<input type="text" name="displayName" autocomplete="nickname" maxlength="100"></label>
    <p class="error" id="register-error" role="alert" hidden></p>
    <button type="submit" id="register-submit">${m.registerButton}</button>
  </form>
</section>
</div>`,
  );
}
