// Errors the order commands throw for callers to map (api → 4xx, admin → flash message).
import type { Why } from "../reasons.ts";

export class OrderNotFoundError extends Error {
  constructor(readonly ref: string | number) {
    super(`order ${ref} not found`);
    this.name = "OrderNotFoundError";
  }
}

/** The request itself is wrong (unknown course, nothing to pay): the caller can fix it. */
export class OrderInputError extends Error {
  constructor(message: string, readonly details: { path: string; message: string }[] = []) {
    super(message);
    this.name = "OrderInputError";
  }
}

export class NotificationNotFoundError extends Error {
  constructor(readonly notificationId: number) {
    super(`notification ${notificationId} not found`);
    this.name = "NotificationNotFoundError";
  }
}

/** A command that does not apply to the current state (e.g. re-driving an applied notification). */
export class CommandRefusedError extends Error {
  /** Why, as a code (core/orders/reasons.ts) when there is one; the message is its English sentence. */
  readonly why?: Why;
  constructor(because: string | { reason: string; why: Why }) {
    super(typeof because === "string" ? because : because.reason);
    if (typeof because !== "string") this.why = because.why;
    this.name = "CommandRefusedError";
  }
}

/**
 * The order kept changing under a compare-and-set (applyEvidence re-read and re-decided
 * APPLY_MAX_ATTEMPTS times): transient, so a job carrying the evidence retries later.
 */
export class ConcurrentChangeError extends Error {
  constructor(readonly orderId: number, readonly attempts: number) {
    super(`order ${orderId} kept changing while applying evidence (${attempts} attempts); retry later`);
    this.name = "ConcurrentChangeError";
  }
}
