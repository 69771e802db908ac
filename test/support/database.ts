// A database of the test file's own: a clone of the run's freshly migrated template (scripts/test.ts),
// so what the file counts and lists is only what it created, whatever other files ran before it or
// run beside it. Every e2e file uses it: a browser page shows whole tables (dashboard counts, the
// course catalog, order lists), and a worker's reconciliation sweeps every unpaid order it can see.
import { randomBytes } from "node:crypto";
import { cloneDatabase } from "../../scripts/local-services.ts";

/**
 * Clones the run's template into a new database and points this process's DATABASE_URL at it (every
 * helper — startStack, startAdmin, spawned roles — reads it from there). Await it first thing in the
 * file's `before`, before anything connects (not in a `before` of its own: Node 20 starts a file's
 * top-level `before` hooks together, without waiting for the first). The clone is named after the
 * run's database, so scripts/test.ts drops it with the run's.
 */
export async function useOwnDatabase(name: string): Promise<void> {
  const template = process.env.COURSEPAY_TEST_TEMPLATE_DATABASE_URL;
  const runDatabase = process.env.DATABASE_URL;
  if (!template || !runDatabase) throw new Error("COURSEPAY_TEST_TEMPLATE_DATABASE_URL is not set: run tests through scripts/test.ts (npx tsx scripts/test.ts e2e)");
  const url = new URL(runDatabase);
  const suffix = `${name.replace(/[^a-z0-9]+/gi, "_").toLowerCase()}_${randomBytes(2).toString("hex")}`;
  url.pathname = `/${url.pathname.slice(1, 63 - suffix.length - 1)}_${suffix}`;
  await cloneDatabase(template, url.toString());
  process.env.DATABASE_URL = url.toString();
}
