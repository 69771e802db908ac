import type { OrderStatus } from "@prisma/client";

// The statuses' Chinese names as the shop's staff and buyers know them (after the original
// tutorial shop: 未支付 / 已支付 / 已取消 / 超时取消). Shared by the admin's and the buyer pages' zh-CN text.
export const ORDER_STATUS_ZH: Record<OrderStatus, string> = {
  UNPAID: "未支付",
  PAID: "已支付",
  CANCELLED: "已取消",
  CLOSED: "超时取消",
  PARTIALLY_REFUNDED: "部分退款",
  REFUNDED: "已退款",
};
