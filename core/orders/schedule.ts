// When to ask Alipay about an unpaid order next (the per-order backoff stored in next_check_at /
// check_attempts). Pure. The shape: first check soon after creation (catches lost notifies while the
// buyer is still around), then doubling gaps up to a cap; never later than the two moments that
// decide the order's fate: its expiry (close it) and expiry + grace (a never-created trade closes).

export interface CheckPolicy {
  firstCheckSeconds: number;
  graceMs: number;
  /** Longest gap between two checks of one order. */
  maxGapSeconds?: number;
}

const DEFAULT_MAX_GAP_S = 10 * 60;

/** next_check_at for a new order. */
export function firstCheckAt(createdAt: Date, expiresAt: Date, policy: CheckPolicy): Date {
  return new Date(Math.min(createdAt.getTime() + policy.firstCheckSeconds * 1000, expiresAt.getTime()));
}

/** next_check_at after the `attempts`-th check (1-based) left the order UNPAID at `now`. */
export function nextCheckAt(expiresAt: Date, attempts: number, now: Date, policy: CheckPolicy): Date {
  const maxGap = (policy.maxGapSeconds ?? DEFAULT_MAX_GAP_S) * 1000;
  const gap = Math.min(policy.firstCheckSeconds * 1000 * 2 ** Math.min(Math.max(attempts, 0), 20), maxGap);
  let at = now.getTime() + gap;
  for (const milestone of [expiresAt.getTime(), expiresAt.getTime() + policy.graceMs]) {
    if (now.getTime() < milestone && at > milestone) at = milestone;
  }
  return new Date(at);
}
