import { defineConfig } from "prisma/config";
import {
  PrismaPgForMigrate, ensureDatabaseUrlForCli, pgConfigFromUrl, relabelInternalPgTypes, unrefLongTimers,
} from "./prisma/cli-workarounds.ts";

// The Prisma CLI runs on the WASM schema engine through the pg driver adapter, so nothing native is
// downloaded. Why each workaround exists: prisma/cli-workarounds.ts.
const databaseUrl = ensureDatabaseUrlForCli();
relabelInternalPgTypes();
unrefLongTimers();

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations", seed: "tsx prisma/seed.ts" },
  adapter: async () => new PrismaPgForMigrate(pgConfigFromUrl(databaseUrl)),
});
