// Login throttling. Failed logins are counted in Redis (shared by every admin replica; the key
// prefix is the deployment's REDIS_PREFIX) per IP + email (5 per 15 minutes) and per IP (30 per 15
// minutes, against trying many emails). Successful logins are not counted (skipSuccessfulRequests:
// the login handler answers a failure with 401, a success with a redirect).
import type { Request, RequestHandler } from "express";
import { MemoryStore, ipKeyGenerator, rateLimit, type ClientRateLimitInfo, type Options, type Store } from "express-rate-limit";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export const LOGIN_WINDOW_MS = 15 * 60_000;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_IP = 30;
const REDIS_TIMEOUT_MS = 1000;

// INCR and set the window on the first hit, atomically; returns [hits, ms until reset].
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {hits, ttl}`;
const DECREMENT = `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0`;

function bounded<T>(p: Promise<T>): Promise<T> {
  // The shared connection never gives up on a command (maxRetriesPerRequest: null, for BullMQ):
  // a login must fail promptly instead of hanging while Redis is away.
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("rate-limit store: Redis did not answer")), REDIS_TIMEOUT_MS).unref()),
  ]);
}

/** express-rate-limit store on Redis (no extra package: two small Lua scripts). */
export class RedisRateLimitStore implements Store {
  private windowMs = LOGIN_WINDOW_MS;
  constructor(private readonly redis: Redis, readonly prefix: string) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const [hits, ttl] = await bounded(Promise.all([this.redis.get(this.prefix + key), this.redis.pttl(this.prefix + key)]));
    if (hits === null) return undefined;
    return { totalHits: Number(hits), resetTime: new Date(Date.now() + Math.max(ttl, 0)) };
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const [hits, ttl] = (await bounded(this.redis.eval(INCREMENT, 1, this.prefix + key, String(this.windowMs)))) as [number, number];
    return { totalHits: hits, resetTime: new Date(Date.now() + ttl) };
  }

  async decrement(key: string): Promise<void> {
    await bounded(this.redis.eval(DECREMENT, 1, this.prefix + key));
  }

  async resetKey(key: string): Promise<void> {
    await bounded(this.redis.del(this.prefix + key));
  }
}

/**
 * Redis while it answers; this process's memory while it does not. Without it a Redis outage makes
 * every login a 500 (express-rate-limit passes the store's error on), and staff cannot reach the
 * back office exactly when they need it. The fallback still throttles, per process, with the same
 * limits; counts start again from zero on the switch, in either direction.
 */
export class RedisOrMemoryStore implements Store {
  private readonly memory = new MemoryStore();
  private degradedSince = 0;

  constructor(private readonly redis: Redis, private readonly primary: Store, private readonly logger?: Logger) {}

  init(options: Options): void {
    this.primary.init?.(options);
    this.memory.init(options);
  }

  private async use<T>(op: (store: Store) => Promise<T>): Promise<T> {
    // Not even tried while disconnected: the shared connection queues commands until it is back.
    if (this.redis.status === "ready") {
      try {
        const result = await op(this.primary);
        if (this.degradedSince) {
          this.logger?.info("admin login throttle: back on Redis");
          this.degradedSince = 0;
        }
        return result;
      } catch (e) {
        this.degrade(e);
      }
    } else {
      this.degrade(new Error(`Redis connection ${this.redis.status}`));
    }
    return op(this.memory);
  }

  private degrade(e: unknown): void {
    if (this.degradedSince) return;
    this.degradedSince = Date.now();
    this.logger?.warn({ err: (e as Error).message }, "admin login throttle: Redis unavailable, counting in process memory");
  }

  get(key: string) {
    return this.use((s) => Promise.resolve(s.get?.(key)));
  }
  increment(key: string) {
    return this.use((s) => Promise.resolve(s.increment(key)));
  }
  decrement(key: string) {
    return this.use((s) => Promise.resolve(s.decrement(key)));
  }
  resetKey(key: string) {
    return this.use((s) => Promise.resolve(s.resetKey(key)));
  }
  shutdown() {
    this.memory.shutdown();
  }
}

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
      store: new RedisOrMemoryStore(redis, new RedisRateLimitStore(redis, `${redisPrefix}:admin:login:${name}:`), logger),
      keyGenerator: key,
      handler: (req, res, next) => onLimited(req, res, next),
    });
  const ip = (req: Request) => ipKeyGenerator(req.ip ?? "unknown");
  return [
    make("ip-email", MAX_FAILURES_PER_EMAIL, (req) => `${ip(req)}|${loginEmail(req)}`),
    make("ip", MAX_FAILURES_PER_IP, ip),
  ];
}
