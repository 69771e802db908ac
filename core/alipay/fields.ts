// zod field types for Alipay's wire values, shared by the notify parser and the API client, so a
// yuan amount or a wire time is validated the same way wherever it comes from.
import { z } from "zod";
import { parseYuan } from "../money/index.ts";
import { parseBeijingTime } from "./time.ts";

/** A yuan string ("0.01", at most two decimals; Alipay sends strings, never JSON numbers) → integer fen. */
export const fenFromYuan = z.string().transform((v, ctx) => {
  const fen = parseYuan(v);
  if (fen === null) {
    ctx.addIssue({ code: "custom", message: `not a yuan amount: ${JSON.stringify(v.slice(0, 40))}` });
    return z.NEVER;
  }
  return fen;
});

/** "yyyy-MM-dd HH:mm:ss[.SSS]" Beijing time → Date. */
export const beijingTime = z.string().transform((v, ctx) => {
  const date = parseBeijingTime(v);
  if (!date) {
    ctx.addIssue({ code: "custom", message: `not "yyyy-MM-dd HH:mm:ss": ${JSON.stringify(v.slice(0, 40))}` });
    return z.NEVER;
  }
  return date;
});

/**
 * A non-empty string of at most `max` characters, without NUL: Alipay never sends one, and
 * PostgreSQL text cannot store one (a signed NUL would otherwise fail every write of the evidence).
 */
export const text = (max: number) => z.string().min(1).max(max).refine((v) => !v.includes("\u0000"), "contains NUL");

/**
 * Optional field: absent or empty ("k=", legal though not expected — docs/alipay-protocol.md §8.1) both become
 * null; present values must pass `schema`.
 */
export const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional()).transform((v) => v ?? null);
