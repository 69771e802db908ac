// PostgreSQL's pg_stat_statements for benchmarks, when the server preloads it
// (shared_preload_libraries=pg_stat_statements; with pg_stat_statements.track_planning=on the
// planning time is counted too): the statements of one database, most expensive first, and what the
// database did besides statements (sessions started, commits) from pg_stat_database.
import type { PrismaClient } from "@prisma/client";

export interface StatementRow {
  query: string;
  callsPerUnit: number;
  /** execution ms per unit of work */
  msPerUnit: number;
  /** planning ms per unit of work (0 unless the server has pg_stat_statements.track_planning on) */
  planMsPerUnit: number;
  rowsPerCall: number;
  walBytesPerUnit: number;
  /** times planned per call (below 1: a prepared statement's generic plan reused) */
  plansPerCall: number;
}

/** Sums over every statement of the database, and the database's own counters, per unit of work. */
export interface StatementTotals {
  callsPerUnit: number;
  execMsPerUnit: number;
  planMsPerUnit: number;
  walBytesPerUnit: number;
  /** connections opened (backend start-ups), per unit */
  sessionsPerUnit: number;
  sessions: number;
  commitsPerUnit: number;
  rollbacksPerUnit: number;
  /** times pg_stat_statements evicted entries (server-wide) since reset(): then the sums above are too low */
  evictions: number;
}

export interface StatementStats {
  /** Clear the counters of this database; false when the server does not have the extension loaded. */
  reset(): Promise<boolean>;
  /** The top statements since reset(), with calls and execution milliseconds per unit of work. */
  top(units: number, limit?: number): Promise<StatementRow[] | null>;
  /** All statements together since reset(), and the database's sessions and commits. */
  totals(units: number): Promise<StatementTotals | null>;
  /**
   * Statements summed by group since reset(): `groups` maps a group name to a regular expression its
   * statements' text starts with (first match wins; the rest is "other"). Statements whose text
   * varies (one entry per shape) are counted together this way.
   */
  byGroup(units: number, groups: Record<string, string>): Promise<Record<string, Omit<StatementRow, "query"> & { shapes: number }> | null>;
}

type DbCounters = { sessions: number; commits: number; rollbacks: number; dealloc: number };

