// Which orders reconciliation asks Alipay about, and when. The sweep pages through due UNPAID orders
// (status = UNPAID AND next_check_at <= now, index order_status_next_check_at_idx) in keyset order,
// one batch in memory at a time, and leases each batch by pushing next_check_at forward: the check
// job then writes the real next time (schedule.ts). A lease that expires before its check ran (Redis
// lost the job, the queue is far behind) simply makes the order due again — it cannot be forgotten.
// The claim itself is a write to `order`, so it lives with the other writers (store.ts claimDueOrders).
export { claimDueOrders, type DueOrder, type Keyset } from "./store.ts";

/** How long a swept order is left alone for its check to run: a few ticks, at least a minute. */
export function leaseMs(intervalSeconds: number): number {
  return Math.max(intervalSeconds * 3, 60) * 1000;
}
