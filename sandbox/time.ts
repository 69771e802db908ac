import { formatBeijingTime, parseBeijingTime } from "../core/alipay/time.ts";

// Alipay speaks Beijing time (UTC+8) in every timestamp (docs/alipay-protocol.md §1.4, §2, §4); the machines run in
// UTC. The conversions live in core/alipay/time.ts; this file adds what only the emulator needs.

/** `2023-12-21 14:48:44` (Beijing time) for an epoch-ms instant. */
export function formatBeijing(at: number): string {
  return formatBeijingTime(new Date(at));
}

/**
 * `2023-12-21 14:48:44.123` — the refund time in notifications. The official notify table gives
 * `yyyy-MM-dd HH:mm:ss.S` for gmt_refund (docs/alipay-protocol.md §4, documented but not seen in real samples), so the
 * sandbox sends milliseconds: a merchant parser that only accepts `HH:mm:ss` should fail here, not in production.
 */
export function formatBeijingMillis(at: number): string {
  return `${formatBeijing(at)}.${String(new Date(at).getUTCMilliseconds()).padStart(3, "0")}`;
}

/** `20231221` (Beijing date), the prefix of real trade numbers and notify ids. */
export function beijingDateCompact(at: number): string {
  return formatBeijing(at).slice(0, 10).replaceAll("-", "");
}

/**
 * time_expire → epoch ms. `yyyy-MM-dd HH:mm:ss` and `yyyy-MM-dd HH:mm` are both accepted because the
 * documented format changed between model versions (docs/alipay-protocol.md §2, §8.2). null if malformed.
 */
export function parseTimeExpire(text: string): number | null {
  const full = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(text) ? `${text}:00` : text;
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(full)) return null;
  return parseBeijingTime(full)?.getTime() ?? null;
}

const DAY_MS = 86_400_000;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: DAY_MS } as const;

/** Epoch ms of the next Beijing midnight after `at` (timeout_express `1c`: "当天的24点关闭"). */
export function nextBeijingMidnight(at: number): number {
  return parseBeijingTime(`${formatBeijing(at).slice(0, 10)} 00:00:00`)!.getTime() + DAY_MS;
}

/**
 * timeout_express: relative expiry, `1m`…`15d` in whole minutes/hours/days, or `1c`; no decimals
 * (docs/alipay-protocol.md §2). Returns the absolute expiry, or null if invalid.
 */
export function parseTimeoutExpress(text: string, from: number): number | null {
  if (text === "1c") return nextBeijingMidnight(from);
  const m = /^([1-9]\d{0,5})([mhd])$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 15 * DAY_MS ? null : from + ms;
}
