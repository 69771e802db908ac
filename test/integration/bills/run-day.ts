// Child process for worker-crash.test.ts: one reconcileBillDay against the given sandbox, with a
// short lease, so the test can SIGKILL it mid-batch. argv: sandboxUrl alipayPublicKeyFile billDate merchantPrivateKeyFile
import { readFileSync } from "node:fs";
import { createAlipayClient } from "../../../core/alipay/client.ts";
import { reconcileBillDay } from "../../../core/bills/index.ts";
import { LOCAL_MERCHANT } from "../../../core/config/index.ts";
import { createPrisma } from "../../../core/db/index.ts";
import { noMetrics } from "../../../core/metrics/port.ts";
import { SETTINGS } from "./support.ts";

const [sandboxUrl, keyFile, billDate, merchantKeyFile] = process.argv.slice(2) as [string, string, string, string];
const prisma = createPrisma(process.env.DATABASE_URL!);
const alipay = createAlipayClient({
  appId: LOCAL_MERCHANT.appId, appPrivateKey: readFileSync(merchantKeyFile, "utf8"), alipayPublicKey: readFileSync(keyFile, "utf8"), gatewayUrl: `${sandboxUrl}/gateway.do`,
  timeoutMs: 5_000,
});
const r = await reconcileBillDay({ prisma, alipay, settings: { ...SETTINGS, leaseSeconds: 1 }, metrics: noMetrics }, { billDate, trigger: "schedule" });
process.stdout.write(`${JSON.stringify(r)}\n`);
await prisma.$disconnect();
