// Interface language: zh-CN by default, English on request. The choice lives in a cookie that both
// sides read and write: the server renders pages in it (AdminJS's `locale` option is a function of
// currentAdmin, which carries it), and AdminJS's own language selector (i18next's browser language
// detector, caches: ["cookie"]) writes it when staff switch, so the next page load agrees.
// `?lang=en` on any admin URL sets it too.
import { AsyncLocalStorage } from "node:async_hooks";
import type { RequestHandler } from "express";
import type { CurrentAdmin, Locale } from "adminjs";
import en, { type Translations } from "./en.ts";
import zhCN from "./zh-CN.ts";

export const LANGUAGES = ["zh-CN", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = "zh-CN";
export const LANG_COOKIE = "coursepay_lang";
export const TRANSLATIONS: Record<Language, Translations> = { "zh-CN": zhCN, en };

export function parseLanguage(value: unknown): Language | null {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value) ? (value as Language) : null;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

declare global {
  namespace Express {
    interface Request {
      /** The interface language of this request (languageMiddleware). */
      lang?: Language;
    }
  }
}

/** Resolves req.lang from ?lang= (which also sets the cookie) or the cookie, else the default. */
export function languageMiddleware(): RequestHandler {
  return (req, res, next) => {
    const fromQuery = parseLanguage(req.query.lang);
    if (fromQuery) {
      // Not httpOnly: the browser-side language selector rewrites it. It is a preference, not a secret.
      res.cookie(LANG_COOKIE, fromQuery, { path: "/", sameSite: "lax", maxAge: 365 * 24 * 3600 * 1000 });
    }
    req.lang = fromQuery ?? parseLanguage(cookieValue(req.headers.cookie, LANG_COOKIE)) ?? DEFAULT_LANGUAGE;
    next();
  };
}

// Only for the login page: AdminJS renders it without a currentAdmin, so the locale function learns
// the language from here. Used around one synchronous call chain (renderLogin), never across pooled
// I/O callbacks, where AsyncLocalStorage contexts are not reliable.
const loginLanguage = new AsyncLocalStorage<Language>();
export function withLanguage<T>(lang: Language, fn: () => T): T {
  return loginLanguage.run(lang, fn);
}

/** AdminJS `locale` option. */
export function adminLocale(currentAdmin?: CurrentAdmin): Locale {
  const language = parseLanguage((currentAdmin as { locale?: unknown } | undefined)?.locale) ?? loginLanguage.getStore() ?? DEFAULT_LANGUAGE;
  return {
    language,
    availableLanguages: [...LANGUAGES],
    translations: TRANSLATIONS,
    localeDetection: true,
    // Passed through to i18next-browser-languagedetector. Navigator language is deliberately not
    // consulted: the shop's default is Chinese whatever the browser says.
    detection: {
      order: ["querystring", "cookie", "htmlTag"],
      lookupQuerystring: "lang",
      lookupCookie: LANG_COOKIE,
      caches: ["cookie"],
      cookieOptions: { path: "/", sameSite: "lax" },
    },
  } as Locale;
}

/** Server-side lookup by dotted path (CSV headers, notices built on the server). */
export function translate(lang: Language, path: string, fallback = path): string {
  let node: unknown = TRANSLATIONS[lang];
  for (const key of path.split(".")) node = (node as Record<string, unknown> | undefined)?.[key];
  return typeof node === "string" ? node : fallback;
}
