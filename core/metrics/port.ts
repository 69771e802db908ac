// The metrics port: what the domain (core/orders, core/refunds, the Alipay client's certificate
// rotation) counts. The domain receives one through its dependency object (OrderDeps.metrics,
// RefundDeps.metrics) and only adds to it — it never reads a count back, so no decision depends on
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
}

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
};
