// The OpenAPI document against the running api: every route the express app serves is in the
// document (a new route without documentation fails here), the document is served with its viewer,
// and real responses match the schemas the document declares for their status — field for field.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Express } from "express";
import { z } from "zod";
import { createApiApp } from "../../../api/app.ts";
import { DOCS_PATH, OPENAPI_PATH, VIEWER_SCRIPT_PATH, openApiPath } from "../../../api/openapi.ts";
import { RESPONSE_SCHEMAS } from "../../../api/schemas.ts";
import { createRedis } from "../../../core/redis/index.ts";
import { RoleLifecycle } from "../../../core/runtime/index.ts";
import { startStack, type Stack } from "../../support/index.ts";

let stack: Stack;
let doc: any;
before(async () => {
  stack = await startStack({ name: "openapi", worker: false });
  doc = await (await fetch(`${stack.apiUrl}${OPENAPI_PATH}`)).json();
});
after(async () => {
  await stack?.close();
});

/**
 * Every (method, path) an express 5 app routes, nested routers included. Express keeps no mount
 * path strings, but router 2.x layers keep the path they were created with (`rawPath`).
 */
function listRoutes(app: Express): { method: string; path: string }[] {
  type Layer = { route?: { path: string | string[]; methods: Record<string, boolean> }; handle?: { stack?: Layer[] }; rawPath?: unknown };
  const out: { method: string; path: string }[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) {
          for (const [method, on] of Object.entries(layer.route.methods)) if (on) out.push({ method, path: `${prefix}${p}` });
        }
      } else if (layer.handle?.stack) {
        assert.ok(typeof layer.rawPath === "string", "routers are mounted at string paths");
        walk(layer.handle.stack, layer.rawPath === "/" ? prefix : `${prefix}${layer.rawPath}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, "");
  return out;
}

test("every route of the api is in the document, and the document has no route the api lacks", async () => {
  const redis = createRedis(stack.config.redisUrl);
  redis.on("error", () => {});
  const lifecycle = new RoleLifecycle("openapi-test", stack.logger);
  try {
    const app = createApiApp({ role: "api", config: stack.config, logger: stack.logger, prisma: stack.prisma, redis, lifecycle }, stack.api);
    const routes = listRoutes(app);
    assert.ok(routes.length >= 15, `found ${routes.length} routes`);
    const missing = routes.filter((r) => !doc.paths[openApiPath(r.path)]?.[r.method]).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    assert.deepEqual([...new Set(missing)], [], "routes missing from the OpenAPI document (add them to OPERATIONS in api/openapi.ts)");
    const served = new Set(routes.map((r) => `${r.method} ${openApiPath(r.path)}`));
    const documented = Object.entries<Record<string, unknown>>(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    assert.deepEqual(documented.filter((d) => !served.has(d)), [], "documented operations the api does not serve");
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
});

test("the viewer is Swagger UI from this origin with no inline script, and its files are served", async () => {
  const page = await fetch(`${stack.apiUrl}${DOCS_PATH}`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'(;|$)/);
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.deepEqual(scripts.map((s) => /src="([^"]+)"/.exec(s[1]!)?.[1]), [`${DOCS_PATH}/swagger-ui-bundle.js`, VIEWER_SCRIPT_PATH]);
  for (const s of scripts) assert.equal(s[2]!.trim(), "", "no inline script");
  assert.doesNotMatch(html, /https?:\/\/(?!127\.0\.0\.1)/, "nothing from another origin");
  const bundle = await fetch(`${stack.apiUrl}${DOCS_PATH}/swagger-ui-bundle.js`);
  assert.equal(bundle.status, 200);
  assert.match(bundle.headers.get("content-type") ?? "", /javascript/);
  assert.match(await bundle.text(), /SwaggerUIBundle/);
  const css = await fetch(`${stack.apiUrl}${DOCS_PATH}/swagger-ui.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get("content-type") ?? "", /text\/css/);
  const script = await fetch(`${stack.apiUrl}${VIEWER_SCRIPT_PATH}`);
  assert.equal(script.status, 200);
  assert.match(await script.text(), /SwaggerUIBundle\(/);
  assert.equal(doc.servers[0].url, stack.apiUrl);
});

