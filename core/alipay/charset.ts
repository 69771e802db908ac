// Character sets of Alipay messages. Requests, answers and notifications use the app's `charset`
// (utf-8, or GBK/GB2312 for older apps, docs/alipay-protocol.md §1.4); the signature covers the bytes in that
// charset. coursepay always sends UTF-8, but an app configured for GBK receives GBK answers and
// notifications, so those are decoded, and verified, by the charset they declare.
import iconv from "iconv-lite";

export type Charset = "utf-8" | "gbk" | "gb18030";

/** The charset an Alipay `charset` value or Content-Type parameter names; null when unsupported. */
export function normalizeCharset(name: string | undefined | null): Charset | null {
  if (name === undefined || name === null || name === "") return "utf-8";
  const n = name.trim().toLowerCase().replace(/^"|"$/g, "");
  if (n === "utf-8" || n === "utf8") return "utf-8";
  // GB2312 is a subset of GBK; Alipay's Java SDK decodes both with the GBK table.
  if (n === "gbk" || n === "gb2312" || n === "cp936") return "gbk";
  if (n === "gb18030") return "gb18030";
  return null;
}

/** The charset parameter of a Content-Type header (null when absent). */
export function contentTypeCharset(contentType: string | null | undefined): string | null {
  const m = /;\s*charset\s*=\s*("?)([A-Za-z0-9_-]+)\1/i.exec(contentType ?? "");
  return m ? m[2]! : null;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Bytes → text; throws on bytes that are not valid UTF-8 (GBK decoding cannot fail, only garble). */
export function decodeText(bytes: Uint8Array, charset: Charset): string {
  if (charset === "utf-8") return utf8.decode(bytes);
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), charset);
}

/** Text → bytes in `charset` (what the signer signed). */
export function encodeText(text: string, charset: Charset = "utf-8"): Buffer {
  return charset === "utf-8" ? Buffer.from(text, "utf8") : iconv.encode(text, charset);
}

/**
 * The `charset` parameter of a urlencoded body, read from the raw bytes before anything is decoded
 * (it decides how everything else is decoded). Absent → null.
 */
export function declaredFormCharset(raw: Buffer | string): string | null {
  const text = typeof raw === "string" ? raw : raw.toString("latin1");
  const m = /(?:^|&)charset=([A-Za-z0-9_%-]*)(?:&|$)/.exec(text);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!;
  }
}
