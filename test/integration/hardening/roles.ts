// Role processes for the hardening tests: api / worker / admin as real child processes (their own
// prom-client registry, their own logs, real signals), on a fixed free port so a restarted role comes
// back at the same URL. Unlike spawnRole's 20 kB tail, every byte of output is kept: the log tests
// search all of it.
import { request } from "node:http";
import { freePort } from "../../../scripts/local-services.ts";
import { ROLE_START_CEILING_MS, spawnRole, type RoleProcess } from "../../support/index.ts";

export type RoleName = "api" | "worker" | "admin";

const PORT_VARIABLE: Record<RoleName, string> = { api: "API_PORT", worker: "WORKER_PORT", admin: "ADMIN_PORT" };

export interface RunningRole {
  role: RoleName;
  url: string;
  port: number;
  process: RoleProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines (pino) written so far. */
  logLines(): Record<string, unknown>[];
  /** Send a signal; resolves with the exit code (null when killed by the signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface RoleOptions {
  /** Reuse a port (a restart keeps the URL the load generator uses). */
  port?: number;
  logLevel?: string;
  env?: Record<string, string>;
  /** The api only: make it the notify_url / return_url Alipay calls (API_PUBLIC_URL = this process). */
  publicApi?: boolean;
  startTimeoutMs?: number;
}

/**
 * Starts several roles at once. If any fails to start, the ones that did are killed before the error
 * is thrown: a test whose before() fails never reaches the code that would stop them, and a live child
 * keeps the test file's process (and so the whole run) from ever ending.
 */
export async function startRoles(specs: Array<[RoleName, NodeJS.ProcessEnv, RoleOptions?]>): Promise<RunningRole[]> {
  const settled = await Promise.allSettled(specs.map(([role, env, opts]) => startRole(role, env, opts)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (!failed) return settled.map((r) => (r as PromiseFulfilledResult<RunningRole>).value);
  await Promise.all(settled.map((r) => (r.status === "fulfilled" ? r.value.stop("SIGKILL") : undefined)));
  throw failed.reason;
}

export async function startRole(role: RoleName, env: NodeJS.ProcessEnv, opts: RoleOptions = {}): Promise<RunningRole> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const extra: Record<string, string> = {
    [PORT_VARIABLE[role]]: String(port),
    LOG_LEVEL: opts.logLevel ?? "info",
    ...(opts.publicApi ? { API_PUBLIC_URL: url } : {}),
    ...(role === "admin" ? { ADMIN_PUBLIC_URL: url } : {}),
    ...opts.env,
  };
  const proc = spawnRole(role, env, extra);
  const chunks: string[] = [];
  proc.child.stdout!.on("data", (b: Buffer) => chunks.push(b.toString()));
  proc.child.stderr!.on("data", (b: Buffer) => chunks.push(b.toString()));
  const output = () => chunks.join("");
  try {
    await proc.waitForOutput(`${role} listening on`, opts.startTimeoutMs ?? ROLE_START_CEILING_MS);
  } catch (e) {
    await proc.kill("SIGKILL");
    throw e;
  }
  return {
    role,
    url,
    port,
    process: proc,
    output,
    logLines: () =>
      output()
        .split("\n")
        .flatMap((line) => {
          if (!line.startsWith("{")) return [];
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    stop: (signal = "SIGTERM") => proc.kill(signal),
  };
}

/** GET a role's /metrics and parse the samples: `name{labels}` → value. */
export async function scrapeMetrics(baseUrl: string): Promise<Metrics> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`${baseUrl}/metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Metrics {
  text: string;
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
  samples: Sample[];
  /** Sum of the samples of `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
  has(name: string): boolean;
}

export function parseMetrics(text: string): Metrics {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  const matches = (s: Sample, name: string, labels: Record<string, string>) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    text,
    types,
    samples,
    sum: (name, labels = {}) => samples.filter((s) => matches(s, name, labels)).reduce((a, s) => a + s.value, 0),
    has: (name) => samples.some((s) => s.name === name),
  };
}

/**
 * A request whose body trickles in: the server has accepted it (headers read, handler waiting on the
 * body) long before it can answer. For shutdown tests: SIGTERM while it is in flight.
 */
export function slowRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body: string; chunks?: number; intervalMs?: number },
): { sentHeaders: Promise<void>; response: Promise<{ status: number; body: string }> } {
  let headersSent!: () => void;
  const sentHeaders = new Promise<void>((r) => (headersSent = r));
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const body = Buffer.from(opts.body);
    const req = request(url, {
      method: opts.method ?? "POST",
      headers: { ...opts.headers, "content-length": String(body.length), connection: "close" },
    });
    req.on("response", (res) => {
      const parts: Buffer[] = [];
      res.on("data", (b: Buffer) => parts.push(b));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.flushHeaders();
    const n = opts.chunks ?? 10;
    const size = Math.ceil(body.length / n);
    let i = 0;
    const next = () => {
      if (i === 0) setTimeout(headersSent, 100);
      if (i * size >= body.length) return req.end();
      req.write(body.subarray(i * size, (i + 1) * size));
      i++;
      setTimeout(next, opts.intervalMs ?? 200);
    };
    next();
  });
  return { sentHeaders, response };
}
