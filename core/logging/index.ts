import { pino, type Logger } from "pino";

// Field names that may carry secrets; pino replaces them before anything is written.
const REDACT = [
  "password", "*.password", "passwordHash", "*.passwordHash",
  "privateKey", "*.privateKey", "appPrivateKey", "*.appPrivateKey",
  "sessionSecret", "*.sessionSecret", "authorization", "*.authorization",
  "headers.authorization", "headers.cookie", "req.headers.authorization", "req.headers.cookie",
  "token", "*.token",
];

export type { Logger };

export function createLogger(role: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ name: role, level, redact: { paths: REDACT, censor: "[redacted]" }, base: { role } });
}
