// core/refunds: the refund state machine (pure rules), its one writer, and the commands every role calls.
export {
  aboveApprovalThreshold, decideRefund, externalRefundFen, initialState, approverRole, approvalRefusal, refundWindowOpen, nextRefundCheckAt, REFUND_EVENT, COUNTED_STATES, OPEN_STATES, FINAL_STATES, MAYBE_AT_ALIPAY,
  type Actor, type RefundCommand, type RefundDecision, type RefundEvidence, type RefundFacts, type RefundRules, type EvidenceSource,
} from "./transitions.ts";
export { evidenceFromRefundAnswer, evidenceFromRefundQuery } from "./evidence.ts";
export {
  applyRefundEvidence, approveRefund, checkRefund, recordExternalRefund, createRefundDeps, newOutRequestNo, refundRulesFrom, rejectRefund, requestRefund, settleRefund, submitRefund,
  RefundOutcomeUnknownError, type RefundDeps, type RequestRefundInput, type SettleOutcome, type SettleResult,
} from "./commands.ts";
export { applyRefundNotification } from "./notify.ts";
export { claimDueRefunds, ordersWithUnaccountedRefunds, refundableFen } from "./store.ts";
export { failureText, REFUND_FAILURES, REFUND_STATE_LABELS, REFUSALS, RefundRefusedError, type Bilingual } from "./messages.ts";
