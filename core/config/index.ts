import { readFileSync } from "node:fs";
import { z } from "zod";
import { ALIPAY_GATEWAY_URLS } from "../alipay/protocol.ts";
import { appCertMatchesKey, chainProblem, type CertModeFiles } from "../alipay/certs.ts";
import { certificates, publicKeyPem, rootCertSerialNumber } from "../alipay/keys.ts";
import { parseYuan } from "../money/index.ts";

// Every setting comes from the environment and is validated once, at start. A wrong or missing
// value stops the process with a message naming the variable and what is expected.

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const url = (protocols: string[], what: string) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `expected a ${what} URL (${protocols.map((p) => p + "//…").join(" or ")})`);

/**
 * The made-up app and seller of the local gateway (sandbox/), also the development defaults of
 * ALIPAY_APP_ID / ALIPAY_SELLER_ID, so the merchant and the emulator agree out of the box.
 */
export const LOCAL_MERCHANT = { appId: "2021000000000001", sellerId: "2088000000000001" } as const;

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HOST: z.string().min(1).default("127.0.0.1"),

  DATABASE_URL: url(["postgresql:", "postgres:"], "PostgreSQL"),
  REDIS_URL: url(["redis:", "rediss:"], "Redis"),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/, "expected 1-64 of A-Z a-z 0-9 _ : . -").default("coursepay"),

  API_PORT: port(3000),
  ADMIN_PORT: port(3001),
  WORKER_PORT: port(3002),
  SANDBOX_PORT: port(3003),
  API_PUBLIC_URL: url(["http:", "https:"], "http(s)").default("http://127.0.0.1:3000"),
  ADMIN_PUBLIC_URL: url(["http:", "https:"], "http(s)").default("http://127.0.0.1:3001"),
  SANDBOX_PUBLIC_URL: url(["http:", "https:"], "http(s)").default("http://127.0.0.1:3003"),

  ALIPAY_GATEWAY: z
    .string()
    .refine(
      (v) => v === "sandbox" || v in ALIPAY_GATEWAY_URLS || /^https?:\/\//.test(v),
      `expected "sandbox" (the local emulator), "alipay-sandbox", "production", or a gateway URL`,
    )
    .default("sandbox"),
  // No default here: outside production the local emulator's ids apply (LOCAL_MERCHANT); in
  // production a missing id stops the process (a forgotten seller id would turn every genuine notify
  // into a merchant-mismatch anomaly).
  ALIPAY_APP_ID: z.string().regex(/^\d{16}$/, "expected the 16-digit Alipay app id").optional(),
  ALIPAY_SELLER_ID: z.string().regex(/^2088\d{12}$/, "expected the 16-digit seller (partner) id starting with 2088").optional(),
  ALIPAY_SIGN_TYPE: z.enum(["RSA2", "RSA"]).default("RSA2"),
  ALIPAY_APP_PRIVATE_KEY: z.string().optional(),
  ALIPAY_APP_PRIVATE_KEY_FILE: z.string().optional(),
  ALIPAY_PUBLIC_KEY: z.string().optional(),
  ALIPAY_PUBLIC_KEY_FILE: z.string().optional(),
  // Certificate mode (公钥证书模式): the three files from Alipay's console, instead of ALIPAY_PUBLIC_KEY_FILE.
  ALIPAY_APP_CERT_FILE: z.string().optional(),
  ALIPAY_CERT_FILE: z.string().optional(),
  ALIPAY_ROOT_CERT_FILE: z.string().optional(),
  ALIPAY_TIMEOUT_MS: positiveInt(5000),
  ALIPAY_QUERY_QPS: positiveInt(10),

  ORDER_EXPIRY_MINUTES: positiveInt(30),
  RECONCILE_INTERVAL_SECONDS: positiveInt(60),
  RECONCILE_BATCH_SIZE: positiveInt(500),
  RECONCILE_GRACE_MINUTES: z.coerce.number().int().min(0).default(10),
  RECONCILE_FIRST_CHECK_SECONDS: positiveInt(60),
  WORKER_CONCURRENCY: positiveInt(20),
  // How long a worker's claim on a job lasts without renewal; a crashed worker's jobs are retried after it.
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),

  // Refunds (issue 11): above this amount a second staff member with the admin role must approve.
  REFUND_APPROVAL_ABOVE_YUAN: z
    .string()
    .refine((v) => parseYuan(v) !== null, "expected a yuan amount with at most two decimals, e.g. 500 or 499.99")
    .default("500"),
  // How long after payment a buyer may ask for a refund.
  REFUND_WINDOW_DAYS: z.coerce.number().int().min(0).max(3650).default(7),
  // A refund query that finds no refund is believed only this long after the last refund call; also
  // the first gap of the refund checks' backoff.
  REFUND_QUERY_DELAY_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),

  TOKEN_SECRET: z.string().min(32, "expected at least 32 characters").optional(),
  SESSION_SECRET: z.string().min(32, "expected at least 32 characters").optional(),
  NOTIFY_BODY_LIMIT_BYTES: positiveInt(64 * 1024),
  // Per-address limits of the api (docs/operations.md "Rate limits"), counted in Redis across replicas.
  REGISTER_LIMIT_PER_ADDRESS: positiveInt(20),
  REGISTER_LIMIT_WINDOW_MINUTES: positiveInt(60),
  // Notifies that fail verification; a verified notify is never counted nor refused.
  NOTIFY_REJECTED_LIMIT_PER_ADDRESS: positiveInt(30),
  RETURN_LIMIT_PER_ADDRESS: positiveInt(60),
  CALLBACK_LIMIT_WINDOW_MINUTES: positiveInt(10),
  // The callback inbox (docs/operations.md "Callback inbox"): refused callbacks that failed
  // verification are deleted after this many days; verified rows (evidence) are kept.
  INBOX_REJECTED_RETENTION_DAYS: positiveInt(30),
  // A verified notify row still pending or failed this long after it arrived is re-driven.
  INBOX_SETTLE_AFTER_SECONDS: positiveInt(300),

  // Daily bill reconciliation (core/bills, docs/operations.md "Reconciliation with Alipay's bill").
  BILL_FETCH_AT: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:mm (Beijing time), e.g. 10:00").default("10:00"),
  BILL_GIVE_UP_AT: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:mm (Beijing time), e.g. 18:00").default("18:00"),
  BILL_RETRY_MINUTES: positiveInt(30),
  BILL_PENDING_DAYS: z.coerce.number().int().min(0).max(7).default(2),
  BILL_CATCH_UP_DAYS: z.coerce.number().int().min(1).max(60).default(7),
  BILL_LEASE_SECONDS: positiveInt(600),
  // off: this worker runs no scheduled bill ticks (it still runs "reconcile this date now" jobs).
  BILL_SCHEDULE: z.enum(["on", "off"]).default("on"),
  // The zone staff read times in (admin pages, dashboard days, CSV): an IANA name. The shop's day is
  // China Standard Time.
  DISPLAY_TIME_ZONE: z
    .string()
    .refine((v) => {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: v });
        return true;
      } catch {
        return false;
      }
    }, `expected an IANA time zone name, e.g. "Asia/Shanghai" or "UTC"`)
    .default("Asia/Shanghai"),
});

