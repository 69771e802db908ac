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

// Errors that mean "PostgreSQL cannot be reached right now", not "this query is wrong": Prisma's
// connection codes (https://www.prisma.io/docs/orm/reference/error-reference), the pg driver
// adapter's error kinds, PostgreSQL's shutdown / too-many-connections SQLSTATEs, and socket errors.
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const UNAVAILABLE_ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections", "DatabaseDoesNotExist"]);
const UNAVAILABLE_CODES = new Set(["57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08006", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE"]);

/** True when an error says the database is down or unreachable (answer 503 and retry later). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e = err as { code?: unknown; kind?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown }; message?: unknown } | undefined;
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    if (typeof e.code === "string" && (UNAVAILABLE_PRISMA_CODES.has(e.code) || UNAVAILABLE_CODES.has(e.code))) return true;
    if (typeof e.kind === "string" && UNAVAILABLE_ADAPTER_KINDS.has(e.kind)) return true;
    if (typeof e.kind === "string" && e.kind === "postgres" && typeof (e as { code?: unknown }).code === "string" && UNAVAILABLE_CODES.has((e as { code: string }).code)) return true;
    if (typeof e.message === "string" && /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(e.message)) return true;
    e = (e.meta?.driverAdapterError ?? e.cause) as typeof e;
  }
  return false;
}

export function createPrisma(databaseUrl: string, options: { poolSize?: number } = {}): PrismaClient {
  // Sessions in UTC: adapter-pg sends Date parameters without an offset and relabels timestamptz
  // results as UTC, which is right only when the session's TimeZone is UTC
  // (https://github.com/prisma/orm/issues/26786). The columns are timestamptz, so this is the only
  // time-zone setting the application needs.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 10, allowExitOnIdle: true, options: "-c TimeZone=UTC" });
  // An idle connection that PostgreSQL (or the network) drops is reported as the pool's 'error'
  // event, and an unheard 'error' event kills the process (https://node-postgres.com/apis/pool#error).
  // The pool has already discarded that connection and the next query opens a new one; a query that
  // fails gets its own error. Prisma's adapter listens only once Prisma itself has connected, while
  // the plain-SQL hot paths (sqlPoolOf) may use the pool first: listen from the start.
  pool.on("error", () => {});
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
