// The buyer API's OpenAPI 3.1 document, built from the zod schemas the routes validate with
// (api/schemas.ts), served at GET /api/openapi.json, with Swagger UI at GET /api/docs (swagger-ui-dist
// from node_modules: nothing from a CDN, and no inline script, so CSP script-src 'self' holds).
//
// The operations below are declared by hand (method, path, what goes in and out); the schemas are
// not. test/integration/hardening/openapi.test.ts enumerates the express app's routes and fails when
// one is missing here, and checks real responses against the response schemas.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Router } from "express";
import { z } from "zod";
import { OUT_TRADE_NO } from "../core/alipay/protocol.ts";
import { securityHeaders } from "../core/http/index.ts";
import * as S from "./schemas.ts";

export const OPENAPI_PATH = "/api/openapi.json";
export const DOCS_PATH = "/api/docs";
export const VIEWER_SCRIPT_PATH = "/api/docs/viewer.js";

type Content = { json: z.ZodType } | { html: true } | { text: string } | { metrics: true } | { script: true } | { css: true };

interface ResponseSpec {
  description: string;
  /** One or more representations of the same response (GET /orders answers JSON or a page). */
  content?: Content[];
}

export interface OperationSpec {
  method: "get" | "post";
  /** Express syntax (`/orders/:id`); converted to `/orders/{id}` in the document. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** Needs `Authorization: Bearer <token>` (from /auth/login or /auth/register). */
  auth?: boolean;
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: { json: z.ZodType } | { form: string };
  responses: Record<string, ResponseSpec>;
}

const json = (schema: z.ZodType): Content => ({ json: schema });
const page: Content = { html: true };
const error = (description: string): ResponseSpec => ({ description, content: [json(S.ErrorBody)] });
const invalid = error("Invalid input: `details` lists each problem with its field path");
const unauthorized = error("No valid bearer token");
const rateLimited = error("Too many attempts; retry after the `RateLimit` header's reset");

