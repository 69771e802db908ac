// `npm run services`: start (or find) PostgreSQL and Redis, print their URLs, keep them up until Ctrl-C.
import path from "node:path";
import { ensureLocalServices, MissingBinaryError } from "./local-services.ts";

const dataDir = path.resolve(process.env.COURSEPAY_DATA_DIR ?? ".data");
try {
  const s = await ensureLocalServices({ dataDir });
  process.stdout.write(`DATABASE_URL=${s.databaseUrl}\nREDIS_URL=${s.redisUrl}\n`);
  const stop = async () => { await s.stop(); process.exit(0); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  if (s.started.length === 0) process.exit(0);
  setInterval(() => {}, 1 << 30);
} catch (e) {
  process.stderr.write(`${e instanceof MissingBinaryError ? "" : "could not start local services: "}${(e as Error).message}\n`);
  process.exit(1);
}
