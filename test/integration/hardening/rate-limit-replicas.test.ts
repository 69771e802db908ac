// The api's rate limits hold across replicas (issue 10): two api processes, as behind a load balancer,
// share one Redis, and a client spreading its requests over both gets each limit once, not once per
// process. The counters live under the deployment's REDIS_PREFIX.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { BUYER_LIMITS } from "../../../api/rate-limits.ts";
import { hashPassword } from "../../../core/auth/password.ts";
import { createRedis } from "../../../core/redis/index.ts";
import { startStack, type Stack } from "../../support/index.ts";
import { startRoles, type RunningRole } from "./roles.ts";

const REGISTER_LIMIT = 4;
let stack: Stack;
let replicas: RunningRole[] = [];

before(async () => {
  stack = await startStack({ name: "rate-limit-replicas", worker: false, env: { REGISTER_LIMIT_PER_ADDRESS: String(REGISTER_LIMIT) } });
  replicas = await startRoles([
    ["api", stack.env],
    ["api", stack.env],
  ]);
});
after(async () => {
  await Promise.all(replicas.map((r) => r.stop("SIGKILL")));
  await stack?.close();
});

const post = (replica: RunningRole, path: string, body: unknown) =>
  fetch(`${replica.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("failed logins spread over two api replicas are counted once, in Redis", async () => {
  // Made directly: a registration through the api would use up one of this address's registrations.
  const buyer = await stack.prisma.user.create({ data: { email: `replicas-${Date.now()}@test.local`, passwordHash: await hashPassword("correct horse battery"), displayName: "" } });
  const { limit } = BUYER_LIMITS.loginFailuresPerAddressAndAccount;
  for (let i = 0; i < limit; i++) {
    const r = await post(replicas[i % 2]!, "/auth/login", { email: buyer.email, password: `wrong ${i}` });
    assert.equal(r.status, 401, `failure ${i + 1} of ${limit}`);
  }
  // Each replica saw only half the failures: with per-process counters both would still answer 401.
  for (const replica of replicas) {
    const r = await post(replica, "/auth/login", { email: buyer.email, password: "correct horse battery" });
    assert.equal(r.status, 429, `${replica.url}: the shared count is used up`);
    assert.match(r.headers.get("ratelimit-policy") ?? "", new RegExp(`q=${limit}`));
  }

  const redis = createRedis(stack.config.redisUrl);
  try {
    const keys = await redis.keys(`${stack.config.redisPrefix}:ratelimit:*`);
    assert.ok(keys.some((k) => k.includes("api-login-address-account")), `counters under the deployment's prefix: ${keys.join(", ")}`);
  } finally {
    redis.disconnect();
  }
});

test("registrations are limited per address, across replicas, and a refused one creates no account", async () => {
  const emails = Array.from({ length: REGISTER_LIMIT + 2 }, (_, i) => `replica-${i}-${Date.now()}@test.local`);
  const statuses: number[] = [];
  for (const [i, email] of emails.entries()) {
    statuses.push((await post(replicas[i % 2]!, "/auth/register", { email, password: "correct horse battery" })).status);
  }
  assert.deepEqual(statuses, [...Array(REGISTER_LIMIT).fill(201), 429, 429]);
  assert.equal(await stack.prisma.user.count({ where: { email: { in: emails } } }), REGISTER_LIMIT, "the refused registrations wrote nothing");
});