export type Env = z.infer<typeof EnvSchema>;


export interface AlipayConfig {
  gatewayUrl: string;
  isLocalSandbox: boolean;
  appId: string;
  sellerId: string;
  signType: "RSA2" | "RSA";
  appPrivateKey: string;
  /** Key mode: the Alipay public key. Certificate mode: the public key of ALIPAY_CERT_FILE. */
  alipayPublicKey: string;
  /** Certificate mode (null in key mode), validated at start. */
  certs: CertModeFiles | null;
  timeoutMs: number;
  queryQps: number;
  notifyUrl: string;
  returnUrl: string;
  /** wap pay's quit_url: the buyer's orders page (the order number is added per order). */
  quitUrl: string;
}

export interface Config {
  env: Env["NODE_ENV"];
  logLevel: Env["LOG_LEVEL"];
  host: string;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  ports: { api: number; admin: number; worker: number; sandbox: number };
  urls: { api: string; admin: string; sandbox: string };
  alipay: AlipayConfig;
  orders: { expiryMinutes: number };
  reconcile: { intervalSeconds: number; batchSize: number; graceMinutes: number; firstCheckSeconds: number };
  worker: { concurrency: number; lockMs: number };
  refunds: { approvalAboveFen: number; windowDays: number; settleDelaySeconds: number };
  secrets: { token: string; session: string };
  limits: {
    notifyBodyBytes: number;
    /** POST /auth/register per client address. */
    registerPerAddress: RateLimit;
    /** POST /alipay/notify bodies that fail verification, per client address. */
    notifyRejectedPerAddress: RateLimit;
    /** GET /alipay/return per client address. */
    returnPerAddress: RateLimit;
  };
  inbox: { rejectedRetentionDays: number; settleAfterSeconds: number };
  /** How times are shown to staff. */
  display: { timeZone: string };
  bills: BillSettings;
}

