import { createServer, type RequestListener } from "node:http";
import type { Redis } from "ioredis";
import type { PrismaClient } from "@prisma/client";
import type { Logger } from "pino";
import { loadConfigOrExit, type Config, type LoadOptions } from "../config/index.ts";
import { createPrisma } from "../db/index.ts";
import { createLogger } from "../logging/index.ts";
import { createRedis } from "../redis/index.ts";
import { RoleLifecycle, closeServer, listen } from "./index.ts";

/** What every role process opens at start: validated config, logger, PostgreSQL, Redis, shutdown. */
export interface RoleContext {
  role: string;
  config: Config;
  logger: Logger;
  prisma: PrismaClient;
  redis: Redis;
  lifecycle: RoleLifecycle;
}

export function openRoleContext(role: string, options?: LoadOptions): RoleContext {
  const config = loadConfigOrExit(role, options);
  const logger = createLogger(role, config.logLevel);
  const lifecycle = new RoleLifecycle(role, logger);
  const prisma = createPrisma(config.databaseUrl);
  lifecycle.onShutdown("database", () => prisma.$disconnect());
  const redis = createRedis(config.redisUrl);
  // ioredis reconnects by itself; log the outage once per state change rather than every retry.
  let redisDown = false;
  redis.on("error", (e) => {
    if (!redisDown) logger.warn({ err: e.message }, "redis unreachable; reconnecting");
    redisDown = true;
  });
  redis.on("ready", () => {
    if (redisDown) logger.info("redis reachable again");
    redisDown = false;
  });
  lifecycle.onShutdown("redis", () => redis.quit().catch(() => redis.disconnect()));
  return { role, config, logger, prisma, redis, lifecycle };
}

/** Listen, register the server for graceful close (registered last, so it closes first). */
export async function serveHttp(ctx: RoleContext, handler: RequestListener, port: number): Promise<number> {
  const server = createServer(handler);
  ctx.lifecycle.onShutdown("http", () => closeServer(server));
  const bound = await listen(server, port, ctx.config.host);
  ctx.logger.info({ port: bound }, `${ctx.role} listening on http://${ctx.config.host}:${bound}`);
  return bound;
}
