// core/bills: Alipay's daily bill — format, streaming parser, fetch, the batch/difference rules, the
// one writer of their rows, and the reconciliation run (docs/bills.md, docs/operations.md).
export * from "./format.ts";
export { BillFormatError, parseBill, parseBillFile, type BillParseResult } from "./parse.ts";
export { fetchBill, isBillNotExist, type BillAlipay } from "./fetch.ts";
export * from "./transitions.ts";
export { claimBatch, orderFees, PAID_STATUSES, resolveDifference, UNPAID_STATUSES } from "./store.ts";
export { billTick, daysToTry, reconcileBillDay, type BillDeps, type BillRunOutcome, type BillRunRequest } from "./reconcile.ts";
export { DifferenceNotFoundError, markResolved, trustAlipay, type TrustResult } from "./resolve.ts";
export { BILL_QUEUE, createBillQueue, type BillQueue } from "./queue.ts";
