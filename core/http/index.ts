import type { ErrorRequestHandler, RequestHandler } from "express";
import helmet from "helmet";
import type { Logger } from "pino";
import { isDatabaseUnavailable } from "../db/index.ts";
import { currentWork, requestIdFrom, runWithWork } from "../logging/index.ts";

/** Retry-After of a 503 while PostgreSQL is unreachable: long enough not to hammer it, short enough
 *  that a buyer retrying by hand after a failover gets through. */
export const DATABASE_DOWN_RETRY_AFTER_SECONDS = 5;

/** Gives every request an id (X-Request-Id in and out) that every log line of its work carries. */
export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const requestId = requestIdFrom(req.headers["x-request-id"]);
    res.setHeader("X-Request-Id", requestId);
    (req as { requestId?: string }).requestId = requestId;
    runWithWork({ requestId }, next);
  };
}

/**
 * One debug line per request when it finishes (method, route pattern, status, time), under the
 * request's id. Never headers, query strings or bodies: those are where tokens, cookies, signatures
 * and passwords travel. Mount after requestContext().
 */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!logger.isLevelEnabled("debug")) return next();
    const started = process.hrtime.bigint();
    // 'finish' is emitted outside the request's async context: carry its fields explicitly.
    const work = currentWork();
    res.on("finish", () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : undefined;
      logger.debug(
        { ...work, method: req.method, path: req.originalUrl.split("?", 1)[0], route, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 },
        "request",
      );
    });
    next();
  };
}

/** Security headers. Pages here use no third-party scripts; inline styles only. */
export function securityHeaders(options: { allowInlineScripts?: boolean } = {}): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        "script-src": options.allowInlineScripts ? ["'self'", "'unsafe-inline'"] : ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "form-action": null, // the checkout form posts to the Alipay gateway (another origin)
        "upgrade-insecure-requests": null, // local http deployments must keep working
      },
    },
    strictTransportSecurity: false, // set by the TLS terminator in production, not by http roles
  });
}

/**
 * Last error handler: a short JSON error, never a stack trace or internal detail. PostgreSQL being
 * unreachable is not a bug of the request: 503 with Retry-After, so clients and load balancers retry
 * instead of paging someone about a 500 (the notify route has its own 503 for Alipay).
 */
export function errorResponder(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (isDatabaseUnavailable(err)) {
      logger.error({ err, path: req.path }, "database unavailable");
      if (res.headersSent) return;
      res.setHeader("Retry-After", String(DATABASE_DOWN_RETRY_AFTER_SECONDS));
      res.status(503).json({ error: "service temporarily unavailable; try again shortly", requestId: (req as { requestId?: string }).requestId });
      return;
    }
    const status = typeof err?.status === "number" && err.status >= 400 && err.status < 600 ? err.status : 500;
    if (status >= 500) logger.error({ err, path: req.path }, "request failed");
    if (res.headersSent) return;
    const message = status >= 500 ? "internal error" : err.expose !== false && err.message ? String(err.message) : "bad request";
    res.status(status).json({ error: status === 413 ? "request body too large" : message, requestId: (req as { requestId?: string }).requestId });
  };
}
