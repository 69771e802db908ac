import { z } from "zod";
import { business, CODE, GatewayError } from "./errors.ts";
import { sortedSuccess, type ApiHandler } from "./common.ts";

// alipay.data.dataservice.bill.downloadurl.query (docs/bills.md "The API"): a short-lived download
// link to the day's bill, or 40004 isp.bill_not_exist while the bill does not exist (the next
// morning for a day with activity; never for a day without).

const Biz = z.object({
  bill_type: z.string().min(1),
  bill_date: z.string().min(1),
});
type Biz = z.infer<typeof Biz>;

export const billDownloadUrlQuery: ApiHandler<Biz> = {
  method: "alipay.data.dataservice.bill.downloadurl.query",
  biz: Biz,
  scope: () => null,
  handle(biz, ctx) {
    if (!ctx.bills) throw new GatewayError(CODE.unavailable.code, CODE.unavailable.msg, "isp.unknow-error", "系统繁忙");
    if (biz.bill_type !== "trade" && biz.bill_type !== "signcustomer") {
      throw new GatewayError(CODE.invalid.code, CODE.invalid.msg, "isv.invalid-arguments", `bill_type不合法: ${biz.bill_type}`);
    }
    const answer = ctx.bills.query(biz.bill_type, biz.bill_date);
    if (answer.kind === "not_exist") throw business("isp.bill_not_exist", "账单不存在");
    if (answer.kind === "invalid") throw new GatewayError(CODE.invalid.code, CODE.invalid.msg, "isv.invalid-arguments", answer.subMsg);
    return sortedSuccess({ bill_download_url: answer.url });
  },
};
