// core/orders: the order state machine (pure rules) and the commands every role calls.
export { decide, isPaidTradeStatus, EVENT } from "./transitions.ts";
export type { Decision, DecideContext, Evidence, EventType, AnomalyType, OrderFacts, OrderPatch, TradeStatus } from "./transitions.ts";
export { firstCheckAt, nextCheckAt, type CheckPolicy } from "./schedule.ts";
export { closeVerdict, evidenceFromNotify, evidenceFromQuery, type CloseVerdict } from "./evidence.ts";
export { alipayFromConfig, createOrderDeps, orderSettings, type OrderAlipay, type OrderDeps, type OrderSettings } from "./deps.ts";
export { createIntakeBatching, createOrderBatching, type IntakeBatching, type OrderBatching } from "./batching.ts";
export { applyEvidence, APPLY_MAX_ATTEMPTS, type ApplyMeta, type ApplyResult } from "./apply.ts";
export {
  canMove, INBOX_MOVES, intakeOutcome, isReprocessable, movesInto, NOTIFICATION_OUTCOMES, outcomeOfDecision, storedBody, UNVERIFIED_BODY_KEEP_CHARS,
} from "./inbox.ts";
export {
  applyNotification, applyTradeStatus, loadInboxRow, cancelOrder, checkPayment, closeOrder, createOrder, newOutTradeNo, orderSubject, payUrlFor,
  recordApplyFailure, redriveNotification, settleInbox, AUTO_REDRIVE_LIMIT, type InboxUpkeepPolicy, type CheckSource, type CommandOutcome, type CommandResult, type OrderWithDetails,
} from "./commands.ts";
export { receiveNotify, receiveReturn, verifyNotify, type IntakeDeps, type NotifyReply, type ReturnResult, type VerifiedNotify } from "./intake.ts";
export { claimDueOrders, leaseMs, type DueOrder, type Keyset } from "./reconcile.ts";
export { CommandRefusedError, ConcurrentChangeError, NotificationNotFoundError, OrderInputError, OrderNotFoundError } from "./errors.ts";