export const OPERATIONS: OperationSpec[] = [
  // ---- accounts ----
  {
    method: "post", path: "/auth/register", tag: "accounts", summary: "Create a buyer account",
    description: "Answers a session: the bearer token for the order routes. Rate-limited per client address (every attempt).",
    body: { json: S.RegisterRequest },
    responses: { 201: { description: "Account created", content: [json(S.Session)] }, 400: invalid, 409: error("An account with this email already exists"), 429: rateLimited },
  },
  {
    method: "post", path: "/auth/login", tag: "accounts", summary: "Log in",
    description: "Rate-limited per client address and per account (failed attempts).",
    body: { json: S.LoginRequest },
    responses: { 200: { description: "Logged in", content: [json(S.Session)] }, 400: invalid, 401: error("Wrong email or password"), 429: rateLimited },
  },
  // ---- catalog and orders ----
  {
    method: "get", path: "/courses", tag: "orders", summary: "Courses for sale",
    responses: { 200: { description: "Active courses", content: [json(S.CourseList)] } },
  },
  {
    method: "post", path: "/orders", tag: "orders", summary: "Order courses", auth: true,
    description: "Prices the courses on the server and answers the order with its Alipay pay URL (page pay for " +
      "computers, wap pay for phone browsers: see `channel`). Rate-limited per client address and per buyer.",
    body: { json: S.CreateOrderRequest },
    responses: {
      201: { description: "Order created (UNPAID); open `payUrl` to pay", content: [json(S.OrderCreated)] },
      400: invalid, 401: unauthorized, 429: rateLimited,
    },
  },
  {
    method: "get", path: "/orders", tag: "orders", summary: "My orders, newest first",
    description: "With a bearer token (or `Accept: application/json`): the JSON list. A browser asking for HTML " +
      "without a token gets the \"my orders\" page, whose script calls this same route with the token.",
    auth: true,
    query: S.OrderListQuery,
    responses: {
      200: { description: "One page of orders (JSON), or the page (HTML)", content: [json(S.OrderList), page] },
      400: invalid, 401: unauthorized,
    },
  },
  {
    method: "get", path: "/orders/:id", tag: "orders", summary: "One of my orders", auth: true,
    params: { id: S.OrderIdParam },
    query: S.OrderPayQuery,
    responses: {
      200: { description: "The order; `payUrl` is set while it can still be paid", content: [json(S.OrderEnvelope)] },
      401: unauthorized, 404: error("No such order of this buyer (another buyer's order is also 404)"),
    },
  },
  {
    method: "post", path: "/orders/:id/cancel", tag: "orders", summary: "Cancel an unpaid order", auth: true,
    description: "Closes the trade at Alipay first; if Alipay says it was paid meanwhile, the order becomes PAID instead (409).",
    params: { id: S.OrderIdParam },
    responses: {
      200: { description: "Cancelled", content: [json(S.CancelResult)] },
      401: unauthorized, 404: error("No such order of this buyer"),
      409: error("The order is not UNPAID (or was settled while cancelling): `order` shows its state"),
      503: error("Alipay did not confirm the close; nothing changed, try again"),
    },
  },
  {
    method: "post", path: "/orders/:id/refund-requests", tag: "orders", summary: "Ask for a refund", auth: true,
    description: "Within REFUND_WINDOW_DAYS (default 7) of payment, a buyer may ask for their money back with a reason. " +
      "The request waits for staff, who approve or reject it; the order's `refunds` show its state and outcome.",
    params: { id: S.OrderIdParam },
    body: { json: S.RefundRequestBody },
    responses: {
      201: { description: "Request recorded (AWAITING_APPROVAL)", content: [json(S.RefundRequestCreated)] },
      400: invalid, 401: unauthorized,
      403: error("The refund window has closed"),
      404: error("No such order of this buyer"),
      409: error("Not refundable: not paid, nothing left to refund, amount too large, or a request already waits"),
    },
  },
  // ---- Alipay callbacks ----
  {
    method: "post", path: "/alipay/notify", tag: "alipay", summary: "Alipay asynchronous notification",
    description: "Called by Alipay, not by buyers. Verified (RSA2 over the form), recorded, queued; " +
      "answered exactly `success` once recorded, `failure` (400) when it does not verify, 5xx when it could " +
      "not be recorded (Alipay retries).",
    body: { form: "Alipay's signed notification, application/x-www-form-urlencoded (UTF-8)" },
    responses: {
      200: { description: "Recorded", content: [{ text: "`success`" }] },
      400: { description: "Not verified (forged, corrupted, unparseable)", content: [{ text: "`failure`" }] },
      413: { description: "Body larger than NOTIFY_BODY_LIMIT_BYTES", content: [{ text: "`failure`" }] },
      429: { description: "Not verified, and the sender's address is over NOTIFY_REJECTED_LIMIT_PER_ADDRESS: not recorded (a verified notify is never refused)", content: [{ text: "`failure`" }] },
      503: { description: "Not recorded (database or Redis unavailable): Alipay retries", content: [{ text: "`failure`" }] },
    },
  },
  {
    method: "get", path: "/alipay/return", tag: "alipay", summary: "Buyer's return from the Alipay cashier",
    description: "The browser is redirected here with signed query parameters. Never marks an order paid; prompts a payment check.",
    responses: {
      200: { description: "\"Confirming payment\" page", content: [page] }, 400: { description: "The return did not verify", content: [page] },
      429: { description: "The address is over RETURN_LIMIT_PER_ADDRESS: not recorded", content: [{ text: "too many requests; try again later" }] },
    },
  },
  // ---- pages ----
  { method: "get", path: "/", tag: "pages", summary: "Course catalog (page)", responses: { 200: { description: "HTML", content: [page] } } },
  {
    method: "get", path: "/signin", tag: "pages", summary: "Sign in or register (page)",
    query: z.object({ next: z.string().optional().meta({ description: "Same-site path to go to afterwards" }) }),
    responses: { 200: { description: "HTML", content: [page] } },
  },
  {
    method: "get", path: "/checkout", tag: "pages", summary: "Review the chosen courses and pay (page)",
    query: z.object({ course: z.array(z.coerce.number().int().positive()).optional().meta({ description: "Course ids (repeat the parameter)" }) }),
    responses: { 200: { description: "HTML", content: [page] } },
  },
  {
    method: "get", path: "/orders/:outTradeNo/result", tag: "pages", summary: "Payment result of an order (page)",
    params: { outTradeNo: z.string().regex(OUT_TRADE_NO) },
    responses: { 200: { description: "HTML; its script polls the order", content: [page] } },
  },
  {
    method: "get", path: "/assets/:name", tag: "pages", summary: "The pages' script and stylesheet (content-hashed names)",
    params: { name: z.string() },
    responses: { 200: { description: "The file, cacheable for a year", content: [{ script: true }] }, 404: error("No such asset") },
  },
  // ---- this document ----
  { method: "get", path: OPENAPI_PATH, tag: "documentation", summary: "This document", responses: { 200: { description: "OpenAPI 3.1", content: [{ text: "application/json" }] } } },
  { method: "get", path: DOCS_PATH, tag: "documentation", summary: "Interactive viewer of this document", responses: { 200: { description: "HTML", content: [page] } } },
  { method: "get", path: VIEWER_SCRIPT_PATH, tag: "documentation", summary: "The viewer's start-up script", responses: { 200: { description: "JavaScript", content: [{ script: true }] } } },
  { method: "get", path: `${DOCS_PATH}/swagger-ui-bundle.js`, tag: "documentation", summary: "Swagger UI (swagger-ui-dist)", responses: { 200: { description: "JavaScript", content: [{ script: true }] } } },
  { method: "get", path: `${DOCS_PATH}/swagger-ui.css`, tag: "documentation", summary: "Swagger UI's stylesheet", responses: { 200: { description: "CSS", content: [{ css: true }] } } },
  // ---- operations ----
  { method: "get", path: "/healthz", tag: "operations", summary: "Liveness", responses: { 200: { description: "The process is alive", content: [json(S.Health)] } } },
  {
    method: "get", path: "/readyz", tag: "operations", summary: "Readiness",
    responses: {
      200: { description: "PostgreSQL and Redis answer", content: [json(S.Readiness)] },
      503: { description: "Something is down (named in the body)", content: [json(S.Readiness)] },
    },
  },
  {
    method: "get", path: "/metrics", tag: "operations", summary: "Prometheus metrics",
    description: "Meant for the Prometheus scraper only: block it at the edge (docs/operations.md, Security).",
    responses: { 200: { description: "Prometheus text exposition format", content: [{ metrics: true }] } },
  },
];

