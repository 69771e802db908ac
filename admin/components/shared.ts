// Helpers shared by the back office's React components. Components are plain .ts with
// React.createElement (no JSX: the project's tsconfig has no jsx setting, and AdminJS's bundler —
// rollup + babel preset-typescript — compiles .ts just as well).
import React from "react";
import { Badge, ValueGroup } from "@adminjs/design-system";
import { fenToYuan } from "../../core/money/index.ts";

export const h = React.createElement;

/** 1230 → "¥12.30"; null/undefined/"" → "–". Never floating point (core/money). */
export function yuan(fen: unknown): string {
  if (fen === null || fen === undefined || fen === "") return "–";
  const n = Number(fen);
  if (!Number.isSafeInteger(n)) return String(fen);
  return n < 0 ? `-¥${fenToYuan(-n)}` : `¥${fenToYuan(n)}`;
}

export function formatTime(value: unknown, language: string): string {
  if (!value) return "–";
  const d = new Date(String(value));
  if (Number.isNaN(d.getTime())) return String(value);
  // Staff read times in China Standard Time whatever the browser's zone is.
  return d.toLocaleString(language === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
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
