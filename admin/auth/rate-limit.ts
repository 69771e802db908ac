// Login throttling. Failed logins are counted in Redis (shared by every admin replica; the key
// prefix is the deployment's REDIS_PREFIX; core/http/rate-limit.ts) per IP + email (5 per 15 minutes) and per IP (30 per 15
// minutes, against trying many emails). Successful logins are not counted (skipSuccessfulRequests:
// the login handler answers a failure with 401, a success with a redirect).
import type { Request, RequestHandler } from "express";
import { ipKeyGenerator, rateLimit } from "express-rate-limit";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { rateLimitStore } from "../../core/http/rate-limit.ts";

export const LOGIN_WINDOW_MS = 15 * 60_000;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_IP = 30;

export function loginEmail(req: Request): string {
  const raw = (req.body as Record<string, unknown> | undefined)?.email;
  return typeof raw === "string" ? raw.trim().toLowerCase().slice(0, 320) : "";
}

/** The two login limiters, in the order they run. `onLimited` renders the refusal (429). */
export function loginLimiters(redis: Redis, redisPrefix: string, onLimited: RequestHandler, logger?: Logger): RequestHandler[] {
  const make = (name: string, limit: number, key: (req: Request) => string) =>
    rateLimit({
      windowMs: LOGIN_WINDOW_MS,
      limit,
      skipSuccessfulRequests: true,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      // Redis (rate-limit-redis), process memory while Redis is away (core/http/rate-limit.ts).
      store: rateLimitStore({ redis, redisPrefix, logger }, `admin-login-${name}`),
      keyGenerator: key,
      handler: (req, res, next) => onLimited(req, res, next),
    });
  const ip = (req: Request) => ipKeyGenerator(req.ip ?? "unknown");
  return [
    make("ip-email", MAX_FAILURES_PER_EMAIL, (req) => `${ip(req)}|${loginEmail(req)}`),
    make("ip", MAX_FAILURES_PER_IP, ip),
  ];
}