/** `/orders/:id/cancel` → `/orders/{id}/cancel` */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

type JsonSchema = Record<string, unknown>;

const idOf = (schema: z.ZodType): string | undefined => z.globalRegistry.get(schema)?.id as string | undefined;
const ref = (id: string): JsonSchema => ({ $ref: `#/components/schemas/${id}` });

/** JSON Schema of a zod schema for OpenAPI: named schemas by reference, others inline. */
function schemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const id = idOf(schema);
  if (id) return ref(id);
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}

/** components.schemas: requests as zod accepts them (input), responses as the routes send them (output). */
function components(): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [schemas, io] of [[S.REQUEST_SCHEMAS, "input"], [S.RESPONSE_SCHEMAS, "output"]] as const) {
    const registry = z.registry<{ id: string }>();
    for (const s of schemas) registry.add(s, { id: idOf(s)! });
    const generated = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}`, unrepresentable: "any" }).schemas;
    for (const [id, schema] of Object.entries(generated)) {
      const { $schema: _s, $id: _i, ...rest } = schema as JsonSchema;
      out[id] = rest;
    }
  }
  return out;
}

function mediaTypes(content: Content[]): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const c of content) {
    if ("json" in c) out["application/json"] = { schema: schemaOf(c.json, "output") };
    else if ("html" in c) out["text/html"] = { schema: { type: "string" } };
    else if ("metrics" in c) out["text/plain; version=0.0.4"] = { schema: { type: "string" } };
    else if ("script" in c) out["text/javascript"] = { schema: { type: "string" } };
    else if ("css" in c) out["text/css"] = { schema: { type: "string" } };
    else out[c.text === "application/json" ? "application/json" : "text/plain"] = { schema: { type: "string", description: c.text } };
  }
  return out;
}

function parameters(op: OperationSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [name, schema] of Object.entries(op.params ?? {})) {
    out.push({ name, in: "path", required: true, schema: schemaOf(schema, "input") });
  }
  for (const [name, schema] of Object.entries(op.query?.shape ?? {}) as [string, z.ZodType][]) {
    const { description, ...s } = schemaOf(schema, "input");
    out.push({
      name, in: "query", required: !schema.safeParse(undefined).success,
      ...(description ? { description } : {}),
      ...(s.type === "array" ? { style: "form", explode: true } : {}),
      schema: s,
    });
  }
  return out;
}

function operation(op: OperationSpec): JsonSchema {
  const o: JsonSchema = {
    operationId: `${op.method}${openApiPath(op.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
  };
  const params = parameters(op);
  if (params.length) o.parameters = params;
  if (op.body && "json" in op.body) {
    o.requestBody = { required: true, content: { "application/json": { schema: schemaOf(op.body.json, "input") } } };
  } else if (op.body) {
    o.requestBody = { required: true, content: { "application/x-www-form-urlencoded": { schema: { type: "string", description: op.body.form } } } };
  }
  if (op.auth) o.security = [{ bearer: [] }];
  o.responses = Object.fromEntries(
    Object.entries(op.responses).map(([status, r]) => [status, { description: r.description, ...(r.content ? { content: mediaTypes(r.content) } : {}) }]),
  );
  return o;
}

