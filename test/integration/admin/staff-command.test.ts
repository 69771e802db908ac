// `npm run staff`: create and reset accounts; the printed password is the only copy and works.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { StaffCommandError, runStaffCommand } from "../../../scripts/staff.ts";
import { AdminClient, startAdmin, type AdminUnderTest } from "./support.ts";
import { SESSION_COOKIE } from "../../../admin/auth/session.ts";

const root = path.resolve(import.meta.dirname, "../../..");
let admin: AdminUnderTest;
before(async () => {
  admin = await startAdmin({ name: "admin-staff-cmd" });
});
after(async () => {
  await admin?.close();
});

const email = () => `Staff-${randomBytes(4).toString("hex")}@Shop.Test`;
const passwordIn = (out: string) => /^password: (\S+)$/m.exec(out)?.[1] ?? assert.fail(`no password in: ${out}`);

describe("staff command", () => {
  test("create prints a generated password once; the account logs in with it and has the role", async () => {
    const address = email();
    const out = await runStaffCommand(admin.prisma, ["create", address, "--role", "operator"]);
    const password = passwordIn(out);
    assert.ok(password.length >= 20);
    const row = await admin.prisma.staffUser.findUniqueOrThrow({ where: { email: address.toLowerCase() } });
    assert.equal(row.role, "operator");
    assert.ok(!row.passwordHash.includes(password), "only a hash is stored");
    await new AdminClient(admin.url).loginOk({ email: address, password });
  });

  test("create defaults to viewer and refuses an existing email or a bad role", async () => {
    const address = email();
    await runStaffCommand(admin.prisma, ["create", address]);
    assert.equal((await admin.prisma.staffUser.findUniqueOrThrow({ where: { email: address.toLowerCase() } })).role, "viewer");
    await assert.rejects(runStaffCommand(admin.prisma, ["create", address]), StaffCommandError);
    await assert.rejects(runStaffCommand(admin.prisma, ["create", email(), "--role", "root"]), StaffCommandError);
    await assert.rejects(runStaffCommand(admin.prisma, ["create", "not-an-email"]), StaffCommandError);
  });

  test("reset replaces the password and ends the account's open sessions", async () => {
    const address = email();
    const first = passwordIn(await runStaffCommand(admin.prisma, ["create", address, "--role", "admin"]));
    const client = await new AdminClient(admin.url).loginOk({ email: address, password: first });
    assert.ok(client.cookie(SESSION_COOKIE));
    const out = await runStaffCommand(admin.prisma, ["reset", address]);
    assert.match(out, /1 session\(s\) ended/);
    const second = passwordIn(out);
    assert.notEqual(second, first);
    assert.equal((await client.json("/admin/api/resources/Order/actions/list")).status, 401, "old session gone");
    assert.equal((await new AdminClient(admin.url).login(address, first)).status, 401);
    await new AdminClient(admin.url).loginOk({ email: address, password: second });
    await assert.rejects(runStaffCommand(admin.prisma, ["reset", email()]), StaffCommandError);
  });

  test("the npm script runs it from the shell (create, then reset)", async () => {
    const address = email().toLowerCase();
    const run = promisify(execFile);
    const env = { ...process.env, DATABASE_URL: admin.config.databaseUrl };
    const created = await run("npx", ["tsx", "scripts/staff.ts", "create", address, "--role", "operator"], { cwd: root, env });
    assert.match(created.stdout, new RegExp(`created operator ${address.replace(/[.]/g, "\\.")}`));
    const reset = await run("npx", ["tsx", "scripts/staff.ts", "reset", address], { cwd: root, env });
    await new AdminClient(admin.url).loginOk({ email: address, password: passwordIn(reset.stdout) });
    await assert.rejects(run("npx", ["tsx", "scripts/staff.ts", "frobnicate"], { cwd: root, env }), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr ?? "", /usage: npm run staff/);
      return true;
    });
  });
});
