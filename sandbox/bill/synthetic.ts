// A synthetic day for the bill benchmark: `rows` bill rows (about 10 % refunds) computed from their
// index, so a million-row day needs no ledger and no memory. The benchmark creates the matching local
// orders from the same generator (syntheticTrades), then injects differences on both sides.
import { z } from "zod";
import { beijingDayRange } from "../../core/bills/format.ts";
import { compactDay, standardFeeFen, type BillLine } from "./file.ts";

export const SyntheticDaySchema = z.object({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  rows: z.number().int().min(1).max(5_000_000),
  /** distinguishes runs: part of every out_trade_no */
  seed: z.string().regex(/^[A-Za-z0-9]{1,12}$/).default("s"),
}).strict();
export type SyntheticDay = z.infer<typeof SyntheticDaySchema>;

export interface SyntheticTrade {
  outTradeNo: string;
  tradeNo: string;
  totalFen: number;
  createdAt: number;
  paidAt: number;
  refund: { outRequestNo: string; fen: number; at: number } | null;
}

/** Every 10th bill row is a refund of the trade just before it. */
export function* syntheticTrades(day: SyntheticDay): Generator<SyntheticTrade> {
  const { start } = beijingDayRange(day.date);
  const step = 86_000_000 / day.rows;
  let row = 0;
  let k = 0;
  while (row < day.rows) {
    const paidAt = Math.floor(start.getTime() + row * step);
    const totalFen = 100 + ((k * 7919) % 50_000);
    const withRefund = (row + 1) % 10 === 9 && row + 1 < day.rows;
    const refund = withRefund
      ? { outRequestNo: `bsr_${day.seed}_${k}`, fen: Math.max(1, Math.floor(totalFen / 3)), at: Math.floor(start.getTime() + (row + 1) * step) }
      : null;
    yield {
      outTradeNo: `bs_${day.seed}_${String(k).padStart(9, "0")}`,
      tradeNo: `${compactDay(day.date)}22001${String(k).padStart(13, "0")}`,
      totalFen,
      createdAt: paidAt - 30_000,
      paidAt,
      refund,
    };
    row += refund ? 2 : 1;
    k++;
  }
}

export function* syntheticBillLines(day: SyntheticDay): Generator<BillLine> {
  for (const t of syntheticTrades(day)) {
    const base = { tradeNo: t.tradeNo, outTradeNo: t.outTradeNo, subject: "课程", createdAt: t.createdAt, buyer: "bu***@example.com" };
    yield { ...base, kind: "trade", completedAt: t.paidAt, orderFen: t.totalFen, receivedFen: t.totalFen, feeFen: standardFeeFen(t.totalFen) };
    if (t.refund) {
      yield {
        ...base, kind: "refund", completedAt: t.refund.at, orderFen: t.refund.fen, receivedFen: t.refund.fen, outRequestNo: t.refund.outRequestNo,
        feeFen: standardFeeFen(t.refund.fen),
      };
    }
  }
}
