// The two Prisma CLI steps every launcher needs, in one place.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import pg from "pg";

const root = path.resolve(import.meta.dirname, "..");

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("npx", ["prisma", ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (b) => (output += b));
    child.stderr!.on("data", (b) => (output += b));
    child.on("exit", (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * npm 11 may skip install scripts unless allowed, so the generated client cannot be assumed: generate
 * it when the full data model file or the client (both written by the same `prisma generate`) is
 * missing, or older than prisma/schema.prisma — a checkout that pulled a schema change. A stale data
 * model is not harmless: core/db reads column names from it, and a batch statement built from an old
 * one fails (the worker then writes decision by decision, correct but several times slower).
 */
export async function ensurePrismaClient(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const mtime = (file: string) => statSync(path.join(root, file), { throwIfNoEntry: false })?.mtimeMs ?? -1;
  const schema = mtime("prisma/schema.prisma");
  const outputs = [mtime("core/db/generated/dmmf.json"), mtime("node_modules/.prisma/client/index.js")];
  if (outputs.every((t) => t >= schema)) return;
  const r = await runCli(["generate"], env);
  if (r.code !== 0) throw new Error(`prisma generate failed:\n${r.output}`);
}

export async function migrateDeploy(env: NodeJS.ProcessEnv): Promise<void> {
  const r = await runCli(["migrate", "deploy"], env);
  if (r.code !== 0) throw new Error(`prisma migrate deploy failed:\n${r.output}`);
}

/**
 * Migrations in prisma/migrations not (successfully) applied to this database yet, by folder name,
 * read from Prisma's own _prisma_migrations table. All of them on a new database.
 */
export async function pendingMigrations(databaseUrl: string): Promise<string[]> {
  const folders = readdirSync(path.join(root, "prisma", "migrations"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT migration_name AS name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    ).catch(() => ({ rows: [] as { name: string }[] }));
    const applied = new Set(rows.map((r) => r.name));
    return folders.filter((f) => !applied.has(f));
  } finally {
    await client.end();
  }
}
