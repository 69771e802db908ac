// application/x-www-form-urlencoded parsing for Alipay callbacks (docs/alipay-protocol.md §1.5).
//
// Every value is decoded exactly once (`+` → space, %XX → byte, bytes → UTF-8). A second decode is
// the bug behind alipay-sdk-nodejs-all#45: `passback_params` arrives still URL-encoded after the first
// decode (the merchant had to encode it) and a second decode changes the signed text.
// Unlike URLSearchParams this parser refuses what it cannot represent faithfully instead of guessing:
// duplicated keys (which value did the signer mean?), a `%` not followed by two hex digits, and bytes
// that are not UTF-8 (URLSearchParams would silently substitute U+FFFD).

import { decodeText, encodeText, type Charset } from "./charset.ts";

export type FormParseErrorCode = "duplicate_key" | "bad_percent_encoding" | "invalid_utf8";

export class FormParseError extends Error {
  constructor(
    readonly code: FormParseErrorCode,
    message: string,
    /** Keys that occurred more than once (duplicate_key only). */
    readonly duplicates: string[] = [],
    /** Best-effort parse (first occurrence wins), for logging or finding the order; never for verification. */
    readonly params: Record<string, string> = {},
  ) {
    super(message);
    this.name = "FormParseError";
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function hex(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/** Decode one key or value (bytes of the raw body between separators). */
function decodeComponent(bytes: Buffer, charset: Charset): string {
  // Fast path (most keys and many values): plain ASCII with nothing to decode is its own text.
  let plain = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x2b || b === 0x25 || b >= 0x80) {
      plain = false;
      break;
    }
  }
  if (plain) return bytes.toString("latin1");
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80) ascii = false;
    if (b === 0x2b) out[n++] = 0x20;
    else if (b === 0x25) {
      const hi = hex(bytes[i + 1] ?? -1);
      const lo = hex(bytes[i + 2] ?? -1);
      if (hi < 0 || lo < 0) {
        throw new FormParseError("bad_percent_encoding", `"%" not followed by two hex digits near "${Buffer.from(bytes.subarray(i, i + 3)).toString("latin1")}"`);
      }
      const decoded = hi * 16 + lo;
      if (decoded >= 0x80) ascii = false;
      out[n++] = decoded;
      i += 2;
    } else out[n++] = b;
  }
  // ASCII is valid UTF-8 and reads the same in latin1 (no decoder call needed).
  if (ascii) return out.toString("latin1", 0, n);
  try {
    return charset === "utf-8" ? utf8.decode(out.subarray(0, n)) : decodeText(out.subarray(0, n), charset);
  } catch {
    throw new FormParseError("invalid_utf8", "decoded bytes are not UTF-8 (a GBK callback without charset=GBK, or a corrupted body)");
  }
}

function setOwn(target: Record<string, string>, key: string, value: string): void {
  // defineProperty, not assignment, for "__proto__": it must stay an ordinary parameter. (Only for
  // that key: defineProperty on every key costs more than the rest of the parse.)
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Parse a urlencoded body. Throws FormParseError (with `.duplicates` and a best-effort `.params`)
 * on duplicated keys, broken percent-encoding or non-UTF-8 bytes. Empty segments ("a=1&&b=2") are
 * skipped; a segment without "=" is a key with an empty value.
 */
export function parseFormBody(raw: string | Buffer, opts: { charset?: Charset } = {}): Record<string, string> {
  const charset = opts.charset ?? "utf-8";
  const bytes = typeof raw === "string" ? Buffer.from(raw, "utf8") : raw;
  const params: Record<string, string> = {};
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x26, start); // '&'
    if (end < 0) end = bytes.length;
    const segment = bytes.subarray(start, end);
    start = end + 1;
    if (segment.length === 0) continue;
    const eq = segment.indexOf(0x3d); // '='
    const key = decodeComponent(eq < 0 ? segment : segment.subarray(0, eq), charset);
    const value = eq < 0 ? "" : decodeComponent(segment.subarray(eq + 1), charset);
    if (seen.has(key)) {
      duplicates.add(key);
      continue;
    }
    seen.add(key);
    setOwn(params, key, value);
  }
  if (duplicates.size > 0) {
    const list = [...duplicates];
    throw new FormParseError("duplicate_key", `duplicated parameter(s): ${list.join(", ")}`, list, params);
  }
  return params;
}

/** parseFormBody without throwing, for handlers that record every callback. */
export function tryParseFormBody(
  raw: string | Buffer,
  opts: { charset?: Charset } = {},
): { ok: true; params: Record<string, string> } | { ok: false; error: FormParseError } {
  try {
    return { ok: true, params: parseFormBody(raw, opts) };
  } catch (err) {
    if (err instanceof FormParseError) return { ok: false, error: err };
    throw err;
  }
}

/**
 * Parse a return-URL query string: raw ("a=1&b=2"), with a leading "?", a request target as servers
 * see it ("/alipay/return?a=1", e.g. express req.originalUrl) or a whole URL pasted from the browser
 * (everything after the first "?", fragment removed).
 */
export function parseQueryString(raw: string): Record<string, string> {
  let query = raw.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(query) || query.startsWith("/")) {
    const q = query.indexOf("?");
    query = q < 0 ? "" : query.slice(q + 1);
    const hash = query.indexOf("#");
    if (hash >= 0) query = query.slice(0, hash);
  } else if (query.startsWith("?")) {
    query = query.slice(1);
  }
  return parseFormBody(query);
}

/**
 * Render params as a urlencoded body (encodeURIComponent, space as %20): for tests and the sandbox.
 * With a non-UTF-8 charset each value's bytes in that charset are percent-encoded (a GBK form post).
 */
export function encodeFormBody(params: Record<string, string>, charset: Charset = "utf-8"): string {
  const enc = (v: string) =>
    charset === "utf-8" ? encodeURIComponent(v) : [...encodeText(v, charset)].map((b) => (isUnreserved(b) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`)).join("");
  return Object.keys(params)
    .map((k) => `${enc(k)}=${enc(params[k]!)}`)
    .join("&");
}

function isUnreserved(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
}
