import { json, Router, type Request, type Response } from "express";
import iconv from "iconv-lite";
import { Readable } from "node:stream";
import { z } from "zod";
import { BillConfigSchema, BillFaultBodySchema, SyntheticDaySchema, type BillDesk } from "./desk.ts";
import type { TradeLedger } from "../ledger.ts";

// HTTP around the bill desk:
//   GET  /sandbox/bill/downloadBillFile.resource?…&token=   the bill zip (the link from the gateway; 30 s)
//   GET|POST|DELETE /sandbox/control/bills/faults            bill faults (desk.ts BillFaultSchema)
//   POST /sandbox/control/bills/config                        readyAfterMinutes, linkTtlMs
//   POST /sandbox/control/bills/synthetic                     a generated day for the benchmark
//   POST /sandbox/control/trades/:outTradeNo/completion       move a payment / refund time (tests of past days)

export function createBillDownloadRouter(desk: BillDesk): Router {
  const router = Router();
  router.get("/sandbox/bill/downloadBillFile.resource", (req, res) => {
    const token = typeof req.query.token === "string" ? req.query.token : "";
    const opened = desk.openLink(token);
    if (!opened.ok) {
      // Alipay answers an expired link with a page, not an HTTP error: the merchant must notice that
      // what came back is not a zip.
      res.status(200).type("text/html; charset=GBK").send(iconv.encode("<html><body>下载超时，请重新下载</body></html>", "gbk"));
      return;
    }
    res.status(200).type("application/octet-stream");
    res.setHeader("content-disposition", `attachment; filename="${opened.fileName}"`);
    const stream = Readable.from(opened.bytes);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
  });
  return router;
}

const CompletionBody = z.object({
  paidAt: z.string().refine((s) => !Number.isNaN(Date.parse(s))).optional(),
  refunds: z.array(z.object({ outRequestNo: z.string().min(1), at: z.string().refine((s) => !Number.isNaN(Date.parse(s))) }).strict()).optional(),
}).strict();

function parse<T>(schema: z.ZodType<T>, req: Request, res: Response): T | undefined {
  const r = schema.safeParse(req.body ?? {});
  if (r.success) return r.data;
  res.status(400).json({ error: { code: "invalid_body", message: z.prettifyError(r.error), issues: r.error.issues } });
  return undefined;
}

export function createBillControlRouter(desk: BillDesk, ledger: TradeLedger): Router {
  const router = Router();
  router.use(json({ limit: "256kb" }));
  router.get("/bills/faults", (_req, res) => void res.json({ faults: desk.listFaults(), readyAfterMinutes: desk.readyAfterMinutes, linkTtlMs: desk.linkTtlMs }));
  router.post("/bills/faults", (req, res) => {
    const body = parse(BillFaultBodySchema, req, res);
    if (body) res.status(201).json({ added: desk.addFaults(body) });
  });
  router.delete("/bills/faults", (_req, res) => {
    desk.clearFaults();
    res.json({ ok: true });
  });
  router.post("/bills/config", (req, res) => {
    const body = parse(BillConfigSchema, req, res);
    if (!body) return;
    desk.configure(body);
    res.json({ readyAfterMinutes: desk.readyAfterMinutes, linkTtlMs: desk.linkTtlMs });
  });
  router.post("/bills/synthetic", (req, res) => {
    const body = parse(SyntheticDaySchema, req, res);
    if (!body) return;
    desk.setSynthetic(body);
    res.status(201).json({ synthetic: body });
  });
  router.post("/trades/:outTradeNo/completion", (req, res) => {
    const body = parse(CompletionBody, req, res);
    if (!body) return;
    const t = ledger.getTrade(req.params.outTradeNo);
    if (!t) return void res.status(404).json({ error: { code: "trade_not_found", message: `no trade ${req.params.outTradeNo}` } });
    if (body.paidAt) {
      if (t.paidAt === undefined) return void res.status(409).json({ error: { code: "not_paid", message: "the trade was never paid" } });
      t.paidAt = Date.parse(body.paidAt);
    }
    for (const r of body.refunds ?? []) {
      const refund = t.refunds.find((x) => x.outRequestNo === r.outRequestNo);
      if (!refund) return void res.status(404).json({ error: { code: "refund_not_found", message: `no refund ${r.outRequestNo}` } });
      refund.at = Date.parse(r.at);
    }
    ledger.changed();
    res.json({ trade: t });
  });
  return router;
}
