// The logger's redaction is the safety net under "never log a secret": whatever shape a secret is
// logged in by mistake (a field, a header, the whole config), the written line holds "[redacted]".
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { loadConfig } from "../../../core/config/index.ts";
import { createLogger } from "../../../core/logging/index.ts";

function capture() {
  let out = "";
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out += chunk;
      cb();
    },
  });
  return { logger: createLogger("redaction-test", "trace", stream), text: () => out };
}

const SECRETS = {
  privateKey: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDtest\n-----END PRIVATE KEY-----",
  token: "T".repeat(40),
  session: "S".repeat(40),
  dbPassword: "db-pass-w0rd",
  redisPassword: "redis-pass-w0rd",
  password: "hunter2-hunter2",
  bearer: "v1.eyJzdWIiOjF9.c2lnbmF0dXJl",
  cookie: "coursepay_admin=s%3Aabc.def",
};

test("secrets in the usual fields and in the whole config object are redacted", async () => {
  const config = loadConfig({
    DATABASE_URL: `postgresql://app:${SECRETS.dbPassword}@db.internal/coursepay`,
    REDIS_URL: `redis://:${SECRETS.redisPassword}@redis.internal:6379`,
    ALIPAY_APP_PRIVATE_KEY: SECRETS.privateKey,
    ALIPAY_PUBLIC_KEY: "public",
    TOKEN_SECRET: SECRETS.token,
    SESSION_SECRET: SECRETS.session,
  });
  const { logger, text } = capture();
  logger.info({ config }, "nested config");
  logger.info(config, "config as the log object");
  logger.info({ alipay: config.alipay, secrets: config.secrets }, "parts of it");
  logger.info({ email: "a@b.example", password: SECRETS.password, body: { password: SECRETS.password } }, "a login");
  logger.info({ req: { headers: { authorization: `Bearer ${SECRETS.bearer}`, cookie: SECRETS.cookie } } }, "a request");
  logger.info({ headers: { authorization: `Bearer ${SECRETS.bearer}`, cookie: SECRETS.cookie } }, "headers");
  logger.info({ token: SECRETS.bearer, session: { token: SECRETS.bearer } }, "a token");
  logger.info({ staff: { passwordHash: "scrypt$x" } }, "a staff row");
  await new Promise((r) => setImmediate(r));
  const out = text();
  assert.equal(out.split("\n").filter(Boolean).length, 8);
  for (const [what, value] of Object.entries(SECRETS)) {
    const needle = what === "privateKey" ? "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDtest" : value;
    assert.equal(out.includes(needle), false, `${what} leaked:\n${out}`);
  }
  assert.equal(out.includes("scrypt$x"), false, "password hashes are redacted too");
  assert.match(out, /"email":"a@b.example"/, "ordinary fields are kept");
});
