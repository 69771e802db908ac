// The "why" of a decision, in the page's language. core/orders states its reasons as English sentences
// (kept in event payloads and logs: one wording, in one place, core/orders/transitions.ts and
// commands.ts). Staff read them here: each sentence shape is recognised and said again in zh-CN or en,
// with order and trade statuses by their labels (TRADE_SUCCESS → 交易成功). A sentence not recognised
// (a network error, a gateway code) is shown as it is. test/unit/admin/reasons.test.ts runs every
// decision of transitions.ts through this and fails on any left untranslated.
import { translate, type Language } from "./index.ts";

type Fill = (lang: Language, m: RegExpExecArray) => string;

const status = (lang: Language, s: string) => translate(lang, `labels.status.${s}`, s);
const trade = (lang: Language, s: string) => translate(lang, `labels.tradeStatus.${s}`, s);
const yuan = (fen: string) => `¥${(Number(fen) / 100).toFixed(2)}`;
const say = (lang: Language, zh: string, en: string) => (lang === "en" ? en : zh);

const S = "(UNPAID|PAID|CANCELLED|CLOSED|PARTIALLY_REFUNDED|REFUNDED)";
const T = "(WAIT_BUYER_PAY|TRADE_CLOSED|TRADE_SUCCESS|TRADE_FINISHED)";

