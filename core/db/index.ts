import { PrismaClient, Prisma } from "@prisma/client";
import { PrismaPg } from "@prisma/adapter-pg";
import { readFileSync } from "node:fs";
import pg from "pg";

export { Prisma, PrismaClient };
export type { Order, OrderStatus, OrderEvent, PaymentNotification, Course, User, StaffUser, StaffRole } from "@prisma/client";

// The Rust-free client (engineType = "client") talks to PostgreSQL through the pg driver adapter:
// no native query engine to download (see ../../docs/operations.md).
/** Largest value of a PostgreSQL `integer` (int4): every id and amount column. A larger number
 *  from a client can match no row, and sending it to PostgreSQL is an error (22003), not "none". */
export const INT4_MAX = 2_147_483_647;

export function createPrisma(databaseUrl: string, options: { poolSize?: number } = {}): PrismaClient {
  // Sessions in UTC: adapter-pg sends Date parameters without an offset and relabels timestamptz
  // results as UTC, which is right only when the session's TimeZone is UTC
  // (https://github.com/prisma/orm/issues/26786). The columns are timestamptz, so this is the only
  // time-zone setting the application needs.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 10, allowExitOnIdle: true, options: "-c TimeZone=UTC" });
  // disposeExternalPool: $disconnect() still ends the pool, as when the adapter owned it.
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const prisma = new PrismaClient({ adapter });
  pools.set(prisma, pool);
  return prisma;
}

const pools = new WeakMap<PrismaClient, pg.Pool>();

/**
 * The pg pool beneath a client made by createPrisma, for the few hot paths that issue plain SQL
 * (core/orders/store.ts): Prisma's per-query and interactive-transaction overhead is several times
 * the database's own cost there. Same connections, same limits; no second pool.
 */
export function sqlPoolOf(prisma: PrismaClient): pg.Pool {
  const pool = pools.get(prisma);
  if (!pool) throw new Error("sqlPoolOf: this PrismaClient was not made by createPrisma()");
  return pool;
}

let fullDmmf: unknown;
/**
 * The full data model written by prisma/dmmf-generator.cjs at `prisma generate`. The Rust-free
 * client only ships a trimmed one (no ids, relations or enums), which AdminJS cannot use.
 */
export function loadFullDmmf(): { datamodel: Prisma.DMMF.Datamodel } {
  fullDmmf ??= JSON.parse(readFileSync(new URL("./generated/dmmf.json", import.meta.url), "utf8"));
  return fullDmmf as { datamodel: Prisma.DMMF.Datamodel };
}
