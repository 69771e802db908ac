import client from "prom-client";
import type { NextFunction, Request, Response, RequestHandler } from "express";
import type { DomainMetrics } from "./port.ts";

export { noMetrics, type BillMetrics, type CounterPort, type DomainMetrics } from "./port.ts";

// The Prometheus adapter: this process's prom-client registry, exposed by every role at /metrics. The
// domain does not import it: it counts through the port (port.ts, DomainMetrics), which the roles fill
// with `metrics` below when they build the domain's dependency objects. Names follow Prometheus
// conventions: counters end in _total, durations are _seconds histograms.
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry, prefix: "coursepay_" });

const counter = (name: string, help: string, labelNames: string[] = []) =>
  new client.Counter({ name, help, labelNames, registers: [registry] });
const histogram = (name: string, help: string, labelNames: string[], buckets: number[]) =>
  new client.Histogram({ name, help, labelNames, buckets, registers: [registry] });

/** What the roles and (through the port) the domain count. */
export const metrics = {
  callbacksReceived: counter("coursepay_callbacks_received_total", "Alipay callbacks received", ["kind"]),
  callbacksVerified: counter("coursepay_callbacks_verified_total", "Alipay callbacks whose signature verified", ["kind"]),
  callbacksRejected: counter("coursepay_callbacks_rejected_total", "Alipay callbacks rejected, by reason", ["kind", "reason"]),
  notifyReplies: counter("coursepay_notify_replies_total", "Replies sent to Alipay notify, by kind", ["reply"]),
  paymentChecks: counter("coursepay_payment_checks_total", "alipay.trade.query checks, by result", ["source", "result"]),
  orderTransitions: counter("coursepay_order_transitions_total", "Order status transitions", ["from", "to", "source"]),
  anomalies: counter("coursepay_anomalies_total", "Anomalies recorded for staff review", ["kind"]),
  refunds: counter("coursepay_refunds_total", "Refund events: requested, and every state a refund reaches (queued, submitted, unknown, succeeded, failed, rejected)", ["event", "source"]),
  jobDuration: histogram("coursepay_job_duration_seconds", "Time to process one queue job", ["queue", "result"],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  jobLatency: histogram("coursepay_job_latency_seconds", "Time from enqueue to processing start", ["queue"],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120]),
  sweepDuration: histogram("coursepay_reconcile_sweep_duration_seconds", "Reconciliation sweep duration", [],
    [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120]),
  sweepOrders: counter("coursepay_reconcile_sweep_orders_total", "Orders enqueued for a payment check by sweeps", []),
  sweeps: counter("coursepay_reconcile_sweeps_total", "Reconciliation sweeps run", ["result"]),
  alipayCertRotations: counter(
    "coursepay_alipay_cert_rotations_total",
    "Answers or notifies signed by an Alipay certificate other than ALIPAY_CERT_FILE, by how it was resolved (downloaded, from_store, rejected, download_failed)",
    ["outcome"],
  ),
  billRuns: counter("coursepay_bill_runs_total", "Bill reconciliation attempts, by outcome", ["outcome"]),
  billAlerts: counter("coursepay_bill_alerts_total", "Bill reconciliation alerts (no bill by BILL_GIVE_UP_AT, corrupt bill)", ["reason"]),
  billDifferences: counter("coursepay_bill_differences_total", "Bill differences seen, by kind", ["kind"]),
  httpDuration: histogram("coursepay_http_request_duration_seconds", "HTTP request latency", ["method", "route", "status"],
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]),
  sweepConsecutiveFailures: new client.Gauge({
    name: "coursepay_reconcile_sweep_consecutive_failures",
    help: "Reconciliation sweeps failed in a row since the last success, across all workers (0 = healthy; sampled at scrape)",
    registers: [registry],
  }),
  sweepLastSuccess: new client.Gauge({
    name: "coursepay_reconcile_sweep_last_success_timestamp_seconds",
    help: "When the last reconciliation sweep succeeded, on any worker (Unix seconds; sampled at scrape)",
    registers: [registry],
  }),
  queueDepth: new client.Gauge({
    name: "coursepay_queue_jobs", help: "Jobs in each queue by state (sampled at scrape)", labelNames: ["queue", "state"],
    registers: [registry],
  }),
} satisfies DomainMetrics & Record<string, unknown>;

type DepthSource = () => Promise<Array<{ queue: string; counts: Record<string, number> }>>;
let depthSource: DepthSource | null = null;
/** Roles that can see the queues register how to count them; counted when /metrics is scraped. */
export function setQueueDepthSource(source: DepthSource): void {
  depthSource = source;
}

type SweepHealthSource = () => Promise<{ consecutiveFailures: number; lastSuccessAt: number | null }>;
let sweepHealthSource: SweepHealthSource | null = null;
/** Roles that can see Redis register how to read the sweeps' health (core/health/sweep.ts); read at scrape. */
export function setSweepHealthSource(source: SweepHealthSource): void {
  sweepHealthSource = source;
}

/** A BullMQ queue as far as counting goes (structural: this module does not depend on bullmq). */
interface CountableQueue {
  name: string;
  getJobCounts(...states: ("waiting" | "active" | "delayed" | "failed" | "prioritized")[]): Promise<Record<string, number>>;
}

/** The depth source of the worker and the admin: BullMQ's counts of the states worth alerting on. */
export function queueDepthOf(queues: CountableQueue[]): DepthSource {
  return () =>
    Promise.all(queues.map(async (q) => ({ queue: q.name, counts: await q.getJobCounts("waiting", "active", "delayed", "failed", "prioritized") })));
}

/** Express handler for GET /metrics. */
export const metricsRoute: RequestHandler = async (_req, res) => {
  if (depthSource) {
    try {
      for (const { queue, counts } of await depthSource()) {
        for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ queue, state }, n);
      }
    } catch {
      /* Redis down: keep the last sample; /readyz reports the outage */
    }
  }
  if (sweepHealthSource) {
    try {
      const h = await sweepHealthSource();
      metrics.sweepConsecutiveFailures.set(h.consecutiveFailures);
      if (h.lastSuccessAt !== null) metrics.sweepLastSuccess.set(h.lastSuccessAt / 1000);
    } catch {
      /* Redis down: keep the last sample; /readyz reports the outage */
    }
  }
  res.set("Content-Type", registry.contentType);
  res.end(await registry.metrics());
};

/** Latency per route pattern (not per URL, which would explode label cardinality). */
export function httpMetrics(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = metrics.httpDuration.startTimer();
    res.on("finish", () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : req.baseUrl || "unmatched";
      end({ method: req.method, route: String(route), status: String(res.statusCode) });
    });
    next();
  };
}
