// A database of the test file's own, beside the run's (same server, migrated the same way), for tests
// that count rows in shared tables: the run's other test files write to the run's database at the
// same time. Dropped by drop(); left behind only if the process dies, with the run's private server.
import { dropDatabase, ensureDatabaseExists } from "../../../scripts/local-services.ts";
import { migrateDeploy } from "../../../scripts/prisma-cli.ts";

export async function privateDatabase(tag: string): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error("DATABASE_URL is not set: run tests through scripts/test.ts");
  const url = new URL(base);
  const name = `${decodeURIComponent(url.pathname.slice(1))}_${tag}`.slice(0, 63);
  url.pathname = `/${name}`;
  await ensureDatabaseExists(url.toString());
  await migrateDeploy({ ...process.env, DATABASE_URL: url.toString() });
  return {
    url: url.toString(),
    drop: () => dropDatabase(url.toString()),
  };
}
