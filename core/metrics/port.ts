// The metrics port: what the domain (core/orders, core/refunds, core/bills, the Alipay client's
// certificate rotation) counts. The domain receives one through its dependency object (OrderDeps.metrics,
// RefundDeps.metrics, BillDeps.metrics) and only adds to it — it never reads a count back, so no decision depends on
// one. This file imports no metrics library: the roles pass the Prometheus adapter
// (core/metrics/index.ts `metrics`, served at /metrics); a test may pass `noMetrics` or its own.

/** A counter with these labels. prom-client's Counter has this shape. */
export interface CounterPort<L extends string> {
  inc(labels: Record<L, string | number>, value?: number): void;
}

export interface DomainMetrics {
  callbacksReceived: CounterPort<"kind">;
  callbacksVerified: CounterPort<"kind">;
  callbacksRejected: CounterPort<"kind" | "reason">;
  notifyReplies: CounterPort<"reply">;
  paymentChecks: CounterPort<"source" | "result">;
  orderTransitions: CounterPort<"from" | "to" | "source">;
  anomalies: CounterPort<"kind">;
  refunds: CounterPort<"event" | "source">;
  alipayCertRotations: CounterPort<"outcome">;
  /** Bill reconciliation attempts, by outcome (core/bills). */
  billRuns: CounterPort<"outcome">;
  /** Bill alerts: no bill by BILL_GIVE_UP_AT although we took payments, a corrupt bill. */
  billAlerts: CounterPort<"reason">;
  /** Bill differences seen by a run, by kind. */
  billDifferences: CounterPort<"kind">;
}

/** What core/bills counts. */
export type BillMetrics = Pick<DomainMetrics, "billRuns" | "billAlerts" | "billDifferences">;

const ignore: CounterPort<string> = { inc() {} };

/** Counts nothing: for tools and tests that do not look at metrics. */
export const noMetrics: DomainMetrics = {
  callbacksReceived: ignore,
  callbacksVerified: ignore,
  callbacksRejected: ignore,
  notifyReplies: ignore,
  paymentChecks: ignore,
  orderTransitions: ignore,
  anomalies: ignore,
  refunds: ignore,
  alipayCertRotations: ignore,
  billRuns: ignore,
  billAlerts: ignore,
  billDifferences: ignore,
};