const RULES: [RegExp, Fill][] = [
  [new RegExp(`^${T}$`), (l, m) => trade(l, m[1])],
  [new RegExp(`^already ${S}$`), (l, m) => say(l, `订单已是“${status(l, m[1])}”`, `order already ${status(l, m[1])}`)],
  [new RegExp(`^already ${S} \\(${T}\\)$`), (l, m) => say(l, `订单已是“${status(l, m[1])}”（支付宝：${trade(l, m[2])}）`, `order already ${status(l, m[1])} (Alipay: ${trade(l, m[2])})`)],
  [/^cancelled by the buyer; closed at Alipay first$/, (l) => say(l, "买家取消；已先在支付宝关闭交易", "cancelled by the buyer; closed at Alipay first")],
  [/^closed at Alipay first$/, (l) => say(l, "已先在支付宝关闭交易", "closed at Alipay first")],
  [new RegExp(`^trade does not exist at Alipay; order already ${S}$`), (l, m) => say(l, `支付宝无此交易；订单已是“${status(l, m[1])}”`, `no such trade at Alipay; order already ${status(l, m[1])}`)],
  [/^trade not created at Alipay yet \(buyer has not reached the cashier\)$/, (l) => say(l, "支付宝尚未创建交易（买家还没有进入收银台）", "no trade at Alipay yet (the buyer has not reached the cashier)")],
  [/^expired and the trade was never created at Alipay \(grace passed\)$/, (l) => say(l, "订单已过期，支付宝从未创建交易（宽限期已过）", "expired, and Alipay never created the trade (grace period over)")],
  [/^total (\d+) fen does not equal the order's (\d+) fen$/, (l, m) => say(l, `支付金额 ${yuan(m[1])} 与订单金额 ${yuan(m[2])} 不符`, `paid ${yuan(m[1])}, but the order is ${yuan(m[2])}`)],
  [/^trade_no (\S+) differs from the recorded (\S+)$/, (l, m) => say(l, `支付宝交易号 ${m[1]} 与已记录的 ${m[2]} 不同`, `Alipay trade no. ${m[1]} differs from the recorded ${m[2]}`)],
  [new RegExp(`^${T} for an order already ${S}: money arrived after a local close$`), (l, m) =>
    say(l, `支付宝：${trade(l, m[1])}，但订单已是“${status(l, m[2])}”：本地关闭后到账`, `Alipay: ${trade(l, m[1])} for an order already ${status(l, m[2])}: money arrived after a local close`)],
  [new RegExp(`^refunded trade \\(refund_fee (\\d+) fen\\) for an order never recorded as paid \\(${S}\\)$`), (l, m) =>
    say(l, `支付宝已退款 ${yuan(m[1])}，但订单从未记录为已支付（${status(l, m[2])}）`, `Alipay refunded ${yuan(m[1])} for an order never recorded as paid (${status(l, m[2])})`)],
  [new RegExp(`^${T} with refund_fee (\\d+) fen for an order never recorded as paid(?: \\(${S}\\))?: payment and refund recorded$`), (l, m) => {
    const was = m[3] ? status(l, m[3]) : "";
    return say(l,
      `支付宝：${trade(l, m[1])}，已退款 ${yuan(m[2])}，但订单从未记录为已支付${was ? `（${was}）` : ""}：已补记支付和退款`,
      `Alipay: ${trade(l, m[1])}, refunded ${yuan(m[2])}, for an order never recorded as paid${was ? ` (${was})` : ""}: payment and refund recorded`);
  }],
  [new RegExp(`^TRADE_CLOSED at Alipay while ${S} here \\(full refund\\?\\)$`), (l, m) =>
    say(l, `支付宝交易已关闭，而本系统订单为“${status(l, m[1])}”（全额退款？）`, `closed at Alipay while ${status(l, m[1])} here (a full refund?)`)],
  [/^TRADE_CLOSED at Alipay$/, (l) => say(l, `支付宝：${trade(l, "TRADE_CLOSED")}`, `Alipay: ${trade(l, "TRADE_CLOSED")}`)],
  [new RegExp(`^${T}; (?:order )?already ${S}$`), (l, m) => say(l, `支付宝：${trade(l, m[1])}；订单已是“${status(l, m[2])}”`, `Alipay: ${trade(l, m[1])}; order already ${status(l, m[2])}`)],
  [/^waiting for the buyer to pay$/, (l) => say(l, "等待买家付款", "waiting for the buyer to pay")],
  [/^expired while WAIT_BUYER_PAY: close at Alipay before closing here$/, (l) => say(l, "订单已过期而买家仍未付款：先在支付宝关闭交易，再关闭订单", "expired while unpaid: close at Alipay before closing here")],
  [new RegExp(`^${T} with refund_fee (\\d+) fen: Alipay reports (\\d+) of (\\d+) fen refunded in all$`), (l, m) =>
    say(l, `支付宝：${trade(l, m[1])}，累计退款 ${yuan(m[2])}：支付宝报告共退款 ${yuan(m[3])}（订单金额 ${yuan(m[4])}）`,
      `Alipay: ${trade(l, m[1])}, refund_fee ${yuan(m[2])}: Alipay reports ${yuan(m[3])} of ${yuan(m[4])} refunded in all`)],
  [new RegExp(`^already ${S}; refund_fee (\\d+) fen already known \\(${T}\\)$`), (l, m) =>
    say(l, `订单已是“${status(l, m[1])}”；累计退款 ${yuan(m[2])} 已记录（支付宝：${trade(l, m[3])}）`,
      `order already ${status(l, m[1])}; refund_fee ${yuan(m[2])} already known (Alipay: ${trade(l, m[3])})`)],
  [/^refund (\S+) of (\d+) fen succeeded$/, (l, m) => say(l, `退款 ${m[1]}（${yuan(m[2])}）成功`, `refund ${m[1]} of ${yuan(m[2])} succeeded`)],
  [new RegExp(`^refund (\\S+) of (\\d+) fen succeeded for an order ${S} here with (\\d+) of (\\d+) fen refunded$`), (l, m) =>
    say(l, `退款 ${m[1]}（${yuan(m[2])}）成功，但订单为“${status(l, m[3])}”且已退款 ${yuan(m[4])}（订单金额 ${yuan(m[5])}）：需人工核对`,
      `refund ${m[1]} of ${yuan(m[2])} succeeded for an order ${status(l, m[3])} here with ${yuan(m[4])} of ${yuan(m[5])} refunded: staff must check`)],
  [/^refund_fee (\d+) fen of (\d+)$/, (l, m) => say(l, `已退款 ${yuan(m[1])}（订单金额 ${yuan(m[2])}）`, `refunded ${yuan(m[1])} of ${yuan(m[2])}`)],
  [/^Alipay still shows the trade open$/, (l) => say(l, "支付宝显示交易仍未完成", "Alipay still shows the trade open")],
  [/^job (\S+)$/, (l, m) => say(l, `任务 ${m[1]}`, `job ${m[1]}`)],
  [/^an unverified notification is never applied; nothing to re-drive$/, (l) => say(l, "未通过验签的通知永远不会被应用，无需重新处理", "an unverified notification is never applied; nothing to re-drive")],
  [/^notification already processed \((\w+)\)$/, (l, m) => say(l, `通知已处理（${translate(l, `labels.outcome.${m[1]}`, m[1])}）`, `notification already processed (${translate(l, `labels.outcome.${m[1]}`, m[1])})`)],
  [/^notification processed meanwhile; nothing to re-drive$/, (l) => say(l, "通知已在此期间被处理，无需重新处理", "notification processed meanwhile; nothing to re-drive")],
];

/** One reason sentence (or several joined by "; ", as merchant checks are) in the page's language. */
export function localizeReason(lang: Language, text: string): string {
  const one = (part: string): string => {
    for (const [re, fill] of RULES) {
      const m = re.exec(part);
      if (m) return fill(lang, m);
    }
    // core/alipay/protocol.ts checkMerchant: "app_id X is not ours (OURS)"; X may be "(absent)".
    const merchant = /^(app_id|seller_id) (\(absent\)|\S+) is not ours(?: \((\S+)\))?$/.exec(part);
    if (merchant) {
      const got = merchant[2] === "(absent)" ? say(lang, "（缺失）", "(absent)") : merchant[2];
      const ours = merchant[3] ? say(lang, `（本商户：${merchant[3]}）`, ` (ours: ${merchant[3]})`) : "";
      return say(lang, `${merchant[1]} ${got} 不是本商户的${ours}`, `${merchant[1]} ${got} is not ours${ours}`);
    }
    return part;
  };
  const whole = RULES.find(([re]) => re.test(text));
  if (whole) return one(text);
  return text.split("; ").map(one).join(lang === "en" ? "; " : "；");
}
