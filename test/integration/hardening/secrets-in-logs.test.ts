// Keys and passwords never reach the logs. The api, worker and admin run as processes at LOG_LEVEL
// trace with known secrets; a flow exercises every path that touches one (registration, logins that
// fail and succeed, bearer tokens good and bad, signing requests to Alipay, verifying callbacks,
// staff sessions, errors with secrets in the body); then every byte the processes wrote is searched
// for the private key's PEM body lines, TOKEN_SECRET, SESSION_SECRET, the passwords and the tokens.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startStack, waitFor, type Stack } from "../../support/index.ts";
import { AdminClient, createStaff } from "../admin/support.ts";
import { startRoles, type RunningRole } from "./roles.ts";

const TOKEN_SECRET = `token-secret-${randomBytes(24).toString("hex")}`;
const SESSION_SECRET = `session-secret-${randomBytes(24).toString("hex")}`;
const BUYER_PASSWORD = `buyer-pw-${randomBytes(9).toString("base64url")}`;
const WRONG_PASSWORD = `wrong-pw-${randomBytes(9).toString("base64url")}`;

let stack: Stack;
let roles: RunningRole[] = [];

before(async () => {
  stack = await startStack({ name: "secrets-in-logs", worker: false });
  const env = { TOKEN_SECRET, SESSION_SECRET };
  roles = await startRoles([
    ["api", stack.env, { logLevel: "trace", publicApi: true, env }],
    ["worker", stack.env, { logLevel: "trace", env }],
    ["admin", stack.env, { logLevel: "trace", env }],
  ]);
});
after(async () => {
  await Promise.all(roles.map((r) => r.stop("SIGKILL")));
  await stack?.close();
});

/** The base64 lines of a PEM's body: any of them in a log means key material leaked. */
function pemBodyLines(pem: string): string[] {
  return pem.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("-----"));
}

test("a whole flow at trace level writes no key, secret, password or token", async () => {
  const [api, worker, admin] = roles as [RunningRole, RunningRole, RunningRole];
  const apiJson = async (path: string, init: { method?: string; body?: string; token?: string; headers?: Record<string, string> } = {}) => {
    const res = await fetch(`${api.url}${path}`, {
      method: init.method ?? "GET",
      headers: { "content-type": "application/json", accept: "application/json", ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers },
      body: init.body,
    });
    return { status: res.status, body: (await res.text()) };
  };
  const secrets: Record<string, string> = { TOKEN_SECRET, SESSION_SECRET, "buyer password": BUYER_PASSWORD, "wrong password": WRONG_PASSWORD };

  // Buyer: register, fail a login, log in, use the token (and a tampered one), order, pay, return.
  const email = `secrets-${randomBytes(4).toString("hex")}@test.local`;
  assert.equal((await apiJson("/auth/register", { method: "POST", body: JSON.stringify({ email, password: BUYER_PASSWORD }) })).status, 201);
  assert.equal((await apiJson("/auth/login", { method: "POST", body: JSON.stringify({ email, password: WRONG_PASSWORD }) })).status, 401);
  const login = await apiJson("/auth/login", { method: "POST", body: JSON.stringify({ email, password: BUYER_PASSWORD }) });
  assert.equal(login.status, 200);
  const token = JSON.parse(login.body).token as string;
  secrets["buyer token"] = token;
  secrets["buyer token signature"] = token.split(".")[2]!;
  assert.equal((await apiJson("/orders", { token: `${token.slice(0, -3)}AAA` })).status, 401);
  // Bodies that fail to parse, with a password in them.
  assert.equal((await apiJson("/auth/login", { method: "POST", body: `{"email":"${email}","password":"${BUYER_PASSWORD}"` })).status, 400);
  assert.equal((await apiJson("/auth/login", { method: "POST", body: JSON.stringify({ email, password: BUYER_PASSWORD, pad: "x".repeat(20_000) }) })).status, 413);
  const course = await stack.newCourse(2500);
  const created = await apiJson("/orders", { method: "POST", token, body: JSON.stringify({ courseIds: [course.id] }) });
  assert.equal(created.status, 201);
  const { order, payUrl } = JSON.parse(created.body) as { order: { id: number; outTradeNo: string }; payUrl: string };
  await stack.control.openCashier(payUrl);
  const { returnUrl } = await stack.control.pay(order.outTradeNo);
  await stack.waitForStatus(order.id, "PAID");
  assert.equal((await fetch(returnUrl!)).status, 200);
  // A forged notify, verified and refused.
  assert.equal((await fetch(`${api.url}/alipay/notify`, { method: "POST", body: `out_trade_no=${order.outTradeNo}&sign=AAAA` })).status, 400);

  // Staff: a failed and a good login, pages, the API, a command that signs a request to Alipay.
  const staff = await createStaff(stack.prisma, "operator", "secrets");
  secrets["staff password"] = staff.password;
  const client = new AdminClient(admin.url);
  assert.equal((await client.login(staff.email, `${staff.password}-wrong`)).status, 401);
  await client.loginOk(staff);
  const cookie = client.cookie("coursepay_admin")!;
  secrets["admin session id"] = decodeURIComponent(cookie).replace(/^s:/, "").split(".")[0]!;
  assert.equal((await client.request("/admin")).status, 200);
  assert.equal((await client.json("/admin/api/resources/Order/actions/list")).status, 200);
  const check = await client.json(`/admin/api/resources/Order/records/${order.id}/checkPayment`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  assert.equal(check.status, 200);
  await client.request("/admin/logout");

  // Let the worker finish what the flow queued (the return's payment check).
  await waitFor("the return's payment check", () => worker.logLines().some((l) => l.msg === "alipay call"));

  const keyLines = pemBodyLines(stack.env.ALIPAY_APP_PRIVATE_KEY!);
  assert.ok(keyLines.length > 10, "the configured app private key is a PEM");
  keyLines.forEach((line, i) => (secrets[`app private key, PEM line ${i + 1}`] = line));

  for (const role of roles) {
    const out = role.output();
    const lines = role.logLines();
    // The search means something only if the paths that handle secrets did log.
    const expected = { api: ["request", "notify recorded"], admin: ["request", "admin login"], worker: ["order status changed", "alipay call"] }[role.role];
    for (const msg of expected) assert.ok(lines.some((l) => l.msg === msg), `${role.role} logged "${msg}":\n${out}`);
    for (const [what, value] of Object.entries(secrets)) {
      const at = out.indexOf(value);
      assert.equal(at, -1, `${what} appears in the ${role.role}'s logs: …${out.slice(Math.max(0, at - 200), at + 50)}…`);
    }
  }
});
