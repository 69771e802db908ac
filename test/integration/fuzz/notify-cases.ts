// Hostile Alipay callbacks for the fuzz tests: fast-check arbitraries that build HTTP requests to
// /alipay/notify (and query strings for /alipay/return), plus an oracle, independent of the code
// under test, that says whether a request could legitimately pay an order.
//
// A notify is modelled as an ordered list of [key, value] pairs (so duplicated keys, order and
// empty keys are representable), signed here with the test's Alipay private key (rule V1: sorted
// `k=v` of non-empty values, `sign` and `sign_type` excluded), encoded in one of several ways, and
// optionally damaged at the byte level.
import { createSign } from "node:crypto";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { fenToYuan, parseYuan } from "../../../core/money/index.ts";
import { buildSignedNotify } from "../../../sandbox/app.ts";

export type Pair = [string, string];

export interface FuzzOrder {
  outTradeNo: string;
  totalFen: number;
}

export interface Merchant {
  appId: string;
  sellerId: string;
  privateKey: string;
}

/** One request to POST /alipay/notify. */
export interface NotifyCase {
  category: string;
  body: Buffer;
  headers: Record<string, string>;
  /** Declare a longer body than is sent, then close: the server sees an aborted upload. */
  lieAboutLength?: boolean;
  /** Whether the request can reach the handler (and so must leave an inbox row). */
  reachesHandler: boolean;
  /** The order this request may legitimately pay (valid signature over paying content), if any. */
  mayPay: string | null;
}

// ---- hostile values ------------------------------------------------------------------------------

const HOSTILE_CONSTANTS = [
  "", " ", "\u0000", "a\u0000b", "%00", "\uFEFF", "\u202E", "null", "undefined", "NaN", "-1", "0", "1e309", "true", "[]", "{}",
  "' OR '1'='1' --", "\"; DROP TABLE \"order\"; --", "<script>alert(1)</script>", "../../../../etc/passwd", "${jndi:ldap://x/a}",
  "\r\nX-Injected: 1", "%", "%%", "%zz", "%E4%B8", "+", "&", "=", "&amp;", "\\", "'", "\"", "`", "\t", "\n",
  "a".repeat(65), "9".repeat(40), "x".repeat(3000), "测试中文", "支付成功", "𝕏😀", "\uD800", "\uDFFF x", "__proto__", "constructor", "toString",
  "TRADE_SUCCESS", "TRADE_FINISHED", "trade_success", "WAIT_BUYER_PAY", "TRADE_CLOSED", "2021000000000001", "2088000000000001",
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_CONSTANTS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
);

/** Amounts near the right one: equal by value but not by text, off by a fen, absurd. */
export function hostileAmount(totalFen: number): fc.Arbitrary<string> {
  const yuan = fenToYuan(totalFen);
  const [whole, cents] = yuan.split(".") as [string, string];
  return fc.oneof(
    fc.constantFrom(
      yuan, `0${yuan}`, `${whole}.${cents}0`, `${whole}.${cents[0]}`, whole, `+${yuan}`, `-${yuan}`, ` ${yuan}`, `${yuan} `, `${yuan}\u0000`,
      `${whole},${cents}`, `${Number(yuan) / 10}e1`, fenToYuan(totalFen + 1), fenToYuan(Math.max(0, totalFen - 1)), "0.01", "0.00",
      "21474836.48", "99999999999999999.99", "Infinity", "NaN", "0x10", "１２.００", `${yuan}.00`, "",
    ),
    fc.double({ min: -1e6, max: 1e9, noNaN: true }).map(String),
    fc.integer({ min: 0, max: 10_000_000 }).map((fen) => fenToYuan(fen)),
  );
}

// ---- signing, encoding ---------------------------------------------------------------------------

/** Rule V1 over pairs (first occurrence of a key wins, as a signer would have one value per key). */
export function signContent(pairs: Pair[]): string {
  const seen = new Map<string, string>();
  for (const [k, v] of pairs) if (!seen.has(k)) seen.set(k, v);
  return [...seen.keys()]
    .filter((k) => k !== "" && k !== "sign" && k !== "sign_type" && seen.get(k) !== "")
    .sort()
    .map((k) => `${k}=${seen.get(k)}`)
    .join("&");
}

