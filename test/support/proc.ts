// Process accounting from Linux /proc, for benchmarks: CPU time and resident memory per process.
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS_PER_S = 100;

/** Which processes a measure counts: by pid and by command line (the title a process gives itself). */
export type ProcessMatch = (pid: number, cmdline: string) => boolean;

/** CPU seconds (user + system) used so far by the processes `match` selects. */
export function cpuSeconds(match: ProcessMatch): number {
  let total = 0;
  for (const seconds of cpuByPid(match).values()) total += seconds;
  return total;
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU seconds used so far by each process `match` selects, by pid. */
function cpuByPid(match: ProcessMatch): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (!match(pid, cmdline)) continue;
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S);
    } catch {
      /* the process exited meanwhile */
    }
  }
  return out;
}

/** PostgreSQL backends serving the database of `databaseUrl` (they title themselves "postgres: … <db> …"), not other databases on the server. */
export function backendsOf(databaseUrl: string): ProcessMatch {
  const db = new URL(databaseUrl).pathname.slice(1);
  return (_, cmd) => cmd.startsWith("postgres:") && cmd.includes(db);
}

/** The part of backendsOf that is autovacuum of that database (its workers title themselves so). */
export function autovacuumOf(databaseUrl: string): ProcessMatch {
  const backends = backendsOf(databaseUrl);
  return (pid, cmd) => backends(pid, cmd) && cmd.includes("autovacuum worker");
}

/** The Redis server of `redisUrl` (redis-server titles itself "redis-server host:port"); other users of that server count too. */
export function redisServerOf(redisUrl: string): ProcessMatch {
  const port = new URL(redisUrl).port || "6379";
  return (_, cmd) => cmd.includes("redis-server") && cmd.includes(`:${port}`);
}

/**
 * CPU milliseconds per unit of work for named components, from now until perUnitMs(). Each
 * component's processes are sampled every `sampleMs`, and each process counts with the last CPU
 * time it was seen with: a process that exits during the run (a database connection the pool
 * closes when idle) keeps what it used up to its last sample instead of vanishing from the sum —
 * before/after snapshots alone lost it, which made the PostgreSQL figures swing run to run.
 */
export function cpuMeter(components: Record<string, ProcessMatch>, options: { sampleMs?: number } = {}) {
  const names = Object.keys(components);
  const start = new Map(names.map((k) => [k, cpuByPid(components[k]!)]));
  const last = new Map(names.map((k) => [k, new Map(start.get(k)!)]));
  const sample = () => {
    for (const k of names) for (const [pid, cpu] of cpuByPid(components[k]!)) last.get(k)!.set(pid, cpu);
  };
  const timer = setInterval(sample, options.sampleMs ?? 250);
  timer.unref();
  return {
    /** How many processes a component had in the run, and how many of them started during it. */
    processes(name: string): { seen: number; started: number } {
      const seen = last.get(name) ?? new Map();
      return { seen: seen.size, started: [...seen.keys()].filter((pid) => !start.get(name)!.has(pid)).length };
    },
    perUnitMs(units: number): Record<string, number> {
      clearInterval(timer);
      sample();
      return Object.fromEntries(
        names.map((k) => {
          let used = 0;
          for (const [pid, cpu] of last.get(k)!) used += cpu - (start.get(k)!.get(pid) ?? 0);
          return [k, Math.round((used * 10_000) / units) / 10];
        }),
      );
    },
  };
}
