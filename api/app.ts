import express from "express";
import { databaseProbe, healthRoutes, redisProbe } from "../core/health/index.ts";
import { accessLog, errorResponder, requestContext, securityHeaders } from "../core/http/index.ts";
import { rateLimitStore } from "../core/http/rate-limit.ts";
import { httpMetrics, metrics, metricsRoute } from "../core/metrics/index.ts";
import { createIntakeBatching, createOrderDeps, type IntakeDeps, type OrderDeps } from "../core/orders/index.ts";
import { createQueues, type Queues } from "../core/queues/index.ts";
import { createRefundDeps, type RefundDeps } from "../core/refunds/index.ts";
import type { RoleContext } from "../core/runtime/role.ts";
import { domainErrors } from "./errors.ts";
import { openApiRoutes } from "./openapi.ts";
import { buyerPages } from "./pages/index.ts";
import { buyerRateLimits } from "./rate-limits.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { alipayRoutes } from "./routes/alipay.ts";
import { orderRoutes } from "./routes/orders.ts";

export interface ApiServices {
  queues: Queues;
  /** The order domain's one dependency object: order commands and callback intake alike. */
  orders: IntakeDeps;
  /** Buyers' refund requests (rows only: the api never calls Alipay's refund). */
  refunds?: RefundDeps;
}

/** Queues and command deps for the api; the queues are closed with the role. */
export function createApiServices(ctx: RoleContext, overrides: Partial<Pick<OrderDeps, "alipay">> = {}): ApiServices {
  const queues = createQueues(ctx.config);
  ctx.lifecycle.onShutdown("queues", () => queues.close());
  // Concurrent notifies share one inbox statement (one commit) and one enqueue (core/orders/batching.ts).
  const intakeBatching = createIntakeBatching(ctx.prisma, queues);
  const orders = createOrderDeps({ prisma: ctx.prisma, config: ctx.config, logger: ctx.logger, queues, metrics, alipay: overrides.alipay, intakeBatching });
  const refunds = createRefundDeps({ prisma: ctx.prisma, config: ctx.config, logger: ctx.logger, queues, metrics, alipay: orders.alipay as unknown as RefundDeps["alipay"] });
  return { queues, orders, refunds };
}

export function createApiApp(ctx: RoleContext, services: ApiServices = createApiServices(ctx)): express.Express {
  const app = express();
  // Every limiter counts in Redis, shared by all api replicas (core/http/rate-limit.ts).
  const stores = (name: string) => rateLimitStore({ redis: ctx.redis, redisPrefix: ctx.config.redisPrefix, logger: ctx.logger }, name);
  app.disable("x-powered-by");
  app.disable("etag");
  // https public URL ⇒ a TLS-terminating proxy in front (as in admin/app.ts): believe its
  // X-Forwarded-For only from private/loopback addresses, so req.ip (rate limits) is the buyer's.
  if (new URL(ctx.config.urls.api).protocol === "https:") app.set("trust proxy", "loopback, linklocal, uniquelocal");
  app.use(securityHeaders()); // every response, JSON included (nosniff, frame-ancestors, CSP…)
  app.use(healthRoutes("api", [databaseProbe(ctx.prisma), redisProbe(ctx.redis)]));
  app.get("/metrics", metricsRoute);
  app.use(requestContext());
  app.use(accessLog(ctx.logger));
  app.use(httpMetrics());
  // Before the JSON parser: the notify body must reach intake as untouched bytes.
  app.use(alipayRoutes({ intake: services.orders, notifyBodyBytes: ctx.config.limits.notifyBodyBytes, logger: ctx.logger, limits: ctx.config.limits, stores }));
  app.use(express.json({ limit: "16kb" }));
  app.use(openApiRoutes(ctx.config.urls.api));
  app.use(buyerRateLimits({ tokenSecret: ctx.config.secrets.token, limits: { registerPerAddress: ctx.config.limits.registerPerAddress }, stores }));
  // HTML for browsers; API clients asking the same paths fall through to the JSON routes.
  app.use(buyerPages({ prisma: ctx.prisma }));
  app.use(accountRoutes({ prisma: ctx.prisma, tokenSecret: ctx.config.secrets.token }));
  app.use(orderRoutes({ orders: services.orders, refunds: services.refunds, tokenSecret: ctx.config.secrets.token }));
  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  app.use(domainErrors);
  app.use(errorResponder(ctx.logger));
  return app;
}