/** At most `limit` requests per client per `windowMs`. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

export interface BillSettings {
  /** HH:mm Beijing time: the daily fetch of yesterday's bill. */
  fetchAt: string;
  /** HH:mm Beijing time: after this, a bill still missing is given up (no_bill) and alerted. */
  giveUpAt: string;
  retryMinutes: number;
  /** Cross-midnight allowance: a payment of ours missing from Alipay's bills is flagged this many days later. */
  pendingDays: number;
  catchUpDays: number;
  leaseSeconds: number;
  /** BILL_SCHEDULE: whether this worker ticks on schedule (and catches up at start) */
  schedule: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      "invalid configuration:\n" +
        problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n") +
        "\n(see docs/operations.md for every variable)",
    );
    this.name = "ConfigError";
  }
}

// A key may be given inline (KEY) or as a file path (KEY_FILE); exactly one is expected.
function readSecret(env: Env, name: "ALIPAY_APP_PRIVATE_KEY" | "ALIPAY_PUBLIC_KEY", problems: ConfigError["problems"]): string {
  const inline = env[name];
  const file = env[`${name}_FILE`];
  if (inline && file) {
    problems.push({ variable: name, message: `set either ${name} or ${name}_FILE, not both` });
    return "";
  }
  if (inline) return inline.replace(/\\n/g, "\n");
  if (file) {
    try {
      const text = readFileSync(file, "utf8").trim();
      if (!text) problems.push({ variable: `${name}_FILE`, message: `file is empty: ${file}` });
      return text;
    } catch (e) {
      problems.push({ variable: `${name}_FILE`, message: `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})` });
      return "";
    }
  }
  problems.push({ variable: `${name}_FILE`, message: `required: a file path (or ${name} with the key itself)` });
  return "";
}

const CERT_VARS = ["ALIPAY_APP_CERT_FILE", "ALIPAY_CERT_FILE", "ALIPAY_ROOT_CERT_FILE"] as const;

function readCertFile(env: Env, name: (typeof CERT_VARS)[number], problems: ConfigError["problems"]): string {
  const file = env[name];
  if (!file) {
    problems.push({ variable: name, message: "required in certificate mode (the three certificate files from Alipay's console go together)" });
    return "";
  }
  try {
    const text = readFileSync(file, "utf8");
    certificates(text);
    return text;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push({ variable: name, message: code ? `cannot read ${file} (${code})` : `${file}: no X.509 certificate in it` });
    return "";
  }
}

/**
 * Certificate mode: the three files, checked against each other and the app key at start (the app
 * certificate certifies the app key; Alipay's certificate chains to the root). Mixing in
 * ALIPAY_PUBLIC_KEY(_FILE) is refused: Alipay would answer 40002 isv.missing-app-cert-sn (or the app
 * is in key mode and the certificates are stray), either way not what the operator meant.
 */
