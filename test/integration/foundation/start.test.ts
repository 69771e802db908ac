// `npm start` (scripts/start.ts) brings every role up ready, and Ctrl-C stops them all. It runs what
// `npm start` runs: the launcher and the roles as built by scripts/build.mjs (bundled with their
// packages), so the build's output is what is tested here, not only the TypeScript.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "../../../scripts/local-services.ts";
import { ROLE_START_CEILING_MS } from "../../support/index.ts";
import { AdminClient } from "../admin/support.ts";

const root = path.resolve(import.meta.dirname, "../../..");

async function withAdminDb<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = "/postgres";
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

test("npm start: migrations, seed, all four roles ready, clean stop on SIGINT", { timeout: ROLE_START_CEILING_MS + 60_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "coursepay-start-"));
  const dbName = `${new URL(process.env.DATABASE_URL!).pathname.slice(1)}_start`;
  const dbUrl = new URL(process.env.DATABASE_URL!);
  dbUrl.pathname = `/${dbName}`;
  const ports = { api: await freePort(), admin: await freePort(), worker: await freePort(), sandbox: await freePort() };
  // As `npm start`'s prestart: rebuild .build/ if a source is newer than its output.
  const build = spawnSync(process.execPath, ["scripts/build.mjs", "--if-stale", "--quiet"], { cwd: root, encoding: "utf8" });
  assert.equal(build.status, 0, `build: ${build.stdout}${build.stderr}`);
  const child = spawn(process.execPath, [".build/scripts/start.js"], {
    cwd: root,
    env: {
      ...process.env, NODE_ENV: "development", LOG_LEVEL: "warn", COURSEPAY_DATA_DIR: dataDir, DATABASE_URL: dbUrl.toString(),
      API_PORT: String(ports.api), ADMIN_PORT: String(ports.admin), WORKER_PORT: String(ports.worker), SANDBOX_PORT: String(ports.sandbox),
      // the launcher must take these from its own .data, not from the test environment
      ALIPAY_APP_PRIVATE_KEY_FILE: "", ALIPAY_PUBLIC_KEY_FILE: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (b) => (out += b));
  child.stderr!.on("data", (b) => (out += b));
  t.after(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await withAdminDb((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
    rmSync(dataDir, { recursive: true, force: true });
  });

  // Readiness is awaited; the ceiling only catches a launcher that hangs (the loop fails at once if it exits).
  const deadline = Date.now() + ROLE_START_CEILING_MS;
  while (!out.includes("coursepay is up") && Date.now() < deadline) {
    assert.equal(child.exitCode, null, `start exited early:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(out, /coursepay is up/, out);
  await new Promise((r) => setTimeout(r, 200)); // the rest of the final block
  // The accounts are in the final block, after "coursepay is up", where no role's log line follows them.
  const finalBlock = out.slice(out.indexOf("coursepay is up"));
  assert.match(finalBlock, /staff admin created: admin@coursepay\.local \/ \S{20,}/, out);
  assert.match(finalBlock, /demo buyer created: buyer@coursepay\.local \/ \S{20,}/, out);
  // Every role's whole log is kept in the data directory.
  for (const role of ["api", "worker", "admin", "sandbox"]) assert.ok(existsSync(path.join(dataDir, "logs", `${role}.log`)), `${role}.log`);

  for (const [role, port] of [["api", ports.api], ["worker", ports.worker], ["admin", ports.admin]] as const) {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(r.status, 200, role);
    assert.equal((await r.json()).role, role);
  }
  assert.equal((await fetch(`http://127.0.0.1:${ports.sandbox}/healthz`)).status, 200);
  const courses = await withAdminDb(async () => {
    const c = new pg.Client({ connectionString: dbUrl.toString() });
    await c.connect();
    const r = await c.query("SELECT count(*)::int AS n FROM course");
    await c.end();
    return r.rows[0].n as number;
  });
  assert.ok(courses >= 3, "demo courses seeded");

  // The bundled roles serve what they read from files beside their sources and packages: the shop's
  // assets and the API viewer (swagger-ui-dist), the admin's pages, AdminJS's assets and the stored
  // components bundle with the run-time DISPLAY_TIME_ZONE appended; and a staff login works end to end.
  const api = `http://127.0.0.1:${ports.api}`;
  assert.equal((await fetch(`${api}/`)).status, 200);
  assert.equal((await fetch(`${api}/api/docs/swagger-ui-bundle.js`)).status, 200);
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  const staffPassword = /staff admin created: admin@coursepay\.local \/ (\S+)/.exec(finalBlock)![1]!;
  const admin = await new AdminClient(adminUrl, { origin: adminUrl }).loginOk({ email: "admin@coursepay.local", password: staffPassword });
  const dashboard = await admin.request("/admin");
  assert.equal(dashboard.status, 200);
  assert.match(await dashboard.text(), /components\.bundle\.js/);
  const components = await admin.request("/admin/frontend/assets/components.bundle.js");
  assert.equal(components.status, 200);
  assert.match(await components.text(), /AdminJS\.UserComponents\.\w+ ?= ?[\s\S]*\nAdminJS\.env\.DISPLAY_TIME_ZONE = "/);
  assert.equal((await admin.request("/admin/frontend/assets/app.bundle.js")).status, 200);
  const list = await admin.json<{ records: unknown[] }>("/admin/api/resources/Order/actions/list");
  assert.equal(list.status, 200);
  assert.ok(Array.isArray(list.body.records));

  child.kill("SIGINT");
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  assert.equal(code, 0, out.slice(-2000));
  for (const port of Object.values(ports)) {
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) }), `port ${port} closed`);
  }
});
