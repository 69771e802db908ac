// `alipay-cli bill parse [--summary] < FILE`: reads a trade bill (the zip Alipay serves, or a bare
// detail CSV) from standard input and prints one JSON line per row, then a summary line:
//   {"kind":"trade"|"refund","tradeNo","outTradeNo","outRequestNo","amountFen","feeFen","completedAt"}
//   {"summary":{"trades","refunds","tradeFen","refundFen","feeFen","footerAgrees"}}
// Exit 0: parsed and the footer agrees; 1: parsed, the footer disagrees (reasons on stderr);
// 2: not a bill (message on stderr).
import { BillFormatError, parseBill } from "../core/bills/parse.ts";

export const BILL_USAGE = "alipay-cli bill parse [--summary] < FILE.csv.zip|FILE.csv";

export async function runBillParse(opts: { summaryOnly: boolean }): Promise<number> {
  let pending = "";
  const flush = async () => {
    if (!pending) return;
    const text = pending;
    pending = "";
    if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once("drain", r));
  };
  try {
    const result = await parseBill(process.stdin, opts.summaryOnly ? () => {} : (row) => {
      pending += `${JSON.stringify(row)}\n`;
      if (pending.length >= 64 * 1024) return flush();
    });
    await flush();
    process.stdout.write(`${JSON.stringify({ summary: result.summary })}\n`);
    for (const p of result.problems) process.stderr.write(`alipay-cli: footer: ${p}\n`);
    return result.summary.footerAgrees ? 0 : 1;
  } catch (e) {
    if (e instanceof BillFormatError) {
      await flush();
      process.stderr.write(`alipay-cli: not a bill: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
