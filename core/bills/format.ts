// Alipay's daily trade bill (对账单), as the code relies on it: docs/bills.md describes the file in
// words. This module owns the format facts (markers, column names, the footer wording); the parser
// (parse.ts) and the sandbox's bill writer both read them from here.

/** Beijing time has no DST: +08:00 all year. */
export const BEIJING_OFFSET = "+08:00";

export const BILL_TYPES = ["trade", "signcustomer"] as const;
export type BillType = (typeof BILL_TYPES)[number];

/** The detail file's title line (first line) and the markers around the rows. */
export const DETAIL_TITLE = "#支付宝业务明细查询";
export const SUMMARY_TITLE = "#支付宝业务汇总查询";
export const DETAIL_START_WORDS = "业务明细列表";
export const DETAIL_END_WORDS = "业务明细列表结束";
export const SUMMARY_START_WORDS = "业务汇总列表";
export const SUMMARY_END_WORDS = "业务汇总列表结束";

/** Entry-name suffixes inside the zip (entry names are GBK-encoded, without the zip UTF-8 flag). */
export const DETAIL_ENTRY_SUFFIX = "_业务明细.csv";
export const SUMMARY_ENTRY_SUFFIX = "_业务明细(汇总).csv";

/** The 25 columns of the detail file, in the order Alipay writes them (full-width parentheses). */
export const DETAIL_COLUMNS = [
  "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称", "操作员", "终端号",
  "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）", "商家优惠（元）",
  "券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注",
] as const;

export const SUMMARY_COLUMNS = [
  "门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数", "订单金额（元）", "商家实收（元）", "支付宝优惠（元）", "商家优惠（元）",
  "卡消费金额（元）", "服务费（元）", "分润（元）", "实收净额（元）",
] as const;

/** The columns reconciliation reads; the parser maps them by header name (newer files add columns). */
export const COL = {
  tradeNo: "支付宝交易号",
  outTradeNo: "商户订单号",
  type: "业务类型",
  completedAt: "完成时间",
  received: "商家实收（元）",
  outRequestNo: "退款批次号/请求号",
  fee: "服务费（元）",
} as const;

/** 业务类型 values. */
export const ROW_TYPE = { trade: "交易", refund: "退款" } as const;

/** Footer lines: `#交易合计：3笔，商家实收共30.00元，商家优惠共0.00元` and the refund one. */
export const FOOTER_TRADES = /^#交易合计：(\d+)笔，商家实收共(-?\d+(?:\.\d{1,2})?)元/;
export const FOOTER_REFUNDS = /^#退款合计：(\d+)笔，商家实收退款共(-?\d+(?:\.\d{1,2})?)元/;
/** `#起始日期：[2026年11月30日 00:00:00]   终止日期：[2026年12月01日 00:00:00]` */
export const PERIOD_LINE = /^#起始日期：\[(\d{4})年(\d{2})月(\d{2})日/;
/** `#账号：[20880000000000010156]`: the first 16 digits are the seller id (PID). */
export const ACCOUNT_LINE = /^#账号：\[(\d{16})\d*\]/;

export interface BillRow {
  kind: "trade" | "refund";
  tradeNo: string;
  outTradeNo: string;
  /** The refund's out_request_no (退款批次号/请求号); null on trade rows or when the file leaves it empty. */
  outRequestNo: string | null;
  /** 商家实收 in fen, always positive: `kind` gives the direction (refund rows are negative in the file). */
  amountFen: number;
  /** 服务费 in fen, as a magnitude (the sign convention of real files is not confirmed). */
  feeFen: number;
  /** 完成时间 as ISO 8601 with +08:00, e.g. 2026-11-30T23:59:59+08:00. */
  completedAt: string;
}

export interface BillSummary {
  trades: number;
  refunds: number;
  /** Sum of 商家实收 over trade rows (fen). */
  tradeFen: number;
  /** Sum of 商家实收 over refund rows, positive (fen). */
  refundFen: number;
  /** Fees net of fees returned on refunds (fen): net = tradeFen - refundFen - feeFen. */
  feeFen: number;
  footerAgrees: boolean;
}

/**
 * A signed yuan amount with at most two decimals ("12.30", "-0.06", "5") → integer fen. String
 * arithmetic, never floating point. null when the text is not such an amount.
 */
export function signedYuanToFen(text: string): number | null {
  const m = /^(-?)(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  const fen = Number(m[2]) * 100 + Number((m[3] ?? "").padEnd(2, "0"));
  return m[1] === "-" ? -fen : fen;
}

/** Integer fen → "12.30" / "-0.06" (the file's amount format). */
export function fenToSignedYuan(fen: number): string {
  const abs = Math.abs(fen);
  return `${fen < 0 ? "-" : ""}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** "2026-11-30 23:59:59" (Beijing) → "2026-11-30T23:59:59+08:00"; null when not that shape. */
export function billTimeToIso(text: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return null;
  return `${text.slice(0, 10)}T${text.slice(11)}${BEIJING_OFFSET}`;
}

/** The Beijing calendar day (yyyy-MM-dd) of an instant. */
export function beijingDay(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/** [start, end) of a Beijing calendar day as UTC instants. */
export function beijingDayRange(day: string): { start: Date; end: Date } {
  const start = new Date(`${day}T00:00:00${BEIJING_OFFSET}`);
  return { start, end: new Date(start.getTime() + 86_400_000) };
}

/** yyyy-MM-dd ± n days (calendar arithmetic, no time zone involved). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export const BILL_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The earliest bill day Alipay serves (bill_date before it: isv.invalid-arguments). */
export const FIRST_BILL_DAY = "2016-01-01";

/**
 * Why a day cannot be reconciled now, or null when it can: Alipay serves a day's bill from the next
 * morning on (never today's or a future day's) and none before FIRST_BILL_DAY. Bilingual, for staff.
 */
export function billDayRefusal(day: string, now: Date): { zh: string; en: string } | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    return { zh: `日期无效：${day}（应为 yyyy-MM-dd）`, en: `Not a date: ${day} (expected yyyy-MM-dd)` };
  }
  const today = beijingDay(now);
  if (day >= today) {
    return { zh: `${day} 的账单尚未生成：支付宝只提供北京时间昨天及以前的账单（今天是 ${today}）`, en: `No bill for ${day} yet: Alipay serves bills up to yesterday, Beijing time (today is ${today})` };
  }
  if (day < FIRST_BILL_DAY) return { zh: `支付宝不提供 ${FIRST_BILL_DAY} 之前的账单`, en: `Alipay serves no bill before ${FIRST_BILL_DAY}` };
  return null;
}
