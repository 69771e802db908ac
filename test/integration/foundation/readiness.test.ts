// /readyz follows Redis going away and coming back, without restarting the role; a bad setting
// stops each role at once with a message naming the variable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, startPrivateRedis } from "../../../scripts/local-services.ts";
import { ROLE_START_CEILING_MS } from "../../support/index.ts";

const root = path.resolve(import.meta.dirname, "../../..");
const keys = path.join(root, "test/fixtures/keys");
const quiet = () => {};

function startRole(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", entry], { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

async function readyz(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: await r.json() };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000, alive?: ChildProcess): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (alive && alive.exitCode !== null) throw new Error(`the process exited (${alive.exitCode}) while waiting for ${what}`);
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (${last})`);
}

test("api /readyz turns 503 naming redis while Redis is down, and recovers without a restart", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "coursepay-ready-"));
  let redis = await startPrivateRedis(dir, quiet);
  const port = await freePort();
  const api = startRole("api/main.ts", {
    REDIS_URL: redis.url, API_PORT: String(port), LOG_LEVEL: "silent",
    ALIPAY_APP_PRIVATE_KEY_FILE: path.join(keys, "app_private_key.pem"),
    ALIPAY_PUBLIC_KEY_FILE: path.join(keys, "alipay_public_key.pem"),
  });
  t.after(async () => {
    api.kill("SIGKILL");
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  // The role's start is awaited (on a loaded machine it can take long); the ceiling only catches a hang.
  const up = await until("api ready", async () => ((await readyz(url)).status === 200 ? true : undefined), ROLE_START_CEILING_MS, api);
  assert.equal(up, true);

  await redis.stop();
  const down = await until("503", async () => {
    const r = await readyz(url);
    return r.status === 503 ? r : undefined;
  });
  assert.match(down.body.status, /redis/);
  assert.doesNotMatch(down.body.status, /database/);
  assert.equal(down.body.checks.database, "up");

  redis = await startPrivateRedis(dir, quiet, redis.port);
  const back = await until("200 again", async () => {
    const r = await readyz(url);
    return r.status === 200 ? r : undefined;
  });
  assert.equal(back.body.status, "ready");
  assert.equal(api.exitCode, null, "the api process was not restarted");
});

for (const role of ["api", "worker", "admin"]) {
  test(`${role} with DATABASE_URL=nonsense exits 1 naming DATABASE_URL`, async () => {
    const child = startRole(`${role}/main.ts`, { DATABASE_URL: "nonsense" });
    let stderr = "";
    child.stderr!.on("data", (b) => (stderr += b));
    const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    assert.equal(code, 1);
    assert.match(stderr, /DATABASE_URL: expected a PostgreSQL URL/);
    assert.doesNotMatch(stderr, /at .*\.ts:\d+/, "no stack trace");
  });
}
