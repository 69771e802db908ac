import { z } from "zod";
import { parseYuan } from "../../core/money/index.ts";
import type { BillDesk } from "../bill/desk.ts";
import type { SandboxCertAuthority } from "../certs.ts";
import type { FaultStore } from "../faults.ts";
import type { TradeService } from "../trades.ts";
import type { SandboxApiMethod, Trade } from "../types.ts";
import { business, CODE, type ResponseNode } from "./errors.ts";

// Pieces shared by the API method handlers.

export interface ApiContext {
  trades: TradeService;
  /** Fault injection for handlers that shape their answer (refund errors, async refunds, query without refund_status). */
  faults?: FaultStore;
  /** the bill desk (bill download URL query); see sandbox/bill/desk.ts */
  bills?: BillDesk;
  /** certificate mode: the sandbox's CA (alipaycert.download) */
  certs?: SandboxCertAuthority | null;
}

/** One API method: its biz_content schema, the trade it concerns (for per-trade faults), and the answer. */
export interface ApiHandler<B> {
  method: SandboxApiMethod;
  biz: z.ZodType<B>;
  /** out_trade_no the call is about, if it can be told (fault scoping) */
  scope(biz: B, ctx: ApiContext): string | null;
  /** the response node; throws GatewayError for failures */
  handle(biz: B, ctx: ApiContext): ResponseNode;
}

/** Type-erased handler list entry (each handler keeps its own biz type internally). */
export type AnyApiHandler = ApiHandler<any>;

/** out_trade_no / trade_no: at least one is required; trade_no wins when both are given (docs/alipay-protocol.md §5.1). */
export const tradeRef = {
  out_trade_no: z.string().min(1).max(64).optional(),
  trade_no: z.string().min(1).max(64).optional(),
};

export type TradeRef = { out_trade_no?: string; trade_no?: string };

/** Amounts may come as "0.01" or 0.01 in biz_content (docs/alipay-protocol.md §1.3); ≤ 2 decimals, converted to fen. */
export const yuanAmount = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const fen = parseYuan(typeof v === "number" ? String(v) : v);
    if (fen === null) {
      ctx.addIssue({ code: "custom", message: "金额格式错误 (元, 最多两位小数)" });
      return z.NEVER;
    }
    return fen;
  });

export function requireRef(biz: TradeRef): void {
  if (!biz.out_trade_no && !biz.trade_no) throw business("ACQ.INVALID_PARAMETER", "参数无效: out_trade_no 和 trade_no 不能同时为空");
}

/** The trade, or 40004 ACQ.TRADE_NOT_EXIST with the identifiers echoed. */
export function findTradeOrFail(ctx: ApiContext, biz: TradeRef, extraOnMissing: Record<string, unknown> = {}): Trade {
  requireRef(biz);
  const trade = ctx.trades.ledger.findTrade({ tradeNo: biz.trade_no, outTradeNo: biz.out_trade_no });
  if (!trade) {
    throw business("ACQ.TRADE_NOT_EXIST", "交易不存在", { ...extraOnMissing, ...echoRef(biz) });
  }
  return ctx.trades.refresh(trade);
}

export function echoRef(biz: TradeRef): Record<string, string> {
  const out: Record<string, string> = {};
  if (biz.out_trade_no) out.out_trade_no = biz.out_trade_no;
  if (biz.trade_no) out.trade_no = biz.trade_no;
  return out;
}

/** The out_trade_no a call refers to (directly or through trade_no), for fault scoping. */
export function scopeOf(biz: TradeRef, ctx: ApiContext): string | null {
  if (biz.trade_no) return ctx.trades.ledger.getTradeByTradeNo(biz.trade_no)?.outTradeNo ?? biz.out_trade_no ?? null;
  return biz.out_trade_no ?? null;
}

export function success(fields: Record<string, unknown>): ResponseNode {
  return { ...CODE.success, ...fields };
}

/** Keys in alphabetical order after code/msg, the order of Alipay's own responses (vectors/ys-response-*). */
export function sortedSuccess(fields: Record<string, unknown>): ResponseNode {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(fields).sort()) if (fields[k] !== undefined) out[k] = fields[k];
  return success(out);
}
