// Role processes for tests that need real processes (SIGKILL, several replicas): spawned with the
// stack's environment, output kept for failure messages.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

/**
 * How long a test waits for a role to become ready before calling it hung. Readiness is awaited
 * (and a role that exits fails at once), so this is only a ceiling: generous, because on a loaded
 * 2-core machine a role has taken more than 30 s to start.
 */
export const ROLE_START_CEILING_MS = 300_000;

export interface RoleProcess {
  child: ChildProcess;
  pid: number;
  /** Last lines of stdout/stderr, for assertion messages. */
  output(): string;
  /** Resolves when the process logged `line` (substring); rejects if it exits first (default ceiling ROLE_START_CEILING_MS). */
  waitForOutput(line: string, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** `nodeArgs`: extra Node options, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/p"] (not allowed in NODE_OPTIONS). */
export function spawnRole(role: "worker" | "api" | "admin", env: NodeJS.ProcessEnv, extraEnv: Record<string, string> = {}, nodeArgs: string[] = []): RoleProcess {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", path.join(root, `${role}/main.ts`)], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: "info", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let buffer = "";
  const listeners = new Set<() => void>();
  const onData = (b: Buffer) => {
    buffer = (buffer + b.toString()).slice(-20_000);
    for (const l of listeners) l();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    pid: child.pid!,
    output: () => buffer,
    waitForOutput(line, timeoutMs = ROLE_START_CEILING_MS) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (buffer.includes(line)) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => { cleanup(); reject(new Error(`${role} ${child.pid} did not log "${line}" within ${timeoutMs} ms:\n${buffer.slice(-3000)}`)); }, timeoutMs);
        const onExit = () => { cleanup(); reject(new Error(`${role} ${child.pid} exited before logging "${line}":\n${buffer.slice(-3000)}`)); };
        const cleanup = () => { clearTimeout(timer); listeners.delete(check); child.off("exit", onExit); };
        listeners.add(check);
        child.once("exit", onExit);
        check();
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
