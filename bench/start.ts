// Start-up: `npm start` → "coursepay is up", and each role's own start → `/readyz` 200.
//   npm run --silent bench:start -- [--runs 3] [--roles admin,api,worker] [--role-runs 3] [--data-dir DIR] [--cpu-prof DIR]
//
// 1. If the data directory is new, one first start (key pairs, initdb, migrations, seed) is timed
//    and reported apart. Then --runs restarts on the existing directory, each exactly what a person
//    runs: `npm start` in its own process group, timed from spawn to the "coursepay is up" line, then
//    Ctrl-C (SIGINT to the group) and a check that every process it started has exited.
// 2. While the last restart is up, each role in --roles is started --role-runs more times as a
//    process of its own, with the environment `npm start` gave that role (read from /proc) and a free
//    port: spawn → its `/readyz` answers 200. The admin's starts are cold: no `.adminjs` directory
//    (AdminJS's own bundle cache); the components bundle comes from the build (admin/bundle.ts).
//    --cpu-prof writes a V8 CPU profile of each of these processes into DIR.
//
// CPU seconds are read from /proc at the moment of readiness (user + system, every process in the
// tree, reaped children included). On a shared machine wall-clock figures are the machine's load as
// much as the code's, so every run records the 1-minute load average at its start and end.
// Progress goes to stderr; stdout gets one JSON line.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../scripts/local-services.ts";

