import { pino, type Logger } from "pino";
import { currentWork } from "./context.ts";

export { annotateWork, currentWork, requestIdFrom, runWithWork, type WorkContext } from "./context.ts";

// Field names that may carry secrets; pino replaces them before anything is written.
const REDACT = [
  "password", "*.password", "passwordHash", "*.passwordHash",
  "privateKey", "*.privateKey", "appPrivateKey", "*.appPrivateKey", "alipay.appPrivateKey",
  "sessionSecret", "*.sessionSecret", "secrets", "*.secrets", "authorization", "*.authorization",
  "headers.authorization", "headers.cookie", "req.headers.authorization", "req.headers.cookie",
  "token", "*.token",
  // The config object, should it ever be logged whole: the key one level deeper, and the connection
  // URLs (they may carry passwords).
  "*.alipay.appPrivateKey", "databaseUrl", "*.databaseUrl", "redisUrl", "*.redisUrl",
];

export type { Logger };

export function createLogger(role: string, level = process.env.LOG_LEVEL ?? "info", destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: role,
      level,
      redact: { paths: REDACT, censor: "[redacted]" },
      base: { role },
      // Every line written while handling a request or job carries its request id (and order).
      mixin: () => {
        const w = currentWork();
        return w ? { ...w } : {};
      },
    },
    destination,
  );
}