export function statementStats(prisma: PrismaClient): StatementStats {
  let enabled = false;
  let before: DbCounters | null = null;
  // The statements of this database, but not this module's own reads of pg_stat_statements (which
  // read every entry's text and are no part of the work measured).
  const dbFilter = `dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%'`;
  const counters = async (): Promise<DbCounters> => {
    // pg_stat_database is updated when a backend reports (at most every 500 ms and at exit): read
    // in a fresh snapshot.
    await prisma.$executeRawUnsafe("SELECT pg_stat_clear_snapshot()");
    const [r] = await prisma.$queryRawUnsafe<{ sessions: bigint; commits: bigint; rollbacks: bigint }[]>(
      `SELECT sessions, xact_commit AS commits, xact_rollback AS rollbacks FROM pg_stat_database WHERE datname = current_database()`,
    );
    const [i] = await prisma.$queryRawUnsafe<{ dealloc: bigint }[]>(`SELECT dealloc FROM pg_stat_statements_info`).catch(() => [{ dealloc: 0n }]);
    return { sessions: Number(r!.sessions), commits: Number(r!.commits), rollbacks: Number(r!.rollbacks), dealloc: Number(i?.dealloc ?? 0) };
  };
  const r3 = (n: number) => Math.round(n * 1000) / 1000;
  return {
    async reset() {
      try {
        await prisma.$executeRawUnsafe("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        await prisma.$executeRawUnsafe(`SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)`);
        enabled = true;
      } catch {
        enabled = false;
      }
      before = await counters().catch(() => null);
      return enabled;
    },
    async top(units, limit = 12) {
      if (!enabled) return null;
      const rows = await prisma.$queryRawUnsafe<{ query: string; calls: bigint; plans: bigint; ms: number; plan_ms: number; rows: bigint; wal_bytes: string }[]>(
        `SELECT query, calls, plans, total_exec_time AS ms, total_plan_time AS plan_ms, rows, wal_bytes::text AS wal_bytes FROM pg_stat_statements
         WHERE ${dbFilter} ORDER BY total_exec_time + total_plan_time DESC LIMIT ${Number(limit)}`,
      );
      return rows.map((r) => ({
        query: r.query.replace(/\s+/g, " ").slice(0, 160),
        callsPerUnit: r3(Number(r.calls) / units),
        msPerUnit: r3(r.ms / units),
        planMsPerUnit: r3(r.plan_ms / units),
        rowsPerCall: r3(Number(r.rows) / Math.max(1, Number(r.calls))),
        walBytesPerUnit: Math.round(Number(r.wal_bytes) / units),
        plansPerCall: r3(Number(r.plans) / Math.max(1, Number(r.calls))),
      }));
    },
    async byGroup(units, groups) {
      if (!enabled) return null;
      const rows = await prisma.$queryRawUnsafe<{ query: string; calls: bigint; plans: bigint; ms: number; plan_ms: number; rows: bigint; wal_bytes: string }[]>(
        `SELECT query, calls, plans, total_exec_time AS ms, total_plan_time AS plan_ms, rows, wal_bytes::text AS wal_bytes FROM pg_stat_statements WHERE ${dbFilter}`,
      );
      const patterns = Object.entries(groups).map(([name, re]) => [name, new RegExp(`^\\s*(?:${re})`)] as const);
      const sums = new Map<string, { calls: number; plans: number; ms: number; planMs: number; rows: number; wal: number; shapes: number }>();
      for (const r of rows) {
        const name = patterns.find(([, re]) => re.test(r.query))?.[0] ?? "other";
        const g = sums.get(name) ?? { calls: 0, plans: 0, ms: 0, planMs: 0, rows: 0, wal: 0, shapes: 0 };
        g.calls += Number(r.calls);
        g.plans += Number(r.plans);
        g.ms += r.ms;
        g.planMs += r.plan_ms;
        g.rows += Number(r.rows);
        g.wal += Number(r.wal_bytes);
        g.shapes++;
        sums.set(name, g);
      }
      return Object.fromEntries([...sums].map(([name, g]) => [name, {
        callsPerUnit: r3(g.calls / units), msPerUnit: r3(g.ms / units), planMsPerUnit: r3(g.planMs / units),
        rowsPerCall: r3(g.rows / Math.max(1, g.calls)), walBytesPerUnit: Math.round(g.wal / units),
        plansPerCall: r3(g.plans / Math.max(1, g.calls)), shapes: g.shapes,
      }]));
    },
    async totals(units) {
      if (!enabled) return null;
      const [t] = await prisma.$queryRawUnsafe<{ calls: bigint | null; ms: number | null; plan_ms: number | null; wal_bytes: string | null }[]>(
        `SELECT sum(calls)::bigint AS calls, sum(total_exec_time) AS ms, sum(total_plan_time) AS plan_ms, sum(wal_bytes)::text AS wal_bytes
         FROM pg_stat_statements WHERE ${dbFilter}`,
      );
      const now = await counters().catch(() => null);
      const d = (k: keyof DbCounters) => (now && before ? now[k] - before[k] : NaN);
      return {
        callsPerUnit: r3(Number(t?.calls ?? 0) / units),
        execMsPerUnit: r3((t?.ms ?? 0) / units),
        planMsPerUnit: r3((t?.plan_ms ?? 0) / units),
        walBytesPerUnit: Math.round(Number(t?.wal_bytes ?? 0) / units),
        sessionsPerUnit: r3(d("sessions") / units),
        sessions: d("sessions"),
        commitsPerUnit: r3(d("commits") / units),
        rollbacksPerUnit: r3(d("rollbacks") / units),
        evictions: d("dealloc"),
      };
    },
  };
}
