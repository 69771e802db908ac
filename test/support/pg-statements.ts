// PostgreSQL's pg_stat_statements for benchmarks, when the server preloads it
// (shared_preload_libraries=pg_stat_statements): the statements of one database, most expensive first.
import type { PrismaClient } from "@prisma/client";

export interface StatementStats {
  /** Clear the counters of this database; false when the server does not have the extension loaded. */
  reset(): Promise<boolean>;
  /** The top statements since reset(), with calls and execution milliseconds per unit of work. */
  top(units: number, limit?: number): Promise<{ query: string; callsPerUnit: number; msPerUnit: number; rowsPerCall: number }[] | null>;
}

export function statementStats(prisma: PrismaClient): StatementStats {
  let enabled = false;
  return {
    async reset() {
      try {
        await prisma.$executeRawUnsafe("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        await prisma.$executeRawUnsafe("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)");
        enabled = true;
      } catch {
        enabled = false;
      }
      return enabled;
    },
    async top(units, limit = 12) {
      if (!enabled) return null;
      const rows = await prisma.$queryRawUnsafe<{ query: string; calls: bigint; ms: number; rows: bigint }[]>(
        `SELECT query, calls, total_exec_time AS ms, rows FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
         ORDER BY total_exec_time DESC LIMIT ${Number(limit)}`,
      );
      const r3 = (n: number) => Math.round(n * 1000) / 1000;
      return rows.map((r) => ({
        query: r.query.replace(/\s+/g, " ").slice(0, 160),
        callsPerUnit: r3(Number(r.calls) / units),
        msPerUnit: r3(r.ms / units),
        rowsPerCall: r3(Number(r.rows) / Math.max(1, Number(r.calls))),
      }));
    },
  };
}
