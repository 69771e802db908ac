// CSV export of the order list with the list's own filters (the same query string AdminJS's list
// uses, e.g. ?filters.status=PAID&filters.createdAt~~from=…, turned into the same Prisma `where` by
// the same resource). Streams in keyset batches of BATCH rows: memory stays flat whatever the size,
// and a slow client slows the export down (backpressure) instead of buffering it.
import type { RequestHandler, Response } from "express";
import { Filter, flat } from "adminjs";
import type { PrismaClient } from "@prisma/client";
import type { Logger } from "pino";
import { fenToYuan } from "../core/money/index.ts";
import { asStaff } from "./access.ts";
import { formatWallClock } from "./display-time.ts";
import { DEFAULT_LANGUAGE, translate, type Language } from "./locale/index.ts";
import type { PrismaResource } from "./prisma-resource.ts";

export const EXPORT_BATCH = 1000;

const COLUMNS = [
  "id", "outTradeNo", "status", "totalFen", "refundedFen", "subject", "buyer", "tradeNo", "buyerAlipayId",
  "createdAt", "paidAt", "closedAt", "needsReview", "refunds",
] as const;

/** RFC 4180 quoting, and no spreadsheet formulas: a cell starting with = + - @ is prefixed with '. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Resolves when the client has taken the buffered data (or has gone away). */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

const TIME_COLUMNS: ReadonlySet<string> = new Set(["createdAt", "paidAt", "closedAt", "resolvedAt"]);

/**
 * The shared part of every CSV export: the list's filters turned into the resource's own `where`
 * (a bad filter throws here, before any byte is written: the error handler answers 4xx), then the
 * header row (BOM, translated names, the zone on time columns) and keyset batches of EXPORT_BATCH
 * rows with backpressure.
 */
async function streamCsv<T extends { id: number }>(
  req: Parameters<RequestHandler>[0],
  res: Response,
  opts: {
    resource: PrismaResource;
    resourceId: string;
    fileName: string;
    columns: readonly string[];
    timeZone: string;
    batch: (where: Record<string, unknown>, afterId: number) => Promise<T[]>;
    cells: (row: T, t: (path: string, fallback: string) => string) => unknown[];
  },
): Promise<{ filters: unknown; rows: number }> {
  const lang: Language = req.lang ?? DEFAULT_LANGUAGE;
  const t = (path: string, fallback: string) => translate(lang, path, fallback);
  const { filters = {} } = flat.unflatten(req.query as Record<string, unknown>) as { filters?: Record<string, unknown> };
  const where = await opts.resource.where(new Filter(filters, opts.resource));
  const stamp = formatWallClock(new Date(), opts.timeZone).replace(/[-: ]/g, "").slice(0, 12);
  res.setHeader("Content-Type", "text/csv; charset=utf-8");
  res.setHeader("Content-Disposition", `attachment; filename="${opts.fileName}-${stamp}.csv"`);
  res.setHeader("Cache-Control", "no-store");
  // BOM: spreadsheet programs need it to read UTF-8 (Chinese titles) correctly.
  res.write("\uFEFF" + opts.columns.map((c) => {
    const name = t(`resources.${opts.resourceId}.properties.${c}`, t(`properties.${c}`, c));
    return csvCell(TIME_COLUMNS.has(c) ? `${name} (${opts.timeZone})` : name);
  }).join(",") + "\r\n");
  let lastId = 0;
  let rows = 0;
  for (;;) {
    const batch = await opts.batch(where as Record<string, unknown>, lastId);
    if (batch.length === 0 || res.destroyed) break;
    const text = batch.map((row) => opts.cells(row, t).map(csvCell).join(",")).join("\r\n") + "\r\n";
    rows += batch.length;
    lastId = batch[batch.length - 1]!.id;
    if (!res.write(text)) await drained(res);
    if (batch.length < EXPORT_BATCH) break;
  }
  res.end();
  return { filters, rows };
}