export function sign(pairs: Pair[], privateKey: string): Pair[] {
  const signature = createSign("RSA-SHA256").update(signContent(pairs), "utf8").sign(privateKey, "base64");
  return [...pairs.filter(([k]) => k !== "sign"), ["sign", signature]];
}

const baseCache = new Map<string, Pair[]>();
/**
 * A payment notify for `order` as the sandbox sends it, as pairs, unsigned. Made once per order (a
 * signature costs a millisecond or two; the cases sign their own variants): repeats of one notify
 * are what Alipay's retries look like anyway.
 */
export function basePairs(order: FuzzOrder, m: Merchant): Pair[] {
  let pairs = baseCache.get(order.outTradeNo);
  if (!pairs) {
    const params = buildSignedNotify({ outTradeNo: order.outTradeNo, appId: m.appId, sellerId: m.sellerId, totalFen: order.totalFen }, {}, { privateKey: m.privateKey });
    pairs = Object.entries(params).filter(([k]) => k !== "sign");
    baseCache.set(order.outTradeNo, pairs);
  }
  return pairs.map((p) => [...p] as Pair);
}

// Percent-encoding by bytes (encodeURIComponent throws on lone surrogates, which hostile strings have).
const UNRESERVED = /[A-Za-z0-9\-_.~]/;
function percentEncode(bytes: Buffer, opts: { plusForSpace?: boolean; lowerHex?: boolean; encodeAll?: boolean } = {}): string {
  let out = "";
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (!opts.encodeAll && b < 0x80 && UNRESERVED.test(ch)) out += ch;
    else if (opts.plusForSpace && b === 0x20) out += "+";
    else {
      const hex = b.toString(16).padStart(2, "0");
      out += `%${opts.lowerHex ? hex : hex.toUpperCase()}`;
    }
  }
  return out;
}

// "测试" in GBK: what a merchant gets when the charset is wrong somewhere upstream.
const GBK_BYTES = Buffer.from([0xb2, 0xe2, 0xca, 0xd4]);

export type Encoding = "standard" | "plus" | "lowerHex" | "encodeAll" | "rawUtf8" | "latin1" | "gbkValue" | "doubleEncoded";
const ENCODINGS: Encoding[] = ["standard", "plus", "lowerHex", "encodeAll", "rawUtf8", "latin1", "gbkValue", "doubleEncoded"];