function readCertMode(env: Env, appPrivateKey: string, problems: ConfigError["problems"]): CertModeFiles | null {
  if (!CERT_VARS.some((v) => env[v])) return null;
  if (env.ALIPAY_PUBLIC_KEY || env.ALIPAY_PUBLIC_KEY_FILE) {
    const which = env.ALIPAY_PUBLIC_KEY_FILE ? "ALIPAY_PUBLIC_KEY_FILE" : "ALIPAY_PUBLIC_KEY";
    problems.push({ variable: which, message: `mixes key mode and certificate mode: with ${CERT_VARS.join(", ")} set, Alipay's key comes from ALIPAY_CERT_FILE; unset ${which} (or unset the certificate variables for key mode)` });
  }
  const files = { appCert: readCertFile(env, "ALIPAY_APP_CERT_FILE", problems), alipayCert: readCertFile(env, "ALIPAY_CERT_FILE", problems), alipayRootCert: readCertFile(env, "ALIPAY_ROOT_CERT_FILE", problems) };
  if (!files.appCert || !files.alipayCert || !files.alipayRootCert) return null;
  if (appPrivateKey) {
    try {
      if (!appCertMatchesKey(files.appCert, appPrivateKey)) {
        problems.push({ variable: "ALIPAY_APP_CERT_FILE", message: "does not certify the app private key (ALIPAY_APP_PRIVATE_KEY_FILE): wrong app's certificate, or a certificate issued for an older key" });
      }
    } catch (e) {
      problems.push({ variable: "ALIPAY_APP_PRIVATE_KEY_FILE", message: `unusable: ${(e as Error).message}` });
    }
  }
  if (rootCertSerialNumber(files.alipayRootCert) === "") {
    problems.push({ variable: "ALIPAY_ROOT_CERT_FILE", message: "holds no RSA-signed root certificate (use alipayRootCert.crt from Alipay's console)" });
  }
  const chain = chainProblem(files.alipayCert, files.alipayRootCert);
  if (chain) problems.push({ variable: "ALIPAY_CERT_FILE", message: `does not chain to ALIPAY_ROOT_CERT_FILE: ${chain}` });
  return files;
}

function requireSecretInProduction(env: Env, name: "TOKEN_SECRET" | "SESSION_SECRET", problems: ConfigError["problems"]): string {
  const value = env[name];
  if (value) return value;
  if (env.NODE_ENV === "production") {
    problems.push({ variable: name, message: "required in production: at least 32 random characters" });
    return "";
  }
  // Development/test only: a fixed, clearly-not-secret value keeps tokens valid across restarts.
  return `coursepay-${env.NODE_ENV}-${name.toLowerCase()}-not-for-production`;
}

