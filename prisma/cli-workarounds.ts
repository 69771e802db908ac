// Workarounds that let the Prisma 6 CLI (generate, migrate) run offline on the WASM schema engine
// through @prisma/adapter-pg. Loaded ONLY by prisma.config.ts, i.e. only in the prisma CLI process,
// never by the application. Each block names its upstream problem so it can be deleted when fixed.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { randomUUID } from "node:crypto";

// (1) With DATABASE_URL unset the CLI cannot read engineType="client" from schema.prisma, falls back
//     to the native query engine and tries to download it (fails offline). Any syntactically valid
//     URL is enough for `prisma generate`; migrate uses the real one the launcher exports.
export function ensureDatabaseUrlForCli(): string {
  process.env.DATABASE_URL ??= "postgresql://postgres@127.0.0.1:5432/coursepay";
  return process.env.DATABASE_URL;
}

// (2) prisma/orm#27403: adapter-pg rejects PostgreSQL's internal `name` / "char" types (OID 19/18,
//     and name[] 1003) that the schema engine's introspection queries return. Relabel them as
//     text / text[] before pg parses the rows.
export function relabelInternalPgTypes(): void {
  const RELABEL: Record<number, number> = { 18: 25, 19: 25, 1003: 1009 };
  const proto = (pg as unknown as { Result: { prototype: any } }).Result.prototype;
  if (proto.__coursepayRelabelled) return;
  const addFields = proto.addFields;
  proto.addFields = function (fields: Array<{ dataTypeID: number }>) {
    for (const f of fields) if (RELABEL[f.dataTypeID]) f.dataTypeID = RELABEL[f.dataTypeID];
    return addFields.call(this, fields);
  };
  proto.__coursepayRelabelled = true;
}

// (4) The WASM schema engine arms 60 s / 10 s timers during `migrate dev` that are never cleared, so
//     the CLI lingers ~60 s after printing success. Unref long timers in the CLI process.
export function unrefLongTimers(): void {
  const original = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t = original(fn, ms, ...args);
    if ((ms ?? 0) >= 5_000) (t as unknown as { unref?: () => void }).unref?.();
    return t;
  }) as typeof setTimeout;
}

export function pgConfigFromUrl(url: string): pg.PoolConfig {
  const u = new URL(url);
  return {
    host: decodeURIComponent(u.hostname),
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.slice(1)),
    allowExitOnIdle: true, // (4) an idle pool connection otherwise keeps the CLI alive
  };
}

// (3) adapter-pg 6.19.3 shadow database: (a) with {connectionString} the shadow pool's `database`
//     override is ignored, so the "shadow" is the main database; (b) dispose() drops the shadow
//     database before closing its pool ("is being accessed by other users"). Use discrete
//     connection fields, close first, then DROP ... WITH (FORCE). The DB user needs CREATEDB.
export class PrismaPgForMigrate extends PrismaPg {
  constructor(private readonly poolConfig: pg.PoolConfig) {
    super(poolConfig);
  }
  override async connectToShadowDb() {
    const main = await this.connect();
    const database = `prisma_migrate_shadow_db_${randomUUID()}`;
    await main.executeScript(`CREATE DATABASE "${database}"`);
    const shadow = await new PrismaPg({ ...this.poolConfig, database }).connect();
    const disposeShadow = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await disposeShadow();
      await main.executeScript(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await main.dispose();
    };
    return shadow;
  }
}
