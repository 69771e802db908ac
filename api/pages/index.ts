// The buyer pages, as one router the api mounts:
//   GET /                              course catalog
//   GET /signin?next=/path             sign in / register
//   GET /checkout?course=1&course=2    review and pay (creates the order via POST /orders, then goes to Alipay)
//   GET /orders                        my orders — only for browsers asking for HTML without a bearer
//                                      token; API clients (Accept: json, or Authorization) fall through
//                                      to the JSON route of the same path
//   GET /orders/:outTradeNo/result     the "confirming payment" page after Alipay's return
//   GET /assets/:name                  the script and stylesheet, content-hashed, cached for a year
// Every page is sent with a strict Content-Security-Policy (script-src 'self': no inline script).
// Buyer identity never travels in a cookie: the pages' script calls the JSON API with the bearer
// token it keeps in localStorage, so there is no CSRF surface.
import { Router, type Request, type RequestHandler, type Response } from "express";
import type { PrismaClient } from "@prisma/client";
import { OUT_TRADE_NO } from "../../core/alipay/protocol.ts";
import { securityHeaders } from "../../core/http/index.ts";
import { ASSETS_PREFIX, serveAsset } from "./assets.ts";
import { catalogPage, type CourseCard } from "./catalog.ts";
import { checkoutPage, courseIdsFrom } from "./checkout.ts";
import { localeOf, type Locale } from "./i18n.ts";
import { myOrdersPage } from "./my-orders.ts";
import { resultPage } from "./result.ts";
import { signinPage } from "./signin.ts";
import { payChannelOf } from "../pay-channel.ts";

export { resultPath } from "./result.ts";
export { localeOf } from "./i18n.ts";
export { renderReturnPage } from "./return-result.ts";

export interface BuyerPagesOptions {
  /** Read-only use: active courses for the catalog and checkout. */
  prisma: Pick<PrismaClient, "course">;
}


/** A browser navigating to the page, not a script calling the JSON API at the same path. */
function wantsPage(req: Request): boolean {
  return !req.headers.authorization && req.accepts(["json", "html"]) === "html";
}

function sendPage(res: Response, locale: Locale, body: string, status = 200): void {
  // The HTML depends on the language and pay-channel cookies and the User-Agent (phone or computer
  // cashier); the buyer's data is never in it (the script fetches that).
  res.vary("Cookie");
  res.vary("User-Agent");
  res.setHeader("Cache-Control", "no-cache");
  res.setHeader("Content-Language", locale);
  res.status(status).type("html").send(body);
}

export function buyerPages(options: BuyerPagesOptions): Router {
  const router = Router();
  const secure = securityHeaders();
  const page = (render: (req: Request, locale: Locale, res: Response) => Promise<string> | string): RequestHandler[] => [
    secure,
    async (req, res) => {
      const locale = localeOf(req, res);
      sendPage(res, locale, await render(req, locale, res));
    },
  ];
  const activeCourses = async (ids?: number[]): Promise<CourseCard[]> =>
    options.prisma.course.findMany({
      where: { active: true, ...(ids ? { id: { in: ids } } : {}) },
      orderBy: { id: "asc" },
      select: { id: true, title: true, description: true, priceFen: true },
    });

  router.get(`${ASSETS_PREFIX}/:name`, serveAsset);

  router.get("/", ...page(async (req, locale) => catalogPage(locale, req.originalUrl, await activeCourses())));

  router.get("/signin", ...page((req, locale) => signinPage(locale, req.originalUrl, req.query.next)));

  router.get("/checkout", ...page(async (req, locale, res) => {
    const ids = courseIdsFrom(req.query.course);
    return checkoutPage(locale, req.originalUrl, ids, ids.length ? await activeCourses(ids) : [], payChannelOf(req, res));
  }));

  // The same path serves JSON to API clients: caches must keep the two apart.
  const browsersOnly: RequestHandler = (req, res, next) => {
    res.vary("Accept");
    res.vary("Authorization");
    next(wantsPage(req) ? undefined : "route");
  };
  router.get("/orders", browsersOnly, ...page((req, locale, res) => myOrdersPage(locale, req.originalUrl, payChannelOf(req, res))));

  const ourOrderNo: RequestHandler = (req, _res, next) => next(OUT_TRADE_NO.test(String(req.params.outTradeNo)) ? undefined : "route");
  router.get("/orders/:outTradeNo/result", ourOrderNo, ...page((req, locale) =>
    resultPage(locale, req.originalUrl, { outTradeNo: String(req.params.outTradeNo) })));

  return router;
}