// ---- responses against the document --------------------------------------------------------------

const byId = new Map(RESPONSE_SCHEMAS.map((s) => [z.globalRegistry.get(s)!.id as string, s]));

/**
 * Checks a response against what the document declares for its operation and status: the status is
 * documented, and a JSON body parses with the zod schema behind the $ref without losing a field
 * (zod drops unknown keys, so an undocumented field makes the parsed value differ).
 */
async function conforms(method: string, template: string, res: Response): Promise<any> {
  const op = doc.paths[template]?.[method];
  assert.ok(op, `${method} ${template} documented`);
  const declared = op.responses[String(res.status)];
  assert.ok(declared, `${method} ${template}: status ${res.status} is documented (${Object.keys(op.responses)})`);
  const body = await res.json();
  const ref: string | undefined = declared.content?.["application/json"]?.schema?.$ref;
  assert.ok(ref, `${method} ${template} ${res.status}: a JSON schema is declared`);
  const schema = byId.get(ref.split("/").pop()!)!;
  const parsed = schema.safeParse(body);
  assert.ok(parsed.success, `${method} ${template} ${res.status}: ${JSON.stringify(parsed.error?.issues)}\n${JSON.stringify(body)}`);
  assert.deepEqual(parsed.data, body, `${method} ${template} ${res.status}: every field of the body is documented`);
  return body;
}

test("real responses match the documented schemas, errors included", async () => {
  const email = `openapi-${Date.now()}@test.local`;
  const json = (body: unknown) => ({ method: "POST", body: JSON.stringify(body) });
  const session = await conforms("post", "/auth/register", await stack.fetchApi("/auth/register", json({ email, password: "long enough pw" })));
  await conforms("post", "/auth/register", await stack.fetchApi("/auth/register", json({ email, password: "long enough pw" })));
  await conforms("post", "/auth/register", await stack.fetchApi("/auth/register", json({ email: "nope", password: "x" })));
  await conforms("post", "/auth/login", await stack.fetchApi("/auth/login", json({ email, password: "long enough pw" })));
  await conforms("post", "/auth/login", await stack.fetchApi("/auth/login", json({ email, password: "wrong password" })));
  const token = session.token as string;

  const course = await stack.newCourse(1990);
  const courses = await conforms("get", "/courses", await stack.fetchApi("/courses"));
  assert.ok(courses.courses.some((c: { id: number }) => c.id === course.id));
  const created = await conforms("post", "/orders", await stack.fetchApi("/orders", { ...json({ courseIds: [course.id] }), token }));
  await conforms("post", "/orders", await stack.fetchApi("/orders", { ...json({ courseIds: [] }), token }));
  await conforms("post", "/orders", await stack.fetchApi("/orders", json({ courseIds: [course.id] })));
  await conforms("get", "/orders", await stack.fetchApi("/orders?limit=1", { token }));
  await conforms("get", "/orders", await stack.fetchApi("/orders?limit=0", { token }));
  await conforms("get", "/orders/{id}", await stack.fetchApi(`/orders/${created.order.id}`, { token }));
  await conforms("get", "/orders/{id}", await stack.fetchApi("/orders/999999", { token }));
  await conforms("post", "/orders/{id}/cancel", await stack.fetchApi(`/orders/${created.order.id}/cancel`, { method: "POST", token }));
  await conforms("post", "/orders/{id}/cancel", await stack.fetchApi(`/orders/${created.order.id}/cancel`, { method: "POST", token }));
  await conforms("get", "/healthz", await stack.fetchApi("/healthz"));
  await conforms("get", "/readyz", await stack.fetchApi("/readyz"));
});
