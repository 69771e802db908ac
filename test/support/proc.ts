// Process accounting from Linux /proc, for benchmarks: CPU time and resident memory per process.
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS_PER_S = 100;

/** CPU seconds (user + system) used so far by the processes `match` selects. */
export function cpuSeconds(match: (pid: number, cmdline: string) => boolean): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (!match(pid, cmdline)) continue;
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
    } catch {
      /* the process exited meanwhile */
    }
  }
  return total;
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** CPU milliseconds per unit of work for named components, between start() and stop(). */
export function cpuMeter(components: Record<string, (pid: number, cmdline: string) => boolean>) {
  const before = Object.fromEntries(Object.entries(components).map(([k, f]) => [k, cpuSeconds(f)]));
  return {
    perUnitMs(units: number): Record<string, number> {
      return Object.fromEntries(
        Object.entries(components).map(([k, f]) => [k, Math.round(((cpuSeconds(f) - before[k]!) * 10_000) / units) / 10]),
      );
    },
  };
}
