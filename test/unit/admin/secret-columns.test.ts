// Which column names the back office withholds (admin/prisma-resource.ts isSecretColumn), and that
// every secret-looking column of the real data model is one of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isSecretColumn } from "../../../admin/prisma-resource.ts";
import { loadFullDmmf } from "../../../core/db/index.ts";

test("secret names, camelCase or snake_case, and nothing else", () => {
  for (const name of ["passwordHash", "password_hash", "sess", "session", "apiKey", "api_key", "resetToken", "totpSecret", "salt", "privateKeyPem"]) {
    assert.equal(isSecretColumn(name), true, name);
  }
  for (const name of ["hasHandler", "outTradeNo", "tradeNo", "dedupeKey", "email", "notifyId", "rawBody", "status", "sid", "expire"]) {
    assert.equal(isSecretColumn(name), false, name);
  }
});

test("the data model's password hashes and session data are secret columns", () => {
  const models = loadFullDmmf().datamodel.models;
  const secret = models.flatMap((m) => m.fields.filter((f) => isSecretColumn(f.name)).map((f) => `${m.name}.${f.name}`));
  assert.ok(secret.includes("User.passwordHash") && secret.includes("StaffUser.passwordHash") && secret.includes("StaffSession.sess"), String(secret));
});
