import { PrismaClient, Prisma } from "@prisma/client";
import { PrismaPg } from "@prisma/adapter-pg";
import { readFileSync } from "node:fs";

export { Prisma, PrismaClient };
export type { Order, OrderStatus, OrderEvent, PaymentNotification, Course, User, StaffUser, StaffRole } from "@prisma/client";

// The Rust-free client (engineType = "client") talks to PostgreSQL through the pg driver adapter:
// no native query engine to download (see ../../docs/operations.md).
export function createPrisma(databaseUrl: string, options: { poolSize?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}

let fullDmmf: unknown;
/**
 * The full data model written by prisma/dmmf-generator.cjs at `prisma generate`. The Rust-free
 * client only ships a trimmed one (no ids, relations or enums), which AdminJS cannot use.
 */
export function loadFullDmmf(): { datamodel: Prisma.DMMF.Datamodel } {
  fullDmmf ??= JSON.parse(readFileSync(new URL("./generated/dmmf.json", import.meta.url), "utf8"));
  return fullDmmf as { datamodel: Prisma.DMMF.Datamodel };
}
