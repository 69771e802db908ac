// The OpenAPI document is well-formed (every reference resolves, every path parameter is declared,
// operation ids are unique) and its schemas are the routes' own zod schemas, converted — not copies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { buildOpenApiDocument, OPERATIONS, openApiPath } from "../../../api/openapi.ts";
import * as S from "../../../api/schemas.ts";

const doc = buildOpenApiDocument("https://shop.example") as any;

function* refs(node: unknown): Generator<string> {
  if (Array.isArray(node)) for (const n of node) yield* refs(n);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") yield v;
      else yield* refs(v);
    }
  }
}

test("is OpenAPI 3.1 with servers, tags and a bearer scheme", () => {
  assert.equal(doc.openapi, "3.1.0");
  assert.deepEqual(doc.servers, [{ url: "https://shop.example" }]);
  assert.equal(doc.components.securitySchemes.bearer.scheme, "bearer");
  const tags = new Set(doc.tags.map((t: { name: string }) => t.name));
  for (const op of OPERATIONS) assert.ok(tags.has(op.tag), `tag ${op.tag} declared`);
});

test("every $ref resolves to a component", () => {
  const all = [...refs(doc)];
  assert.ok(all.length > 20);
  for (const ref of all) {
    const m = /^#\/components\/schemas\/(\w+)$/.exec(ref);
    assert.ok(m, `local component reference: ${ref}`);
    assert.ok(doc.components.schemas[m[1]!], `${ref} exists`);
  }
});

test("operation ids are unique and every {param} in a path is declared", () => {
  const ids = new Set<string>();
  for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      assert.ok(!ids.has(op.operationId), `${op.operationId} unique`);
      ids.add(op.operationId);
      const declared = (op.parameters ?? []).filter((p: any) => p.in === "path").map((p: any) => p.name).sort();
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      assert.deepEqual(declared, inPath, `${method} ${path}`);
      assert.ok(Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
    }
  }
  assert.equal(ids.size, OPERATIONS.length);
});

test("request bodies are the routes' zod schemas as zod converts them (input side)", () => {
  for (const schema of S.REQUEST_SCHEMAS) {
    const id = z.globalRegistry.get(schema)!.id as string;
    // A named schema converts to {$ref, $defs: {<id>: …}}: the definition is the component.
    const converted = z.toJSONSchema(schema, { io: "input" }) as { $defs: Record<string, unknown> };
    assert.deepEqual(doc.components.schemas[id], converted.$defs[id], id);
  }
  const register = doc.components.schemas.RegisterRequest;
  assert.deepEqual(register.required, ["email", "password"]);
  assert.equal(register.properties.password.minLength, 8);
  const order = doc.components.schemas.CreateOrderRequest;
  // Course ids and which cashier to open (page/wap pay): no amount is accepted from the client.
  assert.deepEqual(Object.keys(order.properties), ["courseIds", "channel"], "no amount is accepted from the client");
  assert.deepEqual(order.properties.channel.enum, ["page", "wap"]);
  assert.equal(order.properties.courseIds.maxItems, 50);
});

test("query parameters carry the routes' bounds and defaults", () => {
  const list = doc.paths["/orders"].get.parameters;
  const limit = list.find((p: any) => p.name === "limit");
  assert.deepEqual([limit.in, limit.required, limit.schema.minimum, limit.schema.maximum, limit.schema.default], ["query", false, 1, 100, 20]);
  const id = doc.paths["/orders/{id}"].get.parameters[0];
  assert.deepEqual([id.in, id.required, id.schema.type, id.schema.maximum], ["path", true, "integer", 2_147_483_647]);
});

test("express paths convert to OpenAPI templates", () => {
  assert.equal(openApiPath("/orders/:id/cancel"), "/orders/{id}/cancel");
  assert.equal(openApiPath("/orders/:outTradeNo/result"), "/orders/{outTradeNo}/result");
  assert.equal(openApiPath("/courses"), "/courses");
});
