// Money is integer fen (分) everywhere inside coursepay; yuan strings ("12.30") exist only at the
// Alipay boundary. Conversions are string arithmetic, never floating point.

const YUAN_PATTERN = /^(0|[1-9]\d{0,11})(?:\.(\d{1,2}))?$/;

export class MoneyFormatError extends Error {
  constructor(readonly input: string) {
    super(`not a yuan amount with at most two decimals: ${JSON.stringify(input)}`);
    this.name = "MoneyFormatError";
  }
}

/** 1230 → "12.30". Throws on negative, fractional or unsafe integers. */
export function fenToYuan(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new RangeError(`fen must be a non-negative safe integer, got ${fen}`);
  const whole = Math.floor(fen / 100);
  const cents = fen % 100;
  return `${whole}.${cents.toString().padStart(2, "0")}`;
}

/** "12.3" / "12.30" / "12" → 1230. Throws MoneyFormatError on anything else (signs, exponents, spaces, 3 decimals). */
export function yuanToFen(yuan: string): number {
  const m = YUAN_PATTERN.exec(yuan);
  if (!m) throw new MoneyFormatError(yuan);
  const whole = Number(m[1]);
  const cents = Number((m[2] ?? "").padEnd(2, "0"));
  return whole * 100 + cents;
}

/** Like yuanToFen but returns null instead of throwing: for untrusted callback fields. */
export function parseYuan(yuan: string | undefined | null): number | null {
  if (typeof yuan !== "string") return null;
  try {
    return yuanToFen(yuan);
  } catch {
    return null;
  }
}
