// Buyer API tokens: `v1.<payload>.<mac>`, payload = base64url JSON {sub: buyer id, exp: epoch s},
// mac = HMAC-SHA256(TOKEN_SECRET, "v1.<payload>"). Stateless (any api replica verifies), short-lived,
// compared in constant time. Not a JWT: one algorithm, no header to negotiate, nothing to misconfigure.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";

export const TOKEN_TTL_SECONDS = 12 * 3600;

function mac(secret: string, data: string): Buffer {
  return createHmac("sha256", secret).update(data).digest();
}

export function issueToken(secret: string, buyerId: number, now = Date.now()): { token: string; expiresAt: Date } {
  const exp = Math.floor(now / 1000) + TOKEN_TTL_SECONDS;
  const payload = Buffer.from(JSON.stringify({ sub: buyerId, exp })).toString("base64url");
  const signed = `v1.${payload}`;
  return { token: `${signed}.${mac(secret, signed).toString("base64url")}`, expiresAt: new Date(exp * 1000) };
}

/** The buyer id, or null for anything malformed, forged or expired. */
export function verifyToken(secret: string, token: string, now = Date.now()): number | null {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== "v1") return null;
  const expected = mac(secret, `v1.${parts[1]}`);
  const given = Buffer.from(parts[2]!, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const { sub, exp } = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { sub: unknown; exp: unknown };
    if (typeof sub !== "number" || !Number.isSafeInteger(sub) || sub <= 0) return null;
    if (typeof exp !== "number" || exp * 1000 <= now) return null;
    return sub;
  } catch {
    return null;
  }
}

export type AuthedRequest = Request & { buyerId: number };

/** 401 unless `Authorization: Bearer <valid token>`; sets req.buyerId. */
export function requireBuyer(secret: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const buyerId = m ? verifyToken(secret, m[1]!) : null;
    if (buyerId === null) {
      res.setHeader("WWW-Authenticate", 'Bearer realm="coursepay"');
      res.status(401).json({ error: m ? "invalid or expired token" : "authentication required: Authorization: Bearer <token>" });
      return;
    }
    (req as AuthedRequest).buyerId = buyerId;
    next();
  };
}
