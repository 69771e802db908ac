import { json, Router, type Request, type Response } from "express";
import { z } from "zod";
import { returnRedirectUrl } from "./cashier.ts";
import { FaultBodySchema } from "./faults.ts";
import type { SandboxGateway } from "./gateway-state.ts";
import type { Outcome } from "./trades.ts";
import type { Trade } from "./types.ts";

// The test/demo control plane, JSON over HTTP under /sandbox/control/. It exists only in the sandbox
// process: it is how tests pay without a browser, force expiry, inspect every notify attempt and inject
// faults. Errors are `{ "error": { "code", "message" } }` with 4xx.

const PayBody = z
  .object({
    buyerId: z.string().regex(/^2088\d{12}$/).optional(),
    buyerLogonId: z.string().min(1).max(100).optional(),
  })
  .strict();

/** A refund made outside the merchant's API (Alipay's merchant console): applied and notified like any other. */
const ConsoleRefundBody = z
  .object({
    refundFen: z.number().int().min(1),
    /** default: a console-made number */
    outRequestNo: z.string().min(1).max(64).optional(),
    /** its notify carries no out_biz_no */
    withoutOutBizNo: z.boolean().optional(),
  })
  .strict();

const RenotifyBody = z
  .object({
    /** a notification's internal id (from GET /notifies); default: the trade's latest notification */
    id: z.string().optional(),
    /** true: a new notification of the current state (new notify_id) instead of redelivering one */
    fresh: z.boolean().optional(),
  })
  .strict();

function problem(res: Response, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  res.status(status).json({ error: { code, message, ...extra } });
}

function parseBody<T>(req: Request, res: Response, schema: z.ZodType<T>): T | undefined {
  const r = schema.safeParse(req.body ?? {});
  if (r.success) return r.data;
  problem(res, 400, "invalid_body", z.prettifyError(r.error), { issues: r.error.issues });
  return undefined;
}

export function createControlRouter(gw: SandboxGateway): Router {
  const router = Router();
  router.use(json({ limit: "64kb" }));
  const { ledger } = gw;

  const tradeOr404 = (req: Request<{ outTradeNo: string }>, res: Response): Trade | undefined => {
    const t = ledger.getTrade(req.params.outTradeNo);
    if (!t) {
      problem(res, 404, "trade_not_found", `no trade ${req.params.outTradeNo}: a trade exists once the buyer logged in at the cashier (pay URL opened, then login)`);
      return undefined;
    }
    return gw.trades.refresh(t);
  };

  const answer = (res: Response, r: Outcome<Trade>, extra: (t: Trade) => Record<string, unknown> = () => ({})) => {
    if (!r.ok) return problem(res, 409, r.subCode, r.subMsg);
    res.json({ trade: r.value, ...extra(r.value) });
  };

  router.get("/info", (_req, res) => void res.json(gw.info()));

  router.get("/trades", (_req, res) => void res.json({ trades: ledger.listTrades() }));

  router.get("/trades/:outTradeNo", (req, res) => {
    const t = tradeOr404(req, res);
    if (t) res.json({ trade: t });
  });

  router.post("/trades/:outTradeNo/pay", (req, res) => {
    const body = parseBody(req, res, PayBody);
    const t = body && tradeOr404(req, res);
    if (!body || !t) return;
    const buyer = { id: body.buyerId ?? gw.buyer.id, logonId: body.buyerLogonId ?? gw.buyer.logonId };
    answer(res, gw.trades.pay(t, buyer), (paid) => ({ returnUrl: returnRedirectUrl(paid) }));
  });

  router.post("/trades/:outTradeNo/close", (req, res) => {
    const t = tradeOr404(req, res);
    if (t) answer(res, gw.trades.closeByMerchant(t));
  });

  router.post("/trades/:outTradeNo/finish", (req, res) => {
    const t = tradeOr404(req, res);
    if (t) answer(res, gw.trades.finish(t));
  });

  router.post("/trades/:outTradeNo/expire", (req, res) => {
    const t = tradeOr404(req, res);
    if (t) answer(res, gw.trades.expire(t));
  });

  router.post("/trades/:outTradeNo/refund", (req, res) => {
    const body = parseBody(req, res, ConsoleRefundBody);
    const t = body && tradeOr404(req, res);
    if (!body || !t) return;
    const r = gw.trades.refund(t, {
      refundFen: body.refundFen, outRequestNo: body.outRequestNo ?? `console${Date.now()}${Math.floor(Math.random() * 1e6)}`,
      reason: "merchant console", notifyWithoutOutBizNo: body.withoutOutBizNo,
    });
    if (!r.ok) return problem(res, 409, r.subCode, r.subMsg);
    res.json({ trade: r.value.trade, refund: r.value.refund });
  });

  router.post("/trades/:outTradeNo/renotify", async (req, res) => {
    const body = parseBody(req, res, RenotifyBody);
    const t = body && tradeOr404(req, res);
    if (!body || !t) return;
    if (body.fresh) {
      const record = gw.trades.notifyCurrentState(t);
      if (!record) return problem(res, 409, "nothing_to_notify", "no notify_url, or the trade is WAIT_BUYER_PAY (never notified)");
      return void res.json({ notify: record });
    }
    const records = ledger.listNotifies(t.outTradeNo);
    const record = body.id ? records.find((r) => r.id === body.id) : records.at(-1);
    if (!record) return problem(res, 404, "notify_not_found", "the trade has no such notification");
    const attempts = await gw.delivery.redeliver(record);
    res.json({ notify: record, attempts });
  });

  router.get("/notifies", (req, res) => {
    const out = typeof req.query.outTradeNo === "string" ? req.query.outTradeNo : undefined;
    res.json({ notifies: ledger.listNotifies(out) });
  });

  router.get("/faults", (_req, res) => void res.json({ faults: gw.faults.list(), held: gw.delivery.heldCounts() }));

  router.post("/faults", (req, res) => {
    const body = parseBody(req, res, FaultBodySchema);
    if (body) res.status(201).json({ added: gw.faults.add(body) });
  });

  router.delete("/faults", (req, res) => {
    const out = typeof req.query.outTradeNo === "string" ? req.query.outTradeNo : undefined;
    res.json({ removed: gw.faults.clear(out) });
  });

  router.get("/certs", (_req, res) => {
    const info = gw.certInfo();
    if (!info) return problem(res, 409, "key_mode", "the sandbox is in key mode (start it with SANDBOX_CERT_MODE=1 / certMode: true)");
    res.json(info);
  });

  // Alipay rotates its certificate: from now on every answer and notify (retries of older ones
  // included) is signed by the new certificate and names it in alipay_cert_sn.
  router.post("/certs/rotate", (_req, res) => {
    const rotated = gw.rotateAlipayCert();
    if (!rotated) return problem(res, 409, "key_mode", "the sandbox is in key mode (start it with SANDBOX_CERT_MODE=1 / certMode: true)");
    res.json(rotated);
  });

  router.post("/reset", async (_req, res) => {
    await gw.reset();
    res.json({ ok: true });
  });

  return router;
}
