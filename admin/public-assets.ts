// The back office's own static files (favicon, stylesheet), public like AdminJS's bundles (the login
// page needs them), and the removal of AdminJS's one third-party request.
//
// AdminJS's page templates hard-code a Google Fonts stylesheet (adminjs/lib/frontend/layout-template.js
// and login-template.js: <link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto…">).
// Our CSP (core/http securityHeaders) allows styles only from 'self', so browsers block it and log a
// violation on every page, and a deployment without internet access waits for it. The link is
// removed from the HTML AdminJS renders; admin.css sets a system font stack instead (Roboto has no
// Chinese glyphs anyway).
import path from "node:path";
import express, { type RequestHandler, type Router } from "express";

const DIR = path.join(import.meta.dirname, "public");
/** Relative to the admin's root path. */
export const ASSETS_PATH = "/frontend/assets/coursepay";
export const FAVICON = "favicon.png";
export const STYLESHEET = "admin.css";

/** Serves admin/public at ASSETS_PATH (mount under the admin's root). */
export function publicAssets(): Router {
  const router = express.Router();
  router.use(ASSETS_PATH, express.static(DIR, { index: false, fallthrough: false, maxAge: "1h" }));
  return router;
}

/** The favicon itself, for browsers that ask for /favicon.ico whatever the page says. */
export const faviconFile = path.join(DIR, FAVICON);

const THIRD_PARTY_FONTS = /<link\b[^>]*\bhref="https:\/\/fonts\.googleapis\.com\/[^>]*>\s*/g;

/** Drops AdminJS's Google Fonts <link> from the HTML pages it renders. */
export function withoutThirdPartyFonts(): RequestHandler {
  return (_req, res, next) => {
    const send = res.send.bind(res);
    res.send = ((body?: unknown) =>
      send(typeof body === "string" && body.includes("fonts.googleapis.com") ? body.replace(THIRD_PARTY_FONTS, "") : body)) as typeof res.send;
    next();
  };
}
