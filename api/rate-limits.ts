// Throttles on the buyer API's abusable writes (express-rate-limit):
//   POST /auth/login — failed attempts per (client address, account) (password guessing against one
//     buyer) and per client address (one address trying many accounts). Successful logins are not
//     counted. Not per account alone: then anyone who knows a buyer's email could lock the buyer
//     out of password login by failing on purpose (issue 10); keyed with the address, a stranger
//     elsewhere only uses up their own attempts.
//   POST /auth/register — attempts per client address (REGISTER_LIMIT_PER_ADDRESS): each account is
//     a row and a scrypt hash, and the endpoint answers whether an email is taken.
//   POST /orders     — orders per buyer and per client address (each order costs a database write
//     and, later, payment checks against Alipay's rate-limited query API).
// The counters live in Redis (core/http/rate-limit.ts), shared by every api replica, so a client
// gets the limit once however many replicas the load balancer spreads it over; while Redis is away
// each process counts in its own memory. The callbacks' limits are in routes/alipay.ts.
// Mounted after the JSON body parser (the login limiter keys on the email) and before the routes.
import { Router, type Request, type RequestHandler } from "express";
import { ipKeyGenerator, rateLimit, type Store } from "express-rate-limit";
import { verifyToken } from "./auth.ts";

export interface Limit {
  windowMs: number;
  limit: number;
}

/** A store per limiter name (core/http/rate-limit.ts rateLimitStore); none: this process's memory. */
export type LimitStores = (name: string) => Store;

export const BUYER_LIMITS = {
  loginFailuresPerAddressAndAccount: { windowMs: 15 * 60_000, limit: 10 },
  loginFailuresPerAddress: { windowMs: 15 * 60_000, limit: 50 },
  ordersPerBuyer: { windowMs: 10 * 60_000, limit: 30 },
  ordersPerAddress: { windowMs: 10 * 60_000, limit: 300 },
} satisfies Record<string, Limit>;

export type BuyerLimits = typeof BUYER_LIMITS & { registerPerAddress?: Limit };

export const clientAddress = (req: Request) => ipKeyGenerator(req.ip ?? "unknown");
const address = clientAddress;

function accountOf(req: Request): string {
  const email = (req.body as Record<string, unknown> | undefined)?.email;
  return typeof email === "string" ? email.trim().toLowerCase().slice(0, 254) : "";
}

/** The api's 429: JSON with the request id (the callbacks answer in their own formats). */
export function tooManyRequests(req: Request, res: import("express").Response): void {
  res.status(429).json({ error: "too many requests; try again later", requestId: (req as { requestId?: string }).requestId });
}

function limiter(name: string, l: Limit, key: (req: Request) => string | null, countSuccesses: boolean, stores?: LimitStores): RequestHandler {
  return rateLimit({
    store: stores?.(`api-${name}`),
    windowMs: l.windowMs,
    limit: l.limit,
    skipSuccessfulRequests: !countSuccesses,
    // No key (no email, no valid token): this limiter does not apply; the address limiter still does.
    skip: (req) => key(req) === null,
    keyGenerator: (req) => `${name}:${key(req)}`,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    handler: (req, res) => tooManyRequests(req, res),
  });
}

export function buyerRateLimits(opts: { tokenSecret: string; limits?: Partial<BuyerLimits>; stores?: LimitStores }): Router {
  const limits = { ...BUYER_LIMITS, ...opts.limits };
  const buyer = (req: Request) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const id = m ? verifyToken(opts.tokenSecret, m[1]!) : null;
    return id === null ? null : String(id);
  };
  const stores = opts.stores;
  const router = Router();
  if (limits.registerPerAddress) router.post("/auth/register", limiter("register-address", limits.registerPerAddress, address, true, stores));
  router.post(
    "/auth/login",
    limiter("login-address", limits.loginFailuresPerAddress, address, false, stores),
    limiter("login-address-account", limits.loginFailuresPerAddressAndAccount, (req) => (accountOf(req) ? `${address(req)}|${accountOf(req)}` : null), false, stores),
  );
  router.post(
    "/orders",
    limiter("orders-address", limits.ordersPerAddress, address, true, stores),
    limiter("orders-buyer", limits.ordersPerBuyer, buyer, true, stores),
  );
  return router;
}