export function encodePairs(pairs: Pair[], encoding: Encoding, gbkIndex = 0): Buffer {
  const parts: Buffer[] = pairs.map(([k, v], i) => {
    const enc = (s: string) => {
      const bytes = Buffer.from(s, "utf8");
      switch (encoding) {
        case "plus": return Buffer.from(percentEncode(bytes, { plusForSpace: true }));
        case "lowerHex": return Buffer.from(percentEncode(bytes, { lowerHex: true }));
        case "encodeAll": return Buffer.from(percentEncode(bytes, { encodeAll: true }));
        case "rawUtf8": return Buffer.from(s.replace(/[%&=+]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`), "utf8");
        case "latin1": return Buffer.from(percentEncode(Buffer.from(s, "latin1")));
        case "doubleEncoded": return Buffer.from(percentEncode(Buffer.from(percentEncode(bytes))));
        default: return Buffer.from(percentEncode(bytes));
      }
    };
    const value = encoding === "gbkValue" && i === gbkIndex % pairs.length ? Buffer.from(percentEncode(GBK_BYTES)) : enc(v);
    return Buffer.concat([enc(k), Buffer.from("="), value]);
  });
  const out: Buffer[] = [];
  parts.forEach((p, i) => out.push(...(i ? [Buffer.from("&"), p] : [p])));
  return Buffer.concat(out);
}

// ---- the oracle ----------------------------------------------------------------------------------

/**
 * Parses a body the way a standards-following form parser does (WHATWG URL-encoded parsing with
 * strict UTF-8), independently of core/alipay/form.ts. null when the bytes are not UTF-8 or hold a
 * malformed escape.
 */
export function independentParse(body: Buffer): Pair[] | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return null;
  }
  const pairs: Pair[] = [];
  for (const segment of text.split("&")) {
    if (!segment) continue;
    const eq = segment.indexOf("=");
    const [rawK, rawV] = eq < 0 ? [segment, ""] : [segment.slice(0, eq), segment.slice(eq + 1)];
    try {
      pairs.push([decodeURIComponent(rawK.replaceAll("+", " ")), decodeURIComponent(rawV.replaceAll("+", " "))]);
    } catch {
      return null;
    }
  }
  return pairs;
}

/**
 * The order a received body may pay: its signature must still cover exactly what was signed (the
 * content that verifies: same non-empty fields, same sign) and that content must be a payment of the
 * order's exact amount to our app and seller (or a refund of such a payment). Anything else must never pay.
 */
export function mayPayWith(signed: Pair[] | null, received: Buffer, orders: Map<string, FuzzOrder>, m: Merchant): string | null {
  if (!signed) return null;
  const parsed = independentParse(received);
  if (!parsed) return null;
  const signOf = (ps: Pair[]) => ps.find(([k]) => k === "sign")?.[1];
  // Compared as the bytes a signature covers, not as JS strings: a lone surrogate in a signed value
  // (hostile strings have them) is signed and sent as the UTF-8 of U+FFFD, so a body that decodes to
  // "\uFFFD" where the signer's string held "\uD800" carries exactly the signed content, and a correct
  // server pays it. (Comparing strings here once made the oracle stricter than the server: a CI run
  // failed with an order "PAID without a validly signed payment" that such a notify had paid.)
  const asSigned = (ps: Pair[]) => Buffer.from(signContent(ps), "utf8");
  const expected = asSigned(signed);
  const intact = (asSigned(parsed).equals(expected) || asSigned([...parsed].reverse()).equals(expected)) && signOf(parsed) === signOf(signed);
  if (!intact) return null;
  const fields = Object.fromEntries([...signed].reverse());
  const order = orders.get(fields.out_trade_no ?? "");
  // A refunded trade was paid: a closed trade with a refund total also records the payment (marked
  // for review), and the order is PAID until core/refunds records the refund in its own transaction —
  // which the final judgement may see (transitions.ts, "refund_without_payment").
  const refunded = fields.trade_status === "TRADE_CLOSED" && (parseYuan(fields.refund_fee) ?? 0) > 0;
  const paying =
    order !== undefined &&
    (fields.trade_status === "TRADE_SUCCESS" || fields.trade_status === "TRADE_FINISHED" || refunded) &&
    fields.app_id === m.appId &&
    fields.seller_id === m.sellerId &&
    parseYuan(fields.total_amount) === order.totalFen;
  return paying ? order.outTradeNo : null;
}

// ---- arbitraries: notify requests ---------------------------------------------------------------

export interface CaseContext {
  orders: FuzzOrder[];
  byOutTradeNo: Map<string, FuzzOrder>;
  merchant: Merchant;
  /** A different key, for forged signatures. */
  forgerKey: string;
  bodyLimit: number;
}

const CONTENT_TYPES = [
  "application/x-www-form-urlencoded; charset=utf-8", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=gbk",
  "text/plain", "application/json", "multipart/form-data; boundary=xyz", "application/octet-stream", "x/\u00e9", "",
];

const contentType = fc.constantFrom(...CONTENT_TYPES).map((ct): Record<string, string> => (ct ? { "content-type": ct.replace(/[^\x20-\x7e]/g, "?") } : {}));

function plain(category: string, body: Buffer, headers: Record<string, string>, limit: number, mayPay: string | null = null): NotifyCase {
  return { category, body, headers, reachesHandler: body.length <= limit, mayPay };
}

/** Bytes with no structure at all. */
export const arbitraryBytes = (c: CaseContext) =>
  fc.tuple(fc.uint8Array({ maxLength: 2048 }), contentType).map(([bytes, headers]) => plain("bytes", Buffer.from(bytes), headers, c.bodyLimit));

/** Form-shaped bodies of arbitrary keys and values (Alipay's names mixed with anything). */
export const arbitraryForm = (c: CaseContext) => {
  const key = fc.oneof(fc.constantFrom("out_trade_no", "total_amount", "trade_status", "sign", "sign_type", "app_id", "seller_id", "notify_id", "charset", "__proto__", ""), hostileString);
  const value = fc.oneof(hostileString, fc.constantFrom(...c.orders.map((o) => o.outTradeNo)));
  return fc
    .tuple(fc.array(fc.tuple(key, value), { maxLength: 30 }), fc.constantFrom(...ENCODINGS), contentType)
    .map(([pairs, encoding, headers]) => plain("form", encodePairs(pairs as Pair[], encoding), headers, c.bodyLimit));
};

type PairMutation =
  | { kind: "set"; index: number; value: string }
  | { kind: "add"; key: string; value: string }
  | { kind: "addEmpty"; key: string }
  | { kind: "delete"; index: number }
  | { kind: "duplicate"; index: number; value: string | null }
  | { kind: "swap"; i: number; j: number }
  | { kind: "uppercaseKey"; index: number }
  | { kind: "flipSign"; at: number };

const pairMutation: fc.Arbitrary<PairMutation> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), index: fc.nat(), value: hostileString }),
  fc.record({ kind: fc.constant("add" as const), key: hostileString, value: hostileString }),
  fc.record({ kind: fc.constant("addEmpty" as const), key: hostileString }),
  fc.record({ kind: fc.constant("delete" as const), index: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), index: fc.nat(), value: fc.option(hostileString) }),
  fc.record({ kind: fc.constant("swap" as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ kind: fc.constant("uppercaseKey" as const), index: fc.nat() }),
  fc.record({ kind: fc.constant("flipSign" as const), at: fc.nat() }),
);

function mutate(pairs: Pair[], m: PairMutation): Pair[] {
  const out = pairs.map((p) => [...p] as Pair);
  const at = (n: number) => n % Math.max(out.length, 1);
  switch (m.kind) {
    case "set": if (out.length) out[at(m.index)]![1] = m.value; break;
    case "add": out.push([m.key, m.value]); break;
    case "addEmpty": out.push([m.key, ""]); break;
    case "delete": out.splice(at(m.index), 1); break;
    case "duplicate": if (out.length) { const [k, v] = out[at(m.index)]!; out.push([k, m.value ?? v]); } break;
    case "swap": if (out.length) { const a = at(m.i), b = at(m.j); [out[a], out[b]] = [out[b]!, out[a]!]; } break;
    case "uppercaseKey": if (out.length) out[at(m.index)]![0] = out[at(m.index)]![0].toUpperCase(); break;
    case "flipSign": {
      const s = out.find(([k]) => k === "sign");
      if (s && s[1].length) {
        const i = m.at % s[1].length;
        s[1] = s[1].slice(0, i) + (s[1][i] === "A" ? "B" : "A") + s[1].slice(i + 1);
      }
    }
  }
  return out;
}

type ByteDamage = { kind: "none" } | { kind: "truncate"; at: number } | { kind: "insert"; at: number; bytes: Uint8Array } | { kind: "flip"; at: number; bit: number } | { kind: "bom" } | { kind: "trailing"; text: string };

const byteDamage: fc.Arbitrary<ByteDamage> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "bom" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("trailing" as const), text: fc.constantFrom("&", "&&", "\r\n", "\n", "&=", "&sign=", " ") }) },
);

function damage(body: Buffer, d: ByteDamage): Buffer {
  const at = (n: number) => (body.length ? n % body.length : 0);
  switch (d.kind) {
    case "truncate": return body.subarray(0, at(d.at));
    case "insert": return Buffer.concat([body.subarray(0, at(d.at)), Buffer.from(d.bytes), body.subarray(at(d.at))]);
    case "flip": { const b = Buffer.from(body); if (b.length) b[at(d.at)]! ^= 1 << d.bit; return b; }
    case "bom": return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
    case "trailing": return Buffer.concat([body, Buffer.from(d.text)]);
    default: return body;
  }
}

/**
 * A genuine, correctly signed payment notify for one of the orders, then damaged: fields mutated
 * after signing, keys duplicated or re-cased, the signature flipped, the bytes truncated or
 * corrupted, re-encoded in another charset. Signed by the real key, or by a forger's.
 */
export const mutatedNotify = (c: CaseContext) =>
  fc
    .tuple(
      fc.constantFrom(...c.orders),
      fc.boolean().map((forged) => (forged ? c.forgerKey : c.merchant.privateKey)),
      fc.array(pairMutation, { minLength: 0, maxLength: 3 }),
      fc.constantFrom<Encoding>("standard", "standard", "standard", ...ENCODINGS),
      fc.nat(),
      byteDamage,
      contentType,
    )
    .map(([order, key, mutations, encoding, gbkIndex, d, headers]) => {
      const signed = sign(basePairs(order, c.merchant), key);
      const received = mutations.reduce(mutate, signed);
      const body = damage(encodePairs(received, encoding, gbkIndex), d);
      const mayPay = key === c.merchant.privateKey ? mayPayWith(signed, body, c.byOutTradeNo, c.merchant) : null;
      return plain(`mutated:${mutations.map((m) => m.kind).join("+") || "none"}/${encoding}/${d.kind}${key === c.forgerKey ? "/forged" : ""}`, body, headers, c.bodyLimit, mayPay);
    });

/**
 * Correctly signed by the real key, over hostile content: every field may carry a hostile value,
 * amounts are near-misses, ids point at other orders, unknown fields with hostile names are added.
 * The signature is valid, so only the merchant checks stand between these and a payment.
 */
export const hostileSignedNotify = (c: CaseContext) =>
  fc
    .tuple(fc.constantFrom(...c.orders), fc.constantFrom(...c.orders))
    .chain(([order, other]) =>
      fc.tuple(
        fc.constant(order),
        fc.record(
          {
            total_amount: hostileAmount(order.totalFen),
            out_trade_no: fc.oneof(fc.constant(order.outTradeNo), fc.constant(other.outTradeNo), hostileString),
            trade_status: fc.oneof(fc.constantFrom("TRADE_SUCCESS", "TRADE_FINISHED", "WAIT_BUYER_PAY", "TRADE_CLOSED"), hostileString),
            app_id: fc.oneof(fc.constant(c.merchant.appId), fc.constant("2021999999999999"), hostileString),
            auth_app_id: hostileString,
            seller_id: fc.oneof(fc.constant(c.merchant.sellerId), fc.constant("2088999999999999"), hostileString),
            notify_id: hostileString,
            notify_time: fc.oneof(fc.constant("2026-01-01 12:00:00"), hostileString),
            gmt_payment: fc.oneof(fc.constant("2026-01-01 12:00:00"), hostileString),
            trade_no: hostileString,
            refund_fee: hostileAmount(order.totalFen),
            subject: hostileString,
            passback_params: hostileString,
            charset: fc.constantFrom("utf-8", "gbk", "UTF8", "", "x"),
            buyer_logon_id: hostileString,
          },
          { requiredKeys: [] },
        ),
        fc.array(fc.tuple(hostileString, hostileString), { maxLength: 3 }),
        fc.constantFrom<Encoding>("standard", "plus", "lowerHex", "encodeAll", "rawUtf8"),
        contentType,
      ),
    )
    .map(([order, overrides, extra, encoding, headers]) => {
      let pairs = basePairs(order, c.merchant);
      for (const [k, v] of Object.entries(overrides)) {
        const i = pairs.findIndex(([pk]) => pk === k);
        if (i >= 0) pairs[i]![1] = v as string;
        else pairs.push([k, v as string]);
      }
      // Extra keys never shadow a real field: a duplicate of one is the mutated cases' business.
      pairs = [...pairs, ...(extra as Pair[]).filter(([k]) => !pairs.some(([pk]) => pk === k))];
      const signed = sign(pairs, c.merchant.privateKey);
      const body = encodePairs(signed, encoding);
      return plain(`hostile-signed/${Object.keys(overrides).join(",") || "none"}`, body, headers, c.bodyLimit, mayPayWith(signed, body, c.byOutTradeNo, c.merchant));
    });

/** Transport-level hostility: oversized bodies, compressed bodies, aborted uploads. */
export const transportCase = (c: CaseContext) =>
  fc
    .tuple(
      fc.constantFrom(...c.orders),
      fc.constantFrom("oversized", "atLimit", "gzip", "gzipGarbage", "unknownEncoding", "aborted", "empty"),
      fc.integer({ min: 1, max: 20_000 }),
    )
    .map(([order, kind, n]): NotifyCase => {
      const signed = sign(basePairs(order, c.merchant), c.merchant.privateKey);
      const valid = encodePairs(signed, "standard");
      const form = { "content-type": "application/x-www-form-urlencoded; charset=utf-8" };
      switch (kind) {
        case "oversized": {
          const body = Buffer.concat([valid, Buffer.from(`&pad=${"x".repeat(c.bodyLimit - valid.length + n)}`)]);
          return { category: "oversized", body, headers: form, reachesHandler: false, mayPay: null };
        }
        case "atLimit": {
          const body = Buffer.concat([valid, Buffer.from(`&pad=${"x".repeat(c.bodyLimit - valid.length - 5)}`)]);
          // The padding is an extra signed-over field (non-empty): the signature no longer covers it.
          return { category: "atLimit", body, headers: form, reachesHandler: true, mayPay: null };
        }
        case "gzip": {
          const body = gzipSync(valid);
          // Decompressed by the server: the genuine notify inside may pay.
          return { category: "gzip", body, headers: { ...form, "content-encoding": "gzip" }, reachesHandler: true, mayPay: mayPayWith(signed, valid, c.byOutTradeNo, c.merchant) };
        }
        case "gzipGarbage":
          return { category: "gzipGarbage", body: valid, headers: { ...form, "content-encoding": "gzip" }, reachesHandler: false, mayPay: null };
        case "unknownEncoding":
          return { category: "unknownEncoding", body: valid, headers: { ...form, "content-encoding": "x-klingon" }, reachesHandler: false, mayPay: null };
        case "aborted":
          return { category: "aborted", body: valid.subarray(0, n % valid.length), headers: form, lieAboutLength: true, reachesHandler: false, mayPay: null };
        default:
          return { category: "empty", body: Buffer.alloc(0), headers: form, reachesHandler: true, mayPay: null };
      }
    });

// ---- arbitraries: return query strings ----------------------------------------------------------

/** Query strings for GET /alipay/return: garbage, forms, and signed-looking ones for real orders. */
export const returnQuery = (c: CaseContext) =>
  fc.oneof(
    fc.string({ unit: "binary", maxLength: 300 }).map((s) => percentEncode(Buffer.from(s, "utf8"))),
    fc.array(fc.tuple(hostileString, hostileString), { maxLength: 12 }).map((pairs) => encodePairs(pairs as Pair[], "standard").toString("latin1")),
    fc
      .tuple(fc.constantFrom(...c.orders), fc.array(pairMutation, { maxLength: 2 }))
      .map(([order, mutations]) => {
        const pairs: Pair[] = [
          ["app_id", c.merchant.appId], ["out_trade_no", order.outTradeNo], ["total_amount", fenToYuan(order.totalFen)],
          ["trade_no", "2026010122001400000000000001"], ["seller_id", c.merchant.sellerId], ["method", "alipay.trade.page.pay.return"],
          ["timestamp", "2026-01-01 12:00:00"], ["charset", "utf-8"], ["version", "1.0"], ["sign_type", "RSA2"],
        ];
        return encodePairs(mutations.reduce(mutate, sign(pairs, c.merchant.privateKey)), "standard").toString("latin1");
      }),
    fc.constantFrom("%", "%%", "&&&", "=", "a=%E4%B8", "sign=", "\u0000".replace("\u0000", "%00"), "x=1#frag", "a=1&a=2"),
  );
