import { z } from "zod";
import { LOCAL_MERCHANT } from "../core/config/index.ts";

// The sandbox process's settings, from the environment, validated once at start. A wrong value stops
// the process with a message naming the variable.

const httpUrl = z.string().refine((v) => {
  try {
    return ["http:", "https:"].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, "expected an http(s) URL");

const EnvSchema = z.object({
  SANDBOX_PORT: z.coerce.number({ error: "expected a port number 0-65535" }).int().min(0).max(65535).default(3003),
  SANDBOX_HOST: z.string().min(1).default("127.0.0.1"),
  SANDBOX_DATA_DIR: z.string().min(1).default(".data/sandbox"),
  SANDBOX_TIME_FACTOR: z.coerce
    .number({ error: "expected a positive number, e.g. 1 or 0.001" })
    .positive("expected a positive number, e.g. 1 or 0.001")
    .max(1000)
    .default(1),
  SANDBOX_MERCHANT_PUBLIC_KEY_FILE: z.string().min(1).default(".data/keys/app-public.pem"),
  SANDBOX_APP_ID: z.string().regex(/^\d{16}$/, "expected a 16-digit app id").default(LOCAL_MERCHANT.appId),
  SANDBOX_SELLER_ID: z.string().regex(/^2088\d{12}$/, "expected 2088 followed by 12 digits").default(LOCAL_MERCHANT.sellerId),
  SANDBOX_PUBLIC_URL: httpUrl.optional(),
  SANDBOX_CERT_MODE: z.enum(["0", "1", "true", "false"], { error: "expected 1/true (certificate mode) or 0/false (key mode)" }).default("0"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface SandboxEnvConfig {
  port: number;
  host: string;
  dataDir: string;
  timeFactor: number;
  merchantPublicKeyFile: string;
  appId: string;
  sellerId: string;
  /** certificate mode (公钥证书模式): certificates in <dataDir>/certs/ */
  certMode: boolean;
  /** how merchants and browsers reach the sandbox; default http://<host>:<port> */
  publicUrl: string;
  logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
}

export class SandboxConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super("invalid sandbox configuration:\n" + problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n"));
    this.name = "SandboxConfigError";
  }
}

export function loadSandboxEnv(env: NodeJS.ProcessEnv = process.env): SandboxEnvConfig {
  // Empty variables count as unset, so `SANDBOX_PORT=` in an env file means "default".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new SandboxConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? "?"), message: `${i.message} (got ${JSON.stringify(present[String(i.path[0])] ?? null)})` })),
    );
  }
  const e = parsed.data;
  return {
    port: e.SANDBOX_PORT,
    host: e.SANDBOX_HOST,
    dataDir: e.SANDBOX_DATA_DIR,
    timeFactor: e.SANDBOX_TIME_FACTOR,
    merchantPublicKeyFile: e.SANDBOX_MERCHANT_PUBLIC_KEY_FILE,
    appId: e.SANDBOX_APP_ID,
    sellerId: e.SANDBOX_SELLER_ID,
    certMode: e.SANDBOX_CERT_MODE === "1" || e.SANDBOX_CERT_MODE === "true",
    publicUrl: e.SANDBOX_PUBLIC_URL ?? `http://${e.SANDBOX_HOST}:${e.SANDBOX_PORT}`,
    logLevel: e.LOG_LEVEL,
  };
}
