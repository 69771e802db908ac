// Alipay's two callbacks. The logic (verify, merchant checks, inbox, enqueue, reply policy) is in
// core/orders/intake.ts; here only HTTP: the raw, size-limited body for the notify, the raw query
// for the return, the exact reply bytes, and the per-address limits on what an anonymous client can
// make us write (issue 10):
//   - notify: the body is verified first (one RSA verification with the configured or cached key,
//     no database), and only notifies that fail verification count against the sender's address
//     (NOTIFY_REJECTED_LIMIT_PER_ADDRESS per CALLBACK_LIMIT_WINDOW_MINUTES); past it they are
//     answered 429 and not stored. A verified notify is never counted and never refused: Alipay's
//     retries come from a few addresses, and only Alipay can sign.
//   - return: every request counts (RETURN_LIMIT_PER_ADDRESS per window): a buyer holds a signed
//     return URL and could replay it, and the page is only a courtesy (the notify and the
//     reconciliation settle the order either way).
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from "express";
import { rateLimit } from "express-rate-limit";
import type { Logger } from "pino";
import { securityHeaders } from "../../core/http/index.ts";
import { metrics } from "../../core/metrics/index.ts";
import { receiveNotify, receiveReturn, verifyNotify, type IntakeDeps, type VerifiedNotify } from "../../core/orders/index.ts";
import { localeOf, renderReturnPage } from "../pages/index.ts";
import { clientAddress, type Limit, type LimitStores } from "../rate-limits.ts";

export interface CallbackLimits {
  notifyRejectedPerAddress: Limit;
  returnPerAddress: Limit;
}

const bodyOf = (req: Request) => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
const checked = (res: Response) => res.locals.notifyChecked as VerifiedNotify | undefined;

export function alipayRoutes(deps: { intake: IntakeDeps; notifyBodyBytes: number; logger: Logger; limits: CallbackLimits; stores?: LimitStores }): Router {
  const router = Router();

  const callbackLimiter = (name: string, kind: "notify" | "return", l: Limit, skip: (req: Request, res: Response) => boolean, refuse: (res: Response) => void): RequestHandler =>
    rateLimit({
      windowMs: l.windowMs,
      limit: l.limit,
      store: deps.stores?.(`api-${name}`),
      skip,
      keyGenerator: clientAddress,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      handler: (req, res) => {
        metrics.callbacksReceived.inc({ kind });
        metrics.callbacksRejected.inc({ kind, reason: "rate_limited" });
        deps.logger.warn({ ip: req.ip, kind }, "callback refused: address over its limit; not stored");
        refuse(res);
      },
    });

  // Verified before the limit is looked at, so that only what fails verification is counted; the
  // result goes on to intake (no second verification). If verifying throws, intake tries again.
  const verifyFirst: RequestHandler = async (req, res, next) => {
    res.locals.notifyChecked = await verifyNotify(deps.intake, bodyOf(req)).catch(() => undefined);
    next();
  };
  const rejectedNotifies = callbackLimiter("notify-rejected-address", "notify", deps.limits.notifyRejectedPerAddress, (_req, res) => checked(res)?.verified === true, (res) => {
    metrics.notifyReplies.inc({ reply: "throttled" });
    res.status(429).type("text/plain").send("failure");
  });
  const returns = callbackLimiter("return-address", "return", deps.limits.returnPerAddress, () => false, (res) => {
    res.setHeader("Cache-Control", "no-store");
    res.status(429).type("text/plain").send("too many requests; try again later");
  });

  // Any content type: the body is kept as bytes and parsed exactly once (form.ts).
  const rawBody = express.raw({ type: () => true, limit: deps.notifyBodyBytes });
  router.post("/alipay/notify", rawBody, verifyFirst, rejectedNotifies, async (req, res) => {
    const body = bodyOf(req);
    let reply: { status: number; body: string };
    try {
      reply = await receiveNotify(deps.intake, body, checked(res));
    } catch (e) {
      // The inbox could not be written (database down…): not `success`, so Alipay retries.
      deps.logger.error({ err: e }, "notify not recorded; asking Alipay to retry");
      metrics.notifyReplies.inc({ reply: "retry" });
      reply = { status: 503, body: "failure" };
    }
    res.status(reply.status).type("text/plain").send(reply.body);
  });
  const notifyErrors: ErrorRequestHandler = (err, req, res, next) => {
    if (req.path !== "/alipay/notify") return next(err);
    const status = typeof err?.status === "number" ? err.status : 500;
    // Refused before intake (too large, aborted, bad encoding): counted here, intake never saw it.
    metrics.callbacksRejected.inc({ kind: "notify", reason: status === 413 ? "body_too_large" : "unreadable_body" });
    metrics.notifyReplies.inc({ reply: status >= 500 ? "retry" : "failure" });
    res.status(status).type("text/plain").send("failure");
  };
  router.use(notifyErrors);

  router.get("/alipay/return", securityHeaders(), returns, async (req, res) => {
    const q = req.originalUrl.indexOf("?");
    const rawQuery = q < 0 ? "" : req.originalUrl.slice(q + 1);
    const result = await receiveReturn(deps.intake, rawQuery);
    res.setHeader("Cache-Control", "no-store");
    res.status(result.verified ? 200 : 400).type("html").send(renderReturnPage(result, localeOf(req)));
  });

  return router;
}
