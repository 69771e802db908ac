// Alipay's two callbacks. The logic (verify, merchant checks, inbox, enqueue, reply policy) is in
// core/orders/intake.ts; here only HTTP: the raw, size-limited body for the notify, the raw query
// for the return, and the exact reply bytes.
import express, { Router, type ErrorRequestHandler } from "express";
import type { Logger } from "pino";
import { securityHeaders } from "../../core/http/index.ts";
import { metrics } from "../../core/metrics/index.ts";
import { receiveNotify, receiveReturn, type IntakeDeps } from "../../core/orders/index.ts";
import { localeOf, renderReturnPage } from "../pages/index.ts";

export function alipayRoutes(deps: { intake: IntakeDeps; notifyBodyBytes: number; logger: Logger }): Router {
  const router = Router();

  // Any content type: the body is kept as bytes and parsed exactly once by intake (form.ts).
  const rawBody = express.raw({ type: () => true, limit: deps.notifyBodyBytes });
  router.post("/alipay/notify", rawBody, async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let reply: { status: number; body: string };
    try {
      reply = await receiveNotify(deps.intake, body);
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

  router.get("/alipay/return", securityHeaders(), async (req, res) => {
    const q = req.originalUrl.indexOf("?");
    const rawQuery = q < 0 ? "" : req.originalUrl.slice(q + 1);
    const result = await receiveReturn(deps.intake, rawQuery);
    res.setHeader("Cache-Control", "no-store");
    res.status(result.verified ? 200 : 400).type("html").send(renderReturnPage(result, localeOf(req)));
  });

  return router;
}
