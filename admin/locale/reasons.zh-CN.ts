// 决定原因（简体中文）：core/orders/reasons.ts 与 core/refunds/reasons.ts 的每个原因代码各一句。
// Statuses by their labels, amounts in yuan (admin/locale/reasons.ts).
import type { ReasonTexts } from "./reasons.ts";

const FROM = { call: "退款请求的应答", query: "退款查询", notify: "退款通知" } as const;
const absent = (v: string | null | undefined) => v ?? "（缺失）";

const zhCN: ReasonTexts = {
  "order.outcome_unknown": (p) => `结果未知：${p.detail}`,
  "order.already": (p, s) => `订单已是“${s.status(p.status)}”`,
  "order.already_trade": (p, s) => `订单已是“${s.status(p.status)}”（支付宝：${s.trade(p.tradeStatus)}）`,
  "order.trade_status_already": (p, s) => `支付宝：${s.trade(p.tradeStatus)}；订单已是“${s.status(p.status)}”`,
  "order.cancelled_closed_at_alipay": () => "买家取消；已先在支付宝关闭交易",
  "order.closed_at_alipay": () => "已先在支付宝关闭交易",
  "order.no_trade_already": (p, s) => `支付宝无此交易；订单已是“${s.status(p.status)}”`,
  "order.no_trade_yet": () => "支付宝尚未创建交易（买家还没有进入收银台）",
  "order.no_trade_expired": () => "订单已过期，支付宝从未创建交易（宽限期已过）",
  "order.refund_succeeded": (p, s) => `退款 ${p.outRequestNo}（${s.yuan(p.refundFen)}）成功`,
  "order.refund_beyond_books": (p, s) =>
    `退款 ${p.outRequestNo}（${s.yuan(p.refundFen)}）成功，但订单为“${s.status(p.status)}”且已退款 ${s.yuan(p.refundedFen)}（订单金额 ${s.yuan(p.totalFen)}）：需人工核对`,
  "order.merchant_mismatch": (p) =>
    [p.appIdOurs !== undefined ? `app_id ${absent(p.appIdGot)} 不是本商户的（本商户：${p.appIdOurs}）` : null,
      p.sellerIdOurs !== undefined ? `seller_id ${absent(p.sellerIdGot)} 不是本商户的（本商户：${p.sellerIdOurs}）` : null].filter(Boolean).join("；"),
  "order.amount_mismatch": (p, s) => `支付金额 ${s.yuan(p.paidFen)} 与订单金额 ${s.yuan(p.totalFen)} 不符`,
  "order.trade_no_mismatch": (p) => `支付宝交易号 ${p.tradeNo} 与已记录的 ${p.recorded} 不同`,
  "order.paid": (p, s) => `支付宝：${s.trade(p.tradeStatus)}`,
  "order.paid_after_close": (p, s) => `支付宝：${s.trade(p.tradeStatus)}，但订单已是“${s.status(p.status)}”：本地关闭后到账`,
  "order.refund_without_payment": (p, s) =>
    `支付宝：${s.trade(p.tradeStatus)}，已退款 ${s.yuan(p.refundFen)}，但订单从未记录为已支付${p.was ? `（${s.status(p.was)}）` : ""}：已补记支付和退款`,
  "order.refund_reported": (p, s) =>
    `支付宝：${s.trade(p.tradeStatus)}，累计退款 ${s.yuan(p.refundFen)}：支付宝报告共退款 ${s.yuan(p.reportedFen)}（订单金额 ${s.yuan(p.totalFen)}）`,
  "order.refund_known": (p, s) => `订单已是“${s.status(p.status)}”；累计退款 ${s.yuan(p.refundFen)} 已记录（支付宝：${s.trade(p.tradeStatus)}）`,
  "order.trade_closed": (_p, s) => `支付宝：${s.trade("TRADE_CLOSED")}`,
  "order.closed_while_paid": (p, s) => `支付宝交易已关闭，而本系统订单为“${s.status(p.status)}”（全额退款？）`,
  "order.waiting_for_buyer": () => "等待买家付款",
  "order.expired_close_first": () => "订单已过期而买家仍未付款：先在支付宝关闭交易，再关闭订单",
  "order.still_open": () => "支付宝显示交易仍未完成",
  "order.notification_done": (p, s) => `通知已处理（${s.outcome(p.outcome)}）`,
  "order.redrive_unverified": () => "未通过验签的通知永远不会被应用，无需重新处理",
  "order.redrive_processed": (p, s) => `通知已处理（${s.outcome(p.outcome)}）`,
  "order.redrive_meanwhile": () => "通知已在此期间被处理，无需重新处理",
  "order.redrive_queued": (p) => `任务 ${p.jobId}`,

  "refund.not_awaiting": (p, s) => `退款为“${s.state(p.state)}”，不在待审批状态`,
  "refund.needs_role": (p, s) => `${s.yuan(p.amountFen)} 的退款需要“${s.role(p.role)}”角色审批（您是“${s.role(p.actorRole)}”）`,
  "refund.four_eyes": () => "双人复核：申请人不能审批或拒绝自己的退款",
  "refund.reason_required": () => "拒绝退款需要填写原因",
  "refund.rejected": (p) => `${p.by} 拒绝：${p.text}`,
  "refund.approved": (p) => `${p.by} 已批准`,
  "refund.sent": () => "已发往支付宝",
  "refund.sent_again": (p, s) => `以同一退款请求号再次发送（原为“${s.state(p.state)}”）`,
  "refund.nothing_to_send": (p, s) => `退款为“${s.state(p.state)}”：无需发送`,
  "refund.succeeded": (p) => `${FROM[p.from]}：退款成功`,
  "refund.already_succeeded": (p) => `退款已成功（${FROM[p.from]}）`,
  "refund.succeeded_after_failure": (p) => `${FROM[p.from]}报告退款成功，但本系统记为失败：款项已退出，已记录`,
  "refund.unexpected_success": (p, s) => `${FROM[p.from]}报告退款成功，但该退款为“${s.state(p.state)}”（从未发送）`,
  "refund.accepted": (p) => `${FROM[p.from]}：支付宝已受理，尚未完成`,
  "refund.processing": () => "支付宝仍在处理",
  "refund.moot": (p, s) => `无需处理：退款为“${s.state(p.state)}”`,
  "refund.moot_already": (p, s) => `无需处理：退款已是“${s.state(p.state)}”`,
  "refund.absent_only_by_query": () => "只有退款查询才能确认退款不存在",
  "refund.absent_too_soon": () => "暂无退款数据，但距上次请求太近，无法下结论：稍后再查",
  "refund.requeued": () => "支付宝没有此退款请求号的退款：将以同一请求号重新发送",
  "refund.resend_error_open": (p) => `重发时支付宝返回 ${p.code}：以退款查询结果为准`,
  "refund.resend_error": (p) => `重发时支付宝返回 ${p.code} ${p.message}（自确认退款不存在后的第 ${p.calls} 次请求）：不是最终结果，以退款查询结果为准`,
  "refund.failed": (p) => `${FROM[p.from]}：退款失败（${[p.code, p.message].filter(Boolean).join(" ")}）`,
  "refund.outcome_unknown": (p) => `结果未知（${FROM[p.from]}）：${p.detail}`,
  "refund.external": (p, s) =>
    `非本系统发起的退款：支付宝报告共退款 ${s.yuan(p.reportedFen)}，本系统的退款合计 ${s.yuan(p.succeededFen)}${p.inFlightFen ? `（另有最多 ${s.yuan(p.inFlightFen)} 处理中）` : ""}`,
  "refund.external_confirmed": (p, s) => `非本系统发起的退款 ${p.outRequestNo}：支付宝退款查询确认退款 ${s.yuan(p.amountFen)} 成功`,
  "refund.external_numbered": (p, s) =>
    `非本系统发起的退款 ${p.outRequestNo}：支付宝退款查询确认退款 ${s.yuan(p.amountFen)} 成功；即此前按支付宝退款总额记录的外部退款 ${p.was}（金额相同），现记为 ${p.outRequestNo}，不重复计算`,
};

export default zhCN;
