// The database as the shared store of downloaded Alipay certificates (certs.ts AlipayCertStore).
import type { PrismaClient } from "@prisma/client";
import type { AlipayCertStore } from "./certs.ts";

export function prismaCertStore(prisma: PrismaClient): AlipayCertStore {
  return {
    async get(sn) {
      const row = await prisma.alipayCert.findUnique({ where: { sn } });
      return row?.certPem ?? null;
    },
    async put({ sn, pem, notAfter }) {
      // Replicas may download the same certificate at once: the first write wins, the rest are no-ops.
      await prisma.alipayCert.upsert({ where: { sn }, create: { sn, certPem: pem, notAfter }, update: {} });
    },
  };
}