export interface LoadOptions {
  /** Roles that sign or verify Alipay messages need keys; the sandbox and launcher do not. */
  needAlipayKeys?: boolean;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  const needKeys = options.needAlipayKeys ?? true;
  // Empty strings count as unset: `FOO= npm start` should mean "default".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        variable: String(i.path[0] ?? "?"),
        message: i.code === "invalid_type" && i.input === undefined ? "required" : i.message,
      })),
    );
  }
  const env = parsed.data;
  const problems: ConfigError["problems"] = [];
  const appPrivateKey = needKeys ? readSecret(env, "ALIPAY_APP_PRIVATE_KEY", problems) : "";
  const certMode = needKeys && CERT_VARS.some((v) => env[v]);
  const certs = certMode ? readCertMode(env, appPrivateKey, problems) : null;
  let alipayPublicKey = needKeys && !certMode ? readSecret(env, "ALIPAY_PUBLIC_KEY", problems) : "";
  if (!certMode && /-----BEGIN CERTIFICATE-----/.test(alipayPublicKey)) {
    problems.push({
      variable: env.ALIPAY_PUBLIC_KEY_FILE ? "ALIPAY_PUBLIC_KEY_FILE" : "ALIPAY_PUBLIC_KEY",
      message: "holds a certificate: the app is in certificate mode (公钥证书模式), where every request must carry app_cert_sn (else 40002 isv.missing-app-cert-sn). Set ALIPAY_APP_CERT_FILE, ALIPAY_CERT_FILE and ALIPAY_ROOT_CERT_FILE instead",
    });
  }
  if (certs?.alipayCert) {
    try {
      alipayPublicKey = publicKeyPem(certs.alipayCert);
    } catch {
      // reported by readCertMode
    }
  }
  const token = requireSecretInProduction(env, "TOKEN_SECRET", problems);
  const session = requireSecretInProduction(env, "SESSION_SECRET", problems);
  const production = env.NODE_ENV === "production";
  if (production && needKeys && !env.ALIPAY_APP_ID) problems.push({ variable: "ALIPAY_APP_ID", message: "required in production: the 16-digit app id from Alipay's open-platform console" });
  if (production && needKeys && !env.ALIPAY_SELLER_ID) problems.push({ variable: "ALIPAY_SELLER_ID", message: "required in production: the seller (partner) id 2088… of the account that receives the money" });
  if (env.NODE_ENV === "production" && env.ALIPAY_GATEWAY === "sandbox") {
    problems.push({ variable: "ALIPAY_GATEWAY", message: `the local emulator cannot take real payments: use "production" in production` });
  }
  if (env.BILL_GIVE_UP_AT <= env.BILL_FETCH_AT) {
    problems.push({ variable: "BILL_GIVE_UP_AT", message: `must be later than BILL_FETCH_AT (${env.BILL_FETCH_AT})` });
  }
  if (problems.length) throw new ConfigError(problems);

  const isLocalSandbox = env.ALIPAY_GATEWAY === "sandbox";
  const gatewayUrl = isLocalSandbox
    ? new URL("/gateway.do", env.SANDBOX_PUBLIC_URL).toString()
    : (ALIPAY_GATEWAY_URLS as Record<string, string>)[env.ALIPAY_GATEWAY] ?? env.ALIPAY_GATEWAY;

  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    ports: { api: env.API_PORT, admin: env.ADMIN_PORT, worker: env.WORKER_PORT, sandbox: env.SANDBOX_PORT },
    urls: { api: env.API_PUBLIC_URL, admin: env.ADMIN_PUBLIC_URL, sandbox: env.SANDBOX_PUBLIC_URL },
    alipay: {
      gatewayUrl,
      isLocalSandbox,
      appId: env.ALIPAY_APP_ID ?? LOCAL_MERCHANT.appId,
      sellerId: env.ALIPAY_SELLER_ID ?? LOCAL_MERCHANT.sellerId,
      signType: env.ALIPAY_SIGN_TYPE,
      appPrivateKey,
      alipayPublicKey,
      certs,
      timeoutMs: env.ALIPAY_TIMEOUT_MS,
      queryQps: env.ALIPAY_QUERY_QPS,
      notifyUrl: new URL("/alipay/notify", env.API_PUBLIC_URL).toString(),
      returnUrl: new URL("/alipay/return", env.API_PUBLIC_URL).toString(),
      quitUrl: new URL("/orders", env.API_PUBLIC_URL).toString(),
    },
    orders: { expiryMinutes: env.ORDER_EXPIRY_MINUTES },
    reconcile: {
      intervalSeconds: env.RECONCILE_INTERVAL_SECONDS,
      batchSize: env.RECONCILE_BATCH_SIZE,
      graceMinutes: env.RECONCILE_GRACE_MINUTES,
      firstCheckSeconds: env.RECONCILE_FIRST_CHECK_SECONDS,
    },
    worker: { concurrency: env.WORKER_CONCURRENCY, lockMs: env.WORKER_LOCK_MS },
    refunds: {
      approvalAboveFen: parseYuan(env.REFUND_APPROVAL_ABOVE_YUAN)!,
      windowDays: env.REFUND_WINDOW_DAYS,
      settleDelaySeconds: env.REFUND_QUERY_DELAY_SECONDS,
    },
    secrets: { token, session },
    limits: {
      notifyBodyBytes: env.NOTIFY_BODY_LIMIT_BYTES,
      registerPerAddress: { limit: env.REGISTER_LIMIT_PER_ADDRESS, windowMs: env.REGISTER_LIMIT_WINDOW_MINUTES * 60_000 },
      notifyRejectedPerAddress: { limit: env.NOTIFY_REJECTED_LIMIT_PER_ADDRESS, windowMs: env.CALLBACK_LIMIT_WINDOW_MINUTES * 60_000 },
      returnPerAddress: { limit: env.RETURN_LIMIT_PER_ADDRESS, windowMs: env.CALLBACK_LIMIT_WINDOW_MINUTES * 60_000 },
    },
    inbox: { rejectedRetentionDays: env.INBOX_REJECTED_RETENTION_DAYS, settleAfterSeconds: env.INBOX_SETTLE_AFTER_SECONDS },
    bills: {
      fetchAt: env.BILL_FETCH_AT,
      giveUpAt: env.BILL_GIVE_UP_AT,
      retryMinutes: env.BILL_RETRY_MINUTES,
      pendingDays: env.BILL_PENDING_DAYS,
      catchUpDays: env.BILL_CATCH_UP_DAYS,
      leaseSeconds: env.BILL_LEASE_SECONDS,
      schedule: env.BILL_SCHEDULE === "on",
    },
    display: { timeZone: env.DISPLAY_TIME_ZONE },
  };
}

/** For process entry points: print what is wrong and exit 1 instead of a stack trace. */
export function loadConfigOrExit(role: string, options?: LoadOptions): Config {
  try {
    return loadConfig(process.env, options);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`coursepay ${role}: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}
