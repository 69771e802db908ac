import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "../../../core/config/index.ts";

const dir = mkdtempSync(path.join(tmpdir(), "coursepay-config-"));
writeFileSync(path.join(dir, "k.pem"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
const base = {
  DATABASE_URL: "postgresql://u@127.0.0.1:5432/db",
  REDIS_URL: "redis://127.0.0.1:6379",
  ALIPAY_APP_PRIVATE_KEY_FILE: path.join(dir, "k.pem"),
  ALIPAY_PUBLIC_KEY_FILE: path.join(dir, "k.pem"),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems.map((p) => p.variable);
  }
  return [];
}

test("valid environment gives typed config with local-sandbox defaults", () => {
  const c = loadConfig(base);
  assert.equal(c.alipay.appId, "2021000000000001");
  assert.equal(c.alipay.sellerId, "2088000000000001");
  assert.equal(c.alipay.gatewayUrl, "http://127.0.0.1:3003/gateway.do");
  assert.equal(c.alipay.isLocalSandbox, true);
  assert.equal(c.alipay.notifyUrl, "http://127.0.0.1:3000/alipay/notify");
  assert.equal(c.ports.api, 3000);
  assert.match(c.alipay.alipayPublicKey, /BEGIN PUBLIC KEY/);
});

test("each wrong or missing variable is named", () => {
  assert.deepEqual(problemsOf({ ...base, DATABASE_URL: "nonsense" }), ["DATABASE_URL"]);
  assert.deepEqual(problemsOf({ ...base, REDIS_URL: "http://x" }), ["REDIS_URL"]);
  assert.deepEqual(problemsOf({ ...base, API_PORT: "70000" }), ["API_PORT"]);
  assert.deepEqual(problemsOf({ ...base, ALIPAY_APP_ID: "abc" }), ["ALIPAY_APP_ID"]);
  assert.deepEqual(problemsOf({ ...base, ALIPAY_PUBLIC_KEY_FILE: path.join(dir, "missing.pem") }), ["ALIPAY_PUBLIC_KEY_FILE"]);
  const { DATABASE_URL: _d, ...noDb } = base;
  assert.deepEqual(problemsOf(noDb), ["DATABASE_URL"]);
});

test("production refuses the local emulator and demands real secrets and ids", () => {
  const vars = problemsOf({ ...base, NODE_ENV: "production" });
  assert.deepEqual(vars.sort(), ["ALIPAY_APP_ID", "ALIPAY_GATEWAY", "ALIPAY_SELLER_ID", "SESSION_SECRET", "TOKEN_SECRET"]);
  const prod = {
    ...base, NODE_ENV: "production", ALIPAY_GATEWAY: "production", ALIPAY_APP_ID: "2021004100000001", ALIPAY_SELLER_ID: "2088411000000001",
    TOKEN_SECRET: "t".repeat(32), SESSION_SECRET: "s".repeat(32),
  };
  // Each missing variable alone stops the start, named (no fallback to the emulator's ids or keys).
  for (const name of ["ALIPAY_APP_ID", "ALIPAY_SELLER_ID", "ALIPAY_APP_PRIVATE_KEY_FILE", "ALIPAY_PUBLIC_KEY_FILE"] as const) {
    const { [name]: _gone, ...without } = prod;
    assert.deepEqual(problemsOf(without), [name], name);
  }
  const ok = loadConfig(prod);
  assert.equal(ok.alipay.appId, "2021004100000001");
  assert.equal(ok.alipay.sellerId, "2088411000000001");
  assert.equal(ok.alipay.gatewayUrl, "https://openapi.alipay.com/gateway.do");
});

test("the inbox's retention and settle delay are validated positive whole numbers", () => {
  const c = loadConfig(base);
  assert.deepEqual(c.inbox, { rejectedRetentionDays: 30, settleAfterSeconds: 300 });
  assert.deepEqual(loadConfig({ ...base, INBOX_REJECTED_RETENTION_DAYS: "7", INBOX_SETTLE_AFTER_SECONDS: "60" }).inbox, { rejectedRetentionDays: 7, settleAfterSeconds: 60 });
  for (const bad of ["0", "-1", "1.5", "abc"]) {
    assert.deepEqual(problemsOf({ ...base, INBOX_REJECTED_RETENTION_DAYS: bad }), ["INBOX_REJECTED_RETENTION_DAYS"], bad);
    assert.deepEqual(problemsOf({ ...base, INBOX_SETTLE_AFTER_SECONDS: bad }), ["INBOX_SETTLE_AFTER_SECONDS"], bad);
  }
});

test("per-address limits: product defaults, overridable, validated positive whole numbers", () => {
  const { notifyBodyBytes: _bytes, ...limits } = loadConfig(base).limits;
  assert.deepEqual(limits, {
    registerPerAddress: { limit: 20, windowMs: 3_600_000 },
    notifyRejectedPerAddress: { limit: 30, windowMs: 600_000 },
    returnPerAddress: { limit: 60, windowMs: 600_000 },
  });
  const set = loadConfig({ ...base, REGISTER_LIMIT_PER_ADDRESS: "5", REGISTER_LIMIT_WINDOW_MINUTES: "2", NOTIFY_REJECTED_LIMIT_PER_ADDRESS: "3", RETURN_LIMIT_PER_ADDRESS: "4", CALLBACK_LIMIT_WINDOW_MINUTES: "1" }).limits;
  assert.deepEqual([set.registerPerAddress, set.notifyRejectedPerAddress, set.returnPerAddress], [{ limit: 5, windowMs: 120_000 }, { limit: 3, windowMs: 60_000 }, { limit: 4, windowMs: 60_000 }]);
  const vars = ["REGISTER_LIMIT_PER_ADDRESS", "REGISTER_LIMIT_WINDOW_MINUTES", "NOTIFY_REJECTED_LIMIT_PER_ADDRESS", "RETURN_LIMIT_PER_ADDRESS", "CALLBACK_LIMIT_WINDOW_MINUTES"];
  for (const v of vars) for (const bad of ["0", "-1", "1.5", "abc"]) assert.deepEqual(problemsOf({ ...base, [v]: bad }), [v], `${v}=${bad}`);
});

test("DISPLAY_TIME_ZONE: Asia/Shanghai by default, any IANA zone, an unknown name is named", () => {
  assert.equal(loadConfig(base).display.timeZone, "Asia/Shanghai");
  assert.equal(loadConfig({ ...base, DISPLAY_TIME_ZONE: "Europe/Berlin" }).display.timeZone, "Europe/Berlin");
  assert.deepEqual(problemsOf({ ...base, DISPLAY_TIME_ZONE: "Mars/Olympus" }), ["DISPLAY_TIME_ZONE"]);
});

// Certificate mode (公钥证书模式), with the throwaway test certificates of test/fixtures/keys.
const fixture = (f: string) => path.join(import.meta.dirname, "../../fixtures/keys", f);
const certBase = {
  DATABASE_URL: base.DATABASE_URL,
  REDIS_URL: base.REDIS_URL,
  ALIPAY_APP_PRIVATE_KEY_FILE: fixture("app_private_key.pem"),
  ALIPAY_APP_CERT_FILE: fixture("app_public_cert.crt"),
  ALIPAY_CERT_FILE: fixture("alipay_public_cert.crt"),
  ALIPAY_ROOT_CERT_FILE: fixture("alipay_root_cert.crt"),
};

test("certificate mode: the three files are read and checked against each other at start", () => {
  const c = loadConfig(certBase);
  assert.ok(c.alipay.certs);
  assert.match(c.alipay.alipayPublicKey, /BEGIN PUBLIC KEY/, "Alipay's key comes from ALIPAY_CERT_FILE");
  // each missing file is named
  for (const name of ["ALIPAY_APP_CERT_FILE", "ALIPAY_CERT_FILE", "ALIPAY_ROOT_CERT_FILE"] as const) {
    const { [name]: _gone, ...without } = certBase;
    assert.deepEqual(problemsOf(without), [name], name);
  }
  // mixing modes
  assert.deepEqual(problemsOf({ ...certBase, ALIPAY_PUBLIC_KEY_FILE: fixture("alipay_public_key.pem") }), ["ALIPAY_PUBLIC_KEY_FILE"]);
  // the app certificate must certify the app key
  assert.deepEqual(problemsOf({ ...certBase, ALIPAY_APP_CERT_FILE: fixture("alipay_public_cert.crt") }), ["ALIPAY_APP_CERT_FILE"]);
  // Alipay's certificate must chain to the root
  const otherRoot = path.join(dir, "other-root.crt");
  writeFileSync(otherRoot, readFileSync(fixture("app_public_cert.crt")));
  const chain = (() => {
    try {
      loadConfig({ ...certBase, ALIPAY_ROOT_CERT_FILE: otherRoot });
    } catch (e) {
      return (e as ConfigError).problems;
    }
    return [];
  })();
  assert.ok(chain.some((p) => p.variable === "ALIPAY_CERT_FILE" && /does not chain/.test(p.message)), JSON.stringify(chain));
  // a file that holds no certificate
  assert.deepEqual(problemsOf({ ...certBase, ALIPAY_CERT_FILE: fixture("alipay_public_key.pem") }), ["ALIPAY_CERT_FILE"]);
});

test("key mode: an Alipay certificate in ALIPAY_PUBLIC_KEY_FILE is refused with the way to certificate mode", () => {
  try {
    loadConfig({ ...base, ALIPAY_APP_PRIVATE_KEY_FILE: fixture("app_private_key.pem"), ALIPAY_PUBLIC_KEY_FILE: fixture("alipay_public_cert.crt") });
    assert.fail("expected a ConfigError");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.problems[0]!.variable, "ALIPAY_PUBLIC_KEY_FILE");
    assert.match(e.problems[0]!.message, /certificate mode.*ALIPAY_APP_CERT_FILE, ALIPAY_CERT_FILE and ALIPAY_ROOT_CERT_FILE/);
  }
});

test("production: certificate mode without one of its files stops the start naming it", () => {
  const prod = {
    ...certBase, NODE_ENV: "production", ALIPAY_GATEWAY: "production", ALIPAY_APP_ID: "2021004100000001", ALIPAY_SELLER_ID: "2088411000000001",
    TOKEN_SECRET: "t".repeat(32), SESSION_SECRET: "s".repeat(32),
  };
  assert.ok(loadConfig(prod).alipay.certs);
  for (const name of ["ALIPAY_APP_PRIVATE_KEY_FILE", "ALIPAY_APP_CERT_FILE", "ALIPAY_CERT_FILE", "ALIPAY_ROOT_CERT_FILE"] as const) {
    const { [name]: _gone, ...without } = prod;
    assert.ok(problemsOf(without).includes(name), name);
  }
});