const root = path.resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    roles: { type: "string", default: "admin,api,worker" },
    "role-runs": { type: "string", default: "3" },
    "data-dir": { type: "string" },
    "cpu-prof": { type: "string" },
  },
});
const RUNS = Number(args.runs);
const ROLE_RUNS = Number(args["role-runs"]);
const ROLES = args.roles ? args.roles.split(",").filter(Boolean) : [];
const PORT_VARIABLE: Record<string, string> = { api: "API_PORT", worker: "WORKER_PORT", admin: "ADMIN_PORT" };
if (!Number.isSafeInteger(RUNS) || RUNS < 1 || !Number.isSafeInteger(ROLE_RUNS) || ROLE_RUNS < 0 || ROLES.some((r) => !PORT_VARIABLE[r])) {
  process.stderr.write("usage: npm run --silent bench:start -- [--runs N ≥ 1] [--roles admin,api,worker] [--role-runs N] [--data-dir DIR] [--cpu-prof DIR]\n");
  process.exit(2);
}
const dataDir = path.resolve(args["data-dir"] ?? path.join(os.tmpdir(), "coursepay-bench-start"));
const CEILING_MS = 600_000; // only catches a hang: readiness is what is awaited
const say = (m: string) => process.stderr.write(`[bench:start] ${m}\n`);
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const load = () => round(os.loadavg()[0]!, 2);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2]! : round((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
};

// ── /proc ───────────────────────────────────────────────────────────────────────────────────────
const TICKS = 100;
interface Proc { pid: number; ppid: number; cmdline: string; cpuS: number }
function processes(): Map<number, Proc> {
  const all = new Map<number, Proc>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime stime cutime cstime: the process itself and its children it has waited for
      const cpuS = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS;
      all.set(pid, { pid, ppid: Number(f[1]), cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim(), cpuS });
    } catch {
      /* exited meanwhile */
    }
  }
  return all;
}
function tree(rootPid: number): Proc[] {
  const all = processes();
  const out: Proc[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    const p = all.get(pid);
    if (!p) continue;
    out.push(p);
    for (const c of all.values()) if (c.ppid === pid) queue.push(c.pid);
  }
  return out;
}
function part(p: Proc): string {
  const role = /\.build\/(api|worker|admin|sandbox)\/main\.js|\/(api|worker|admin|sandbox)\/main\.ts/.exec(p.cmdline);
  if (role) return role[1] ?? role[2]!;
  if (/postgres/.test(p.cmdline)) return "postgres";
  if (/redis-server/.test(p.cmdline)) return "redis";
  return "launcher"; // npm, its shell, scripts/start, and whatever they ran and reaped (build, prisma CLI)
}
/** CPU seconds by part (a child reaped by its parent counts in the parent's part: postgres backends in postgres). */
function cpuByPart(procs: Proc[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of procs) out[part(p)] = round((out[part(p)] ?? 0) + p.cpuS);
  out.total = round(procs.reduce((s, p) => s + p.cpuS, 0));
  return out;
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// ── npm start ───────────────────────────────────────────────────────────────────────────────────
interface Launch { child: ChildProcess; output: () => string; exited: Promise<number | null> }
function launch(): Launch {
  const { DATABASE_URL: _d, REDIS_URL: _r, ...env } = process.env; // the launcher's own services, in the data dir
  const child = spawn("npm", ["start"], { cwd: root, env: { ...env, COURSEPAY_DATA_DIR: dataDir }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  child.stdout!.on("data", (b) => (out += b));
  child.stderr!.on("data", (b) => (out += b));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, failed: () => string | null): Promise<void> {
  const deadline = Date.now() + CEILING_MS;
  while (Date.now() < deadline) {
    const why = failed();
    if (why) throw new Error(`${what}: ${why}`);
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${CEILING_MS} ms`);
}

interface StartRun { kind: "first" | "restart"; wallS: number; reportedS: number | null; phases: Record<string, number>; cpuS: Record<string, number>; loadBefore: number; loadAfter: number }

/** One `npm start` until "coursepay is up"; returns the run and a stop function (Ctrl-C + check). */
async function startOnce(kind: StartRun["kind"]): Promise<{ run: StartRun; procs: Proc[]; stop: () => Promise<void> }> {
  const loadBefore = load();
  const t0 = performance.now();
  const l = launch();
  await until("npm start", () => l.output().includes("coursepay is up"), () => (l.child.exitCode !== null ? `exited ${l.child.exitCode}:\n${l.output().slice(-3000)}` : null));
  const wallS = round((performance.now() - t0) / 1000);
  const procs = tree(l.child.pid!);
  const line = /coursepay is up \(in ([\d.]+) s: ([^)]*)\)/.exec(l.output());
  const phases = Object.fromEntries((line?.[2] ?? "").split(", ").filter(Boolean).map((p) => {
    const [name, s] = p.split(" ");
    return [name!, Number(s)];
  }));
  const run: StartRun = { kind, wallS, reportedS: line ? Number(line[1]) : null, phases, cpuS: cpuByPart(procs), loadBefore, loadAfter: load() };
  say(`${kind}: up in ${wallS} s (launcher: ${run.reportedS} s; ${line?.[2]}), CPU ${JSON.stringify(run.cpuS)}, load ${loadBefore} → ${run.loadAfter}`);
  const stop = async () => {
    process.kill(-l.child.pid!, "SIGINT"); // what Ctrl-C at the terminal does
    const code = await Promise.race([l.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 60_000))]);
    await until("processes of npm start exit", () => procs.every((p) => !alive(p.pid)), () => null).catch(() => {});
    const left = procs.filter((p) => alive(p.pid));
    for (const p of left) process.kill(p.pid, "SIGKILL");
    // npm itself dies of the SIGINT; the launcher under it must have stopped everything and said so.
    const stopped = /\[start\] stopped\n/.test(l.output());
    if (code === "hung" || !stopped || left.length > 0) throw new Error(`npm start stopped with ${code}${stopped ? "" : " without \"[start] stopped\""}; left running: ${left.map((p) => p.cmdline).join(" | ") || "nothing"}\n${l.output().slice(-2000)}`);
  };
  return { run, procs, stop };
}

// ── one role, started alone ────────────────────────────────────────────────────────────────────
interface RoleRun { role: string; wallS: number; cpuS: number; loadBefore: number; loadAfter: number }
async function startRoleOnce(role: string, source: Proc, i: number): Promise<RoleRun> {
  const env = Object.fromEntries(
    readFileSync(`/proc/${source.pid}/environ`, "utf8").split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
  const port = await freePort();
  env[PORT_VARIABLE[role]!] = String(port);
  rmSync(path.join(root, ".adminjs"), { recursive: true, force: true });
  const nodeArgs = args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${args["cpu-prof"]}`, `--cpu-prof-name=${role}-${i}.cpuprofile`] : [];
  const entry = source.cmdline.split(" ").find((a) => /main\.[jt]s$/.test(a))!;
  const loadBefore = load();
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, entry], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b) => (out = (out + b).slice(-5000)));
  child.stderr!.on("data", (b) => (out = (out + b).slice(-5000)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    await until(`${role} /readyz`, async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200;
      } catch {
        return false;
      }
    }, () => (child.exitCode !== null ? `exited ${child.exitCode}:\n${out}` : null));
    const wallS = round((performance.now() - t0) / 1000);
    const cpuS = round(cpuByPart(tree(child.pid!)).total!);
    const r = { role, wallS, cpuS, loadBefore, loadAfter: load() };
    say(`${role} alone: /readyz 200 in ${wallS} s, ${cpuS} CPU-s, load ${loadBefore} → ${r.loadAfter}`);
    return r;
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

// ── run ─────────────────────────────────────────────────────────────────────────────────────────
const machine = { nproc: os.availableParallelism(), node: process.version, loadAvgBefore: load() };
// Compile first (as npm start's prestart would), so no run pays for a build.
await new Promise<void>((resolve, reject) =>
  spawn(process.execPath, ["scripts/build.mjs", "--if-stale", "--quiet"], { cwd: root, stdio: "inherit" }).once("exit", (c) => (c === 0 ? resolve() : reject(new Error(`build exit ${c}`)))),
);
const runs: StartRun[] = [];
const roleRuns: RoleRun[] = [];
if (!existsSync(path.join(dataDir, "postgres", "PG_VERSION"))) {
  say(`first start in ${dataDir}`);
  const first = await startOnce("first");
  runs.push(first.run);
  await first.stop();
}
for (let i = 0; i < RUNS; i++) {
  const s = await startOnce("restart");
  runs.push(s.run);
  try {
    if (i === RUNS - 1) {
      for (const role of ROLES) {
        const source = s.procs.find((p) => part(p) === role && /main\.[jt]s/.test(p.cmdline) && !p.cmdline.startsWith("sh"));
        if (!source) throw new Error(`no ${role} process under npm start`);
        for (let j = 0; j < ROLE_RUNS; j++) roleRuns.push(await startRoleOnce(role, source, j));
      }
    }
  } finally {
    await s.stop();
  }
}

const restarts = runs.filter((r) => r.kind === "restart");
const rolesSummary = Object.fromEntries(ROLES.map((role) => {
  const rs = roleRuns.filter((r) => r.role === role);
  return [role, { medianWallS: median(rs.map((r) => r.wallS)), medianCpuS: median(rs.map((r) => r.cpuS)), runs: rs }];
}));
process.stdout.write(`${JSON.stringify({
  bench: "start",
  dataDir,
  first: runs.find((r) => r.kind === "first") ?? null,
  restarts: {
    medianWallS: median(restarts.map((r) => r.wallS)),
    medianCpuS: median(restarts.map((r) => r.cpuS.total!)),
    runs: restarts,
  },
  roles: rolesSummary,
  machine: { ...machine, loadAvgEnd: load() },
})}\n`);
