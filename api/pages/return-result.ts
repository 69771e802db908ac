// The page GET /alipay/return renders (the route's logic stays in api/routes/alipay.ts): the buyer
// pages' result page, started from what the database says about the order. It never says "paid" on
// the return's word alone — the return carries no trade status; only the order row does.
import type { Order } from "@prisma/client";
import { DEFAULT_LOCALE, type Locale } from "./i18n.ts";
import { resultPage, resultPath } from "./result.ts";

export interface ReturnPageModel {
  verified: boolean;
  order: Pick<Order, "id" | "outTradeNo" | "status" | "subject" | "totalFen"> | null;
  checkEnqueued: boolean;
}

export function renderReturnPage(m: ReturnPageModel, locale: Locale = DEFAULT_LOCALE): string {
  const order = m.verified ? m.order : null;
  // The language switch must not point back at /alipay/return with an extra parameter: that would no
  // longer verify. It points at the order's own result page instead.
  const currentUrl = order ? resultPath(order.outTradeNo) : "/";
  return resultPage(locale, currentUrl, { verified: m.verified, outTradeNo: order?.outTradeNo ?? null, order });
}
