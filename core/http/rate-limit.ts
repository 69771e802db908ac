// The one store behind every express-rate-limit limiter (api and admin): counters in Redis, shared by
// every replica of a role (rate-limit-redis), under the deployment's REDIS_PREFIX; this process's
// memory while Redis does not answer.
import { MemoryStore, type ClientRateLimitInfo, type Options, type Store } from "express-rate-limit";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { RedisStore, type RedisReply } from "rate-limit-redis";

const REDIS_TIMEOUT_MS = 1000;

function bounded<T>(p: Promise<T>): Promise<T> {
  // The shared connection never gives up on a command (maxRetriesPerRequest: null, for BullMQ):
  // a request must fail over to the memory store promptly instead of hanging while Redis is away.
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("rate-limit store: Redis did not answer")), REDIS_TIMEOUT_MS);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Redis while it answers; this process's memory while it does not. Without it a Redis outage makes
 * every limited request a 500 (express-rate-limit passes the store's error on): buyers could not log
 * in, Alipay's notifies would be refused, staff could not reach the back office exactly when they
 * need it. The fallback still throttles, per process, with the same limits; counts start again from
 * zero on the switch, in either direction.
 *
 * rate-limit-redis loads its Lua scripts in init() and keeps the promise: loaded while Redis is away,
 * that promise stays rejected for ever. So the Redis store is (re)initialised on its first use after
 * start and after every failure.
 */
export class RedisOrMemoryStore implements Store {
  private readonly memory = new MemoryStore();
  private options: Options | null = null;
  private primaryReady = false;
  private degradedSince = 0;

  constructor(
    private readonly redis: Redis,
    private readonly primary: Store,
    private readonly what: string,
    private readonly logger?: Logger,
  ) {}

  init(options: Options): void {
    this.options = options;
    this.memory.init(options);
  }

  private async use<T>(op: (store: Store) => Promise<T>): Promise<T> {
    // Not even tried while disconnected: the shared connection queues commands until it is back.
    if (this.redis.status === "ready") {
      try {
        if (!this.primaryReady && this.options) {
          await this.primary.init?.(this.options);
          this.primaryReady = true;
        }
        const result = await op(this.primary);
        if (this.degradedSince) {
          this.logger?.info({ limiter: this.what }, "rate limit: back on Redis");
          this.degradedSince = 0;
        }
        return result;
      } catch (e) {
        this.primaryReady = false;
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
    this.logger?.warn({ limiter: this.what, err: (e as Error).message }, "rate limit: Redis unavailable, counting in process memory");
  }

  get(key: string): Promise<ClientRateLimitInfo | undefined> {
    return this.use((s) => Promise.resolve(s.get?.(key)));
  }
  increment(key: string): Promise<ClientRateLimitInfo> {
    return this.use((s) => Promise.resolve(s.increment(key)));
  }
  decrement(key: string): Promise<void> {
    return this.use((s) => Promise.resolve(s.decrement(key)));
  }
  resetKey(key: string): Promise<void> {
    return this.use((s) => Promise.resolve(s.resetKey(key)));
  }
  shutdown(): void {
    this.memory.shutdown();
  }
}

/**
 * The store of one limiter: keys `<REDIS_PREFIX>:ratelimit:<name>:<client key>` (the prefix keeps
 * deployments, and test runs, apart). Each limiter needs a store of its own (express-rate-limit
 * refuses to share one between limiters).
 */
export function rateLimitStore(deps: { redis: Redis; redisPrefix: string; logger?: Logger }, name: string): Store {
  const redis = new RedisStore({
    sendCommand: (command: string, ...args: string[]) => bounded(deps.redis.call(command, ...args) as Promise<RedisReply>),
    prefix: `${deps.redisPrefix}:ratelimit:${name}:`,
  });
  return new RedisOrMemoryStore(deps.redis, redis, name, deps.logger);
}
