// Helpers shared by the back office's React components. Components are plain .ts with
// React.createElement (no JSX: the project's tsconfig has no jsx setting, and AdminJS's bundler —
// rollup + babel preset-typescript — compiles .ts just as well).
import React from "react";
import { Badge, ValueGroup } from "@adminjs/design-system";
import { fenToYuan } from "../../core/money/index.ts";
import { formatInstant } from "../display-time.ts";

export const h = React.createElement;

/** 1230 → "¥12.30"; null/undefined/"" → "–". Never floating point (core/money). */
export function yuan(fen: unknown): string {
  if (fen === null || fen === undefined || fen === "") return "–";
  const n = Number(fen);
  if (!Number.isSafeInteger(n)) return String(fen);
  return n < 0 ? `-¥${fenToYuan(-n)}` : `¥${fenToYuan(n)}`;
}

/** The zone staff read times in: DISPLAY_TIME_ZONE, passed to the browser through AdminJS's `env` option (app.ts). */
export function displayTimeZone(): string {
  const env = (globalThis as { AdminJS?: { env?: Record<string, string> } }).AdminJS?.env;
  return env?.DISPLAY_TIME_ZONE ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Every time on every page: "2026-11-27 14:05:09 UTC+8" (admin/display-time.ts). */
export function formatTime(value: unknown): string {
  return formatInstant(value, displayTimeZone());
}

type Variant = "success" | "info" | "primary" | "secondary" | "danger" | "light" | "default";
const VARIANTS: Record<string, Variant> = {
  PAID: "success",
  UNPAID: "info",
  CANCELLED: "light",
  CLOSED: "light",
  PARTIALLY_REFUNDED: "secondary",
  REFUNDED: "secondary",
  applied: "success",
  duplicate: "light",
  pending: "info",
  ignored: "light",
  rejected: "danger",
  anomaly: "danger",
  failed: "danger",
  TRADE_SUCCESS: "success",
  TRADE_FINISHED: "success",
  WAIT_BUYER_PAY: "info",
  TRADE_CLOSED: "light",
};

/** A coloured badge for an enum value, labelled with the same key AdminJS uses for filters. */
export function enumBadge(path: string, value: unknown, tl: (key: string, resourceId?: string, opts?: object) => string, resourceId?: string) {
  if (value === null || value === undefined || value === "") return h("span", null, "–");
  const v = String(value);
  return h(Badge, { variant: VARIANTS[v] ?? "default", size: "sm" }, tl(`${path}.${v}`, resourceId, { defaultValue: v }));
}

/** Virtual properties carry server-built JSON strings (see resources/orders.ts, show.after). */
export function parseJsonParam<T>(value: unknown, fallback: T): T {
  if (typeof value !== "string" || !value) return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

export const cell = { padding: "6px 10px", borderBottom: "1px solid #eee", textAlign: "left" as const, verticalAlign: "top" as const };

/** Labelled on show pages (as AdminJS's DefaultShowProperty does), bare in lists. */
export function placed(where: string, label: string, content: React.ReactNode) {
  return where === "show" ? h(ValueGroup, { label }, content) : h(React.Fragment, null, content);
}
