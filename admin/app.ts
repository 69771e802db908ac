// The back office: AdminJS for staff at /admin, with its own login, sessions, role checks, CSV
// export and the queue board. Everything is assembled here; the parts live beside this file.
//
//   /healthz /readyz                  health (no session)
//   /admin/login, /admin/logout       auth/login.ts (rate-limited, session regenerated)
//   /admin/frontend/assets/*          AdminJS's static bundles + our components bundle (bundle.ts)
//   ── below: a logged-in, enabled staff account (auth/login.ts requireStaff) ──
//   /admin/queues                     bull-board, operators and admins
//   /admin/export/orders.csv          CSV of the filtered order list
//   /admin/api/…                      AdminJS's API, behind actionGuard (403 for roles without the right)
//   /admin/…                          AdminJS pages
import path from "node:path";
import express from "express";
import formidableMiddleware from "express-formidable";
import AdminJS, { Router as AdminRouter, type BrandingOptions, type PageContext } from "adminjs";
import { buildRoutes } from "@adminjs/express";
import { databaseProbe, healthRoutes, redisProbe } from "../core/health/index.ts";
import { accessLog, errorResponder, requestContext, securityHeaders } from "../core/http/index.ts";
import { readSweepHealth } from "../core/health/sweep.ts";
import { httpMetrics, metrics, metricsRoute, queueDepthOf, setQueueDepthSource, setSweepHealthSource } from "../core/metrics/index.ts";
import { alipayFromConfig, createOrderDeps, type OrderDeps } from "../core/orders/index.ts";
import { createQueues, type Queues } from "../core/queues/index.ts";
import type { RoleContext } from "../core/runtime/role.ts";
import { AREAS, actionGuard, asStaff, hasRole, requireRole } from "./access.ts";
import { billCommands } from "./actions/bill-commands.ts";
import { orderCommands } from "./actions/order-commands.ts";
import { refundCommands } from "./actions/refund-commands.ts";
import { createRefundDeps, type RefundDeps } from "../core/refunds/index.ts";
import { loginRoutes, requireStaff, sameOriginWrites } from "./auth/login.ts";
import { SESSION_COOKIE, createSession } from "./auth/session.ts";
import { COMPONENTS_BUNDLE_PATH, componentBundle } from "./bundle.ts";
import { createComponents } from "./components/index.ts";
import { loadDashboard } from "./dashboard/data.ts";
import { billDifferenceCsvExport, orderCsvExport } from "./export.ts";
import { adminLocale, languageMiddleware } from "./locale/index.ts";
import { ASSETS_PATH, FAVICON, STYLESHEET, faviconFile, publicAssets, withoutThirdPartyFonts } from "./public-assets.ts";
import { queuesBoard } from "./queues-board.ts";
import { buildResources } from "./resources/index.ts";
import { createOrderResource } from "./resources/orders.ts";
import { createBillDifferenceResource } from "./resources/bills.ts";
import { createBillQueue } from "../core/bills/index.ts";

export const ADMIN_ROOT = "/admin";
export const QUEUES_PATH = "/queues";
export const EXPORT_PATH = "/export/orders.csv";
export const BILL_DIFFERENCES_EXPORT_PATH = "/export/bill-differences.csv";

export interface AdminAppOptions {
  /** Dependencies of the order commands; by default built from the role's config (real Alipay client). */
  orderDeps?: OrderDeps;
  /** BullMQ producers (dashboard, queue board, re-drive); by default opened here and closed at shutdown. */
  queues?: Queues;
  /** Build the components bundle now instead of on the first page load (servers; tests skip it). */
  prebuildBundle?: boolean;
}

