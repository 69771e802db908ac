import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

// One id follows one piece of work (an HTTP request, then the jobs it enqueues) through every log
// line, across processes: the api puts it in the job payload, the worker re-enters it.
export interface WorkContext {
  requestId: string;
  outTradeNo?: string;
  jobId?: string;
}

const storage = new AsyncLocalStorage<WorkContext>();

export function currentWork(): WorkContext | undefined {
  return storage.getStore();
}

export function runWithWork<T>(ctx: WorkContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** Adds fields (e.g. the order once it is known) to the current work's log context. */
export function annotateWork(fields: Partial<WorkContext>): void {
  const ctx = storage.getStore();
  if (ctx) Object.assign(ctx, fields);
}

const INCOMING_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Accept a caller's X-Request-Id only if it is a plain token; otherwise make one. */
export function requestIdFrom(header: unknown): string {
  return typeof header === "string" && INCOMING_ID.test(header) ? header : randomUUID();
}