const packageVersion = (JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string }).version;

/** The whole document. Pure: same schemas, same document. */
export function buildOpenApiDocument(publicUrl: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of OPERATIONS) (paths[openApiPath(op.path)] ??= {})[op.method] = operation(op);
  return {
    openapi: "3.1.0",
    info: {
      title: "coursepay buyer API",
      version: packageVersion,
      description: "Buyer accounts, the course catalog, orders paid with Alipay page pay, and Alipay's callbacks. " +
        "Amounts are integer fen (`totalFen`) with the yuan string beside them (`total`). Every response carries " +
        "an `X-Request-Id` header; error bodies repeat it.",
    },
    servers: [{ url: publicUrl }],
    tags: ["accounts", "orders", "alipay", "pages", "documentation", "operations"].map((name) => ({ name })),
    paths,
    components: {
      schemas: components(),
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "The `token` of /auth/login or /auth/register" } },
    },
  };
}

// The viewer is Swagger UI from node_modules (swagger-ui-dist): nothing from a CDN. Only the three
// files the page needs are served, plus our initializer (no inline script: CSP script-src 'self').
const swaggerUiDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const VIEWER_FILES: Record<string, { file: string; type: string }> = {
  [VIEWER_SCRIPT_PATH]: { file: join(import.meta.dirname, "openapi-viewer.js"), type: "text/javascript; charset=utf-8" },
  [`${DOCS_PATH}/swagger-ui-bundle.js`]: { file: join(swaggerUiDir, "swagger-ui-bundle.js"), type: "text/javascript; charset=utf-8" },
  [`${DOCS_PATH}/swagger-ui.css`]: { file: join(swaggerUiDir, "swagger-ui.css"), type: "text/css; charset=utf-8" },
};

const viewerPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>coursepay buyer API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
<script src="${DOCS_PATH}/swagger-ui-bundle.js" defer></script>
<script src="${VIEWER_SCRIPT_PATH}" defer></script>
</head>
<body>
<div id="swagger-ui" data-spec="${OPENAPI_PATH}"><p>Loading ${OPENAPI_PATH}…</p></div>
</body>
</html>
`;

/** GET /api/openapi.json, /api/docs and the viewer's script. */
export function openApiRoutes(publicUrl: string): Router {
  const document = JSON.stringify(buildOpenApiDocument(publicUrl));
  const router = Router();
  router.get(OPENAPI_PATH, (_req, res) => {
    res.setHeader("Cache-Control", "no-cache");
    res.type("application/json").send(document);
  });
  router.get(DOCS_PATH, securityHeaders(), (_req, res) => {
    res.setHeader("Cache-Control", "no-cache");
    res.type("html").send(viewerPage);
  });
  for (const [path, { file, type }] of Object.entries(VIEWER_FILES)) {
    const body = readFileSync(file);
    router.get(path, (_req, res) => {
      res.setHeader("Cache-Control", "no-cache");
      res.setHeader("X-Content-Type-Options", "nosniff");
      res.type(type).send(body);
    });
  }
  return router;
}
