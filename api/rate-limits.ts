// Throttles on the buyer API's two abusable writes (express-rate-limit):
//   POST /auth/login — failed attempts per (client address, account) (password guessing against one
//     buyer) and per client address (one address trying many accounts). Successful logins are not
//     counted. Not per account alone: then anyone who knows a buyer's email could lock the buyer
//     out of password login by failing on purpose (issue 10); keyed with the address, a stranger
//     elsewhere only uses up their own attempts.
//   POST /orders     — orders per buyer and per client address (each order costs a database write
//     and, later, payment checks against Alipay's rate-limited query API).
// The counters live in each api process's memory (express-rate-limit's MemoryStore): with N replicas
// behind a load balancer a client gets up to N times the limit, and a restart forgets the counts.
// That bounds abuse well enough for these two routes; a shared Redis store (as the admin's login
// uses) is the upgrade if it ever is not.
// Mounted after the JSON body parser (the login limiter keys on the email) and before the routes.
import { Router, type Request, type RequestHandler } from "express";
import { ipKeyGenerator, rateLimit } from "express-rate-limit";
import { verifyToken } from "./auth.ts";

export interface Limit {
  windowMs: number;
  limit: number;
}

export const BUYER_LIMITS = {
  loginFailuresPerAddressAndAccount: { windowMs: 15 * 60_000, limit: 10 },
  loginFailuresPerAddress: { windowMs: 15 * 60_000, limit: 50 },
  ordersPerBuyer: { windowMs: 10 * 60_000, limit: 30 },
  ordersPerAddress: { windowMs: 10 * 60_000, limit: 300 },
} satisfies Record<string, Limit>;

export type BuyerLimits = typeof BUYER_LIMITS;

const address = (req: Request) => ipKeyGenerator(req.ip ?? "unknown");

function accountOf(req: Request): string {
  const email = (req.body as Record<string, unknown> | undefined)?.email;
  return typeof email === "string" ? email.trim().toLowerCase().slice(0, 254) : "";
}

function limiter(name: string, l: Limit, key: (req: Request) => string | null, countSuccesses: boolean): RequestHandler {
  return rateLimit({
    windowMs: l.windowMs,
    limit: l.limit,
    skipSuccessfulRequests: !countSuccesses,
    // No key (no email, no valid token): this limiter does not apply; the address limiter still does.
    skip: (req) => key(req) === null,
    keyGenerator: (req) => `${name}:${key(req)}`,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    handler: (req, res) => {
      res.status(429).json({ error: "too many requests; try again later", requestId: (req as { requestId?: string }).requestId });
    },
  });
}

export function buyerRateLimits(opts: { tokenSecret: string; limits?: Partial<BuyerLimits> }): Router {
  const limits = { ...BUYER_LIMITS, ...opts.limits };
  const buyer = (req: Request) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const id = m ? verifyToken(opts.tokenSecret, m[1]!) : null;
    return id === null ? null : String(id);
  };
  const router = Router();
  router.post(
    "/auth/login",
    limiter("login-address", limits.loginFailuresPerAddress, address, false),
    limiter("login-address-account", limits.loginFailuresPerAddressAndAccount, (req) => (accountOf(req) ? `${address(req)}|${accountOf(req)}` : null), false),
  );
  router.post(
    "/orders",
    limiter("orders-address", limits.ordersPerAddress, address, true),
    limiter("orders-buyer", limits.ordersPerBuyer, buyer, true),
  );
  return router;
}
