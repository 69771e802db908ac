// Typed client of the sandbox's bill control routes (routes.ts), for tests and the benchmark.
// fetch and type imports only.
import type { z } from "zod";
import type { BillConfigSchema, BillFault } from "./desk.ts";

type BillFaultInput = z.input<typeof import("./desk.ts").BillFaultSchema>;

export class BillControl {
  constructor(private readonly baseUrl: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl.replace(/\/+$/, "")}/sandbox/control${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`sandbox bill control ${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : {};
  }

  addFaults(faults: BillFaultInput[], date?: string): Promise<unknown> {
    return this.call("POST", "/bills/faults", { date, faults });
  }

  clearFaults(): Promise<unknown> {
    return this.call("DELETE", "/bills/faults");
  }

  configure(c: z.input<typeof BillConfigSchema>): Promise<unknown> {
    return this.call("POST", "/bills/config", c);
  }

  synthetic(day: { date: string; rows: number; seed?: string }): Promise<unknown> {
    return this.call("POST", "/bills/synthetic", day);
  }

  /** Move a payment's (and its refunds') completion time, e.g. into yesterday. */
  setCompletion(outTradeNo: string, body: { paidAt?: string; refunds?: { outRequestNo: string; at: string }[] }): Promise<unknown> {
    return this.call("POST", `/trades/${encodeURIComponent(outTradeNo)}/completion`, body);
  }
}

export type { BillFault };
