// Alipay's wire times (timestamp, time_expire, gmt_*, notify_time) are "yyyy-MM-dd HH:mm:ss" in
// Beijing time (UTC+8, no DST) whatever the server's timezone (docs/alipay-protocol.md §1.4: Java formats with
// GMT+8). The Node SDK stamps `timestamp` in the process's local zone, which is wrong on a UTC server;
// the client passes its own timestamp from here.

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
const WIRE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Date → "yyyy-MM-dd HH:mm:ss" in Beijing time (seconds truncated). */
export function formatBeijingTime(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError("invalid Date");
  const b = new Date(date.getTime() + BEIJING_OFFSET_MS);
  return `${pad(b.getUTCFullYear(), 4)}-${pad(b.getUTCMonth() + 1)}-${pad(b.getUTCDate())} ${pad(b.getUTCHours())}:${pad(b.getUTCMinutes())}:${pad(b.getUTCSeconds())}`;
}

/**
 * "yyyy-MM-dd HH:mm:ss" (optionally ".S" to ".SSS", seen in gmt_refund) Beijing time → Date;
 * null when the text is not exactly that shape or names an impossible date.
 */
export function parseBeijingTime(text: string): Date | null {
  const m = WIRE_TIME.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? "0").padEnd(3, "0"));
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(utc);
  // Date.UTC rolls 2024-02-30 over to March: reject instead of silently shifting.
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return null;
  }
  return new Date(utc - BEIJING_OFFSET_MS);
}
