// Which errors mean "PostgreSQL is unreachable right now" (answered 503 + Retry-After by
// core/http errorResponder) and which are ordinary failures (500).
import { test } from "node:test";
import assert from "node:assert/strict";
import { isDatabaseUnavailable } from "../../../core/db/index.ts";

test("connection failures, in the shapes Prisma, its pg adapter and pg produce", () => {
  const unavailable: unknown[] = [
    { name: "PrismaClientKnownRequestError", code: "P1001", meta: { driverAdapterError: { cause: { kind: "DatabaseNotReachable" } } } },
    { name: "PrismaClientKnownRequestError", code: "P2024" },
    { name: "DriverAdapterError", cause: { kind: "ConnectionClosed" } },
    { name: "DriverAdapterError", cause: { kind: "postgres", code: "57P01", message: "terminating connection due to administrator command" } },
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
    new Error("Connection terminated unexpectedly"),
    { message: "wrapped", cause: { code: "53300" } },
  ];
  for (const e of unavailable) assert.equal(isDatabaseUnavailable(e), true, JSON.stringify(e));
});

test("query errors and everything else are not", () => {
  const other: unknown[] = [
    { name: "PrismaClientKnownRequestError", code: "P2002" },
    { name: "DriverAdapterError", cause: { kind: "postgres", code: "22003" } },
    new TypeError("x is undefined"),
    null,
    undefined,
    "P1001",
  ];
  for (const e of other) assert.equal(isDatabaseUnavailable(e), false, String(e && JSON.stringify(e)));
  const loop: { cause?: unknown } = {};
  loop.cause = loop;
  assert.equal(isDatabaseUnavailable(loop), false);
});