export async function createAdminApp(ctx: RoleContext, options: AdminAppOptions = {}): Promise<express.Express> {
  const { config, logger, prisma, redis, lifecycle } = ctx;

  const queues = options.queues ?? createQueues(config);
  if (!options.queues) lifecycle.onShutdown("admin queues", () => queues.close());
  setQueueDepthSource(queueDepthOf(queues.all())); // coursepay_queue_jobs on the admin's /metrics too
  setSweepHealthSource(() => readSweepHealth(redis, config.redisPrefix)); // and whether reconciliation is failing now
  const orderDeps = options.orderDeps ?? createOrderDeps({ prisma, config, logger, queues, metrics });

  // Refund commands only write rows and enqueue: the worker talks to Alipay.
  const refundDeps = createRefundDeps({
    prisma, config, logger, queues, metrics,
    alipay: "refund" in orderDeps.alipay ? (orderDeps.alipay as unknown as RefundDeps["alipay"]) : alipayFromConfig(config, logger, prisma, metrics),
  });
  const { loader, components } = createComponents();
  const orders = createOrderResource(prisma);
  const billDifferences = createBillDifferenceResource(prisma);
  const billQueue = createBillQueue(config);
  lifecycle.onShutdown("admin bill queue", () => billQueue.close());
  const admin = new AdminJS({
    rootPath: ADMIN_ROOT,
    loginPath: `${ADMIN_ROOT}/login`,
    logoutPath: `${ADMIN_ROOT}/logout`,
    componentLoader: loader,
    resources: buildResources({
      prisma, orders, components, logger,
      commands: [...orderCommands(orderDeps), ...refundCommands(refundDeps), ...billCommands({ orderDeps, prisma, config, refunds: refundDeps })],
      exportHref: `${ADMIN_ROOT}${EXPORT_PATH}`,
      bills: {
        differences: billDifferences,
        differencesExportHref: `${ADMIN_ROOT}${BILL_DIFFERENCES_EXPORT_PATH}`,
        enqueueBillDate: (billDate, actor) => billQueue.enqueueDate(billDate, actor),
      },
    }),
    dashboard: {
      component: components.Dashboard,
      handler: async (_request: unknown, _response: unknown, context: PageContext) =>
        loadDashboard(prisma, {
          queues: queues.all(),
          sweepQueue: queues.reconcileSweep,
          queuesHref: hasRole(asStaff(context.currentAdmin), AREAS.queues) ? `${ADMIN_ROOT}${QUEUES_PATH}` : null,
          timeZone: config.display.timeZone,
        }),
    },
    // Baked into the components bundle as AdminJS.env (components/shared.ts displayTimeZone).
    env: { DISPLAY_TIME_ZONE: config.display.timeZone },
    locale: adminLocale,
    branding: {
      companyName: "coursepay",
      withMadeWithLove: false,
      logo: false,
      favicon: `${ADMIN_ROOT}${ASSETS_PATH}/${FAVICON}`,
      // The design system's font is Roboto (from Google, removed in public-assets.ts): system fonts.
      // (AdminJS types every theme key as a record; `font` is a plain CSS string.)
      theme: { font: "system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif" } as unknown as BrandingOptions["theme"],
    },
    assets: { styles: [`${ADMIN_ROOT}${ASSETS_PATH}/${STYLESHEET}`] },
    settings: { defaultPerPage: 20 },
  });

  const bundle = componentBundle(admin, logger);
  if (options.prebuildBundle) await bundle.build();

  const session = createSession({
    databaseUrl: config.databaseUrl,
    secret: config.secrets.session,
    publicUrl: config.urls.admin,
    cookiePath: ADMIN_ROOT,
    logger,
  });
  lifecycle.onShutdown("admin sessions", () => session.close());

  const router = express.Router();
  router.use(securityHeaders({ allowInlineScripts: true })); // AdminJS pages carry their state in an inline script
  // helmet's default Referrer-Policy (no-referrer) makes browsers send `Origin: null` on same-origin
  // form posts (the login), which sameOriginWrites must refuse: null is also what a sandboxed
  // cross-site frame sends. same-origin keeps the real Origin and still leaks nothing off-site.
  router.use((_req, res, next) => {
    res.setHeader("Referrer-Policy", "same-origin");
    next();
  });
  router.use(languageMiddleware());
  router.use(withoutThirdPartyFonts());
  router.use(publicAssets());
  router.use(session.middleware);
  router.use(sameOriginWrites());
  router.use(loginRoutes({
    admin, prisma, redis, logger, redisPrefix: config.redisPrefix,
    sessionCookie: { name: SESSION_COOKIE, path: ADMIN_ROOT, secure: session.secure },
  }));
  // Static front-end files, public as upstream has them (the login page needs them).
  router.get(COMPONENTS_BUNDLE_PATH, bundle.handler);
  for (const asset of AdminRouter.assets) {
    router.get(asset.path, (_req, res, next) => res.sendFile(path.resolve(asset.src), (e) => e && next(e)));
  }

  router.use(requireStaff({ admin, prisma }));
  router.use(QUEUES_PATH, requireRole(AREAS.queues), queuesBoard(queues.all(), `${ADMIN_ROOT}${QUEUES_PATH}`, { homeHref: ADMIN_ROOT }));
  router.get(EXPORT_PATH, requireRole(AREAS.exportCsv), orderCsvExport({ prisma, orders, logger, timeZone: config.display.timeZone }));
  router.get(BILL_DIFFERENCES_EXPORT_PATH, requireRole(AREAS.exportCsv),
    billDifferenceCsvExport({ prisma, differences: billDifferences, logger, timeZone: config.display.timeZone }));
  const adminRoutes = AdminRouter.routes.filter((r) => r.action !== "bundleComponents");
  router.use(actionGuard(adminRoutes));
  router.use(formidableMiddleware({ maxFileSize: 1024 * 1024, maxFieldsSize: 1024 * 1024 }));
  // AdminJS's routes without its in-process components bundler (served above instead).
  buildRoutes({ admin, routes: adminRoutes, router });

  const app = express();
  app.disable("x-powered-by");
  // https public URL ⇒ a TLS-terminating proxy in front: believe its X-Forwarded-* headers, but only
  // from private/loopback addresses (so req.ip, used by the login limiter, cannot be forged).
  if (session.secure) app.set("trust proxy", "loopback, linklocal, uniquelocal");
  app.use(requestContext());
  app.use(accessLog(logger));
  app.use(httpMetrics());
  app.use(healthRoutes("admin", [databaseProbe(prisma), redisProbe(redis)]));
  app.get("/metrics", metricsRoute);
  app.get("/", (_req, res) => res.redirect(ADMIN_ROOT));
  app.get("/favicon.ico", (_req, res, next) => res.type("png").sendFile(faviconFile, { maxAge: "1h" }, (e) => e && next(e)));
  app.use(ADMIN_ROOT, router);
  app.use(errorResponder(logger));
  return app;
}
