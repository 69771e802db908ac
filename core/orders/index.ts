// core/orders: the order state machine (pure rules) and the commands every role calls.
export { decide, isPaidTradeStatus, EVENT } from "./transitions.ts";
export type { Decision, DecideContext, Evidence, EventType, AnomalyType, OrderFacts, OrderPatch, TradeStatus } from "./transitions.ts";
export { firstCheckAt, nextCheckAt, type CheckPolicy } from "./schedule.ts";
export { closeVerdict, evidenceFromNotify, evidenceFromQuery, type CloseVerdict } from "./evidence.ts";
export { alipayFromConfig, createOrderDeps, orderSettings, type OrderAlipay, type OrderDeps, type OrderSettings } from "./deps.ts";
export { applyEvidence, type ApplyMeta, type ApplyResult } from "./apply.ts";
export {
  applyNotification, applyTradeStatus, cancelOrder, checkPayment, closeOrder, createOrder, newOutTradeNo, orderSubject, payUrlFor,
  redriveNotification, type CheckSource, type CommandOutcome, type CommandResult, type OrderWithDetails,
} from "./commands.ts";
export { receiveNotify, receiveReturn, type IntakeDeps, type NotifyReply, type ReturnResult } from "./intake.ts";
export { claimDueOrders, leaseMs, type DueOrder, type Keyset } from "./reconcile.ts";
export { CommandRefusedError, NotificationNotFoundError, OrderInputError, OrderNotFoundError } from "./errors.ts";