export function orderCsvExport(deps: { prisma: PrismaClient; orders: PrismaResource; logger: Logger; timeZone: string }): RequestHandler {
  const { prisma, orders, logger, timeZone } = deps;
  // Times as "2026-11-27 14:05:09" (a spreadsheet reads that as a date); the header names the zone.
  const time = (d: Date | null) => formatWallClock(d, timeZone);
  return async (req, res, next) => {
    try {
      const { filters, rows } = await streamCsv(req, res, {
        resource: orders, resourceId: "Order", fileName: "orders", columns: COLUMNS, timeZone,
        batch: (where, afterId) => prisma.order.findMany({
          where: { AND: [where, { id: { gt: afterId } }] },
          orderBy: { id: "asc" },
          take: EXPORT_BATCH,
          include: { buyer: { select: { email: true } }, refunds: { select: { amountFen: true, state: true, outRequestNo: true }, orderBy: { id: "asc" } } },
        }),
        cells: (o, t) => [
          o.id, o.outTradeNo, t(`labels.status.${o.status}`, o.status), fenToYuan(o.totalFen), fenToYuan(o.refundedFen), o.subject,
          o.buyer.email, o.tradeNo, o.buyerAlipayId, time(o.createdAt), time(o.paidAt), time(o.closedAt), t(`labels.needsReview.${o.needsReview}`, String(o.needsReview)),
          // Every refund of the order: amount, state, out_request_no (the bill matches on it).
          o.refunds.map((r) => `${fenToYuan(r.amountFen)} ${t(`labels.state.${r.state}`, r.state)} ${r.outRequestNo}`).join("; "),
        ],
      });
      logger.info({ actor: asStaff(req.session.adminUser)?.email, filters, rows }, "orders exported");
    } catch (e) {
      if (!res.headersSent) return next(e);
      logger.error({ err: e }, "order export failed mid-stream");
      res.destroy(e as Error);
    }
  };
}

const DIFFERENCE_COLUMNS = [
  "id", "billDate", "kind", "state", "outTradeNo", "outRequestNo", "billAmountFen", "localAmountFen", "localStatus", "orderId",
  "note", "resolvedBy", "resolvedAt", "createdAt",
] as const;

/** CSV of bill differences with the differences list's own filters (date via its batch, kind, state…). */
export function billDifferenceCsvExport(deps: { prisma: PrismaClient; differences: PrismaResource; logger: Logger; timeZone: string }): RequestHandler {
  const { prisma, differences, logger, timeZone } = deps;
  const time = (d: Date | null) => formatWallClock(d, timeZone);
  const yuan = (fen: number | null) => (fen === null ? "" : fenToYuan(fen));
  return async (req, res, next) => {
    try {
      const { filters, rows } = await streamCsv(req, res, {
        resource: differences, resourceId: "BillDifference", fileName: "bill-differences", columns: DIFFERENCE_COLUMNS, timeZone,
        batch: (where, afterId) => prisma.billDifference.findMany({
          where: { AND: [where, { id: { gt: afterId } }] }, orderBy: { id: "asc" }, take: EXPORT_BATCH, include: { batch: { select: { billDate: true } } },
        }),
        cells: (d, t) => [
          d.id, d.batch.billDate, t(`labels.kind.${d.kind}`, d.kind), t(`labels.state.${d.state}`, d.state), d.outTradeNo, d.outRequestNo,
          yuan(d.billAmountFen), yuan(d.localAmountFen), d.localStatus, d.orderId, d.note, d.resolvedBy, time(d.resolvedAt), time(d.createdAt),
        ],
      });
      logger.info({ actor: asStaff(req.session.adminUser)?.email, filters, rows }, "bill differences exported");
    } catch (e) {
      if (!res.headersSent) return next(e);
      logger.error({ err: e }, "bill difference export failed mid-stream");
      res.destroy(e as Error);
    }
  };
}
