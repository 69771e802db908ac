// The buyer API's throttles, on a bare express app with small limits (the integration tests check
// the real limits on the real api): per client address across accounts, per (address, account),
// per buyer for orders, and no bypass by a forged X-Forwarded-For.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import express from "express";
import { issueToken } from "../../../api/auth.ts";
import { buyerRateLimits } from "../../../api/rate-limits.ts";

const SECRET = "rate-limit-unit-test-secret-0123456789";
const WINDOW = 60_000;
let server: Server;
let base: string;

before(async () => {
  const app = express();
  app.use(express.json());
  app.use(
    buyerRateLimits({
      tokenSecret: SECRET,
      limits: {
        loginFailuresPerAddress: { windowMs: WINDOW, limit: 5 },
        loginFailuresPerAddressAndAccount: { windowMs: WINDOW, limit: 2 },
        ordersPerAddress: { windowMs: WINDOW, limit: 6 },
        ordersPerBuyer: { windowMs: WINDOW, limit: 3 },
      },
    }),
  );
  // Stand-ins for the real routes: a login fails unless the password is "right".
  app.post("/auth/login", (req, res) => {
    res.status(req.body.password === "right" ? 200 : 401).json({});
  });
  app.post("/orders", (_req, res) => {
    res.status(201).json({});
  });
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const login = (email: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/auth/login`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ email, password }) }).then((r) => r.status);
const order = (token?: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/orders`, { method: "POST", headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } }).then((r) => r.status);

test("login failures: per (address, account) first, then per address across accounts; X-Forwarded-For does not reset them", async () => {
  assert.equal(await login("a@x.example", "wrong"), 401);
  assert.equal(await login("A@x.example ", "wrong"), 401);
  assert.equal(await login("a@x.example", "right"), 429, "the account's two failures are used up");
  // Other accounts from the same address: two more failures reach the address's five (the refused
  // attempt counted as a failure too).
  for (const email of ["b@x.example", "c@x.example"]) assert.equal(await login(email, "wrong"), 401);
  assert.equal(await login("e@x.example", "right"), 429, "the address is throttled for every account");
  assert.equal(await login("f@x.example", "right", { "x-forwarded-for": "203.0.113.9" }), 429, "a forged proxy header is not a new address");
});

test("orders: per buyer, then per address; a request without a valid token only counts against the address", async () => {
  const alice = issueToken(SECRET, 1).token;
  const bob = issueToken(SECRET, 2).token;
  for (let i = 0; i < 3; i++) assert.equal(await order(alice), 201);
  assert.equal(await order(alice), 429);
  assert.equal(await order(bob), 201, "another buyer is not affected");
  assert.equal(await order(issueToken("another secret entirely, 0123456789", 2).token), 201, "a forged token is not bob's key");
  assert.equal(await order(), 429, "the address's six requests are used up");
});
