// The admin's components bundle is built once per content and then reused from .build/ by every
// process (admin/bundle.ts), instead of rollup + babel in each admin process.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import AdminJS from "adminjs";
import pino from "pino";
import { componentBundle } from "../../../admin/bundle.ts";
import { createComponents } from "../../../admin/components/index.ts";

function recordingLogger() {
  const messages: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => messages.push(JSON.parse(line).msg) });
  return { logger, messages };
}

test("components bundle: built with every component, then reused by the next process's build", { timeout: 300_000 }, async () => {
  const first = recordingLogger();
  const code = await componentBundle(new AdminJS({ componentLoader: createComponents().loader }), first.logger).build();
  for (const name of Object.keys(createComponents().components)) assert.match(code, new RegExp(`AdminJS\\.UserComponents\\.${name} = `), name);

  // A second admin (as in another process): same components, same content → the stored bundle.
  const second = recordingLogger();
  const again = await componentBundle(new AdminJS({ componentLoader: createComponents().loader }), second.logger).build();
  assert.equal(again, code);
  assert.deepEqual(second.messages, ["admin components bundle reused"]);

  // Other components → another key: bundled, not served from the stored one.
  const third = recordingLogger();
  const { loader } = createComponents();
  loader.override("Yuan", fileURLToPath(new URL("../../../admin/components/StatusBadge.ts", import.meta.url)));
  const other = await componentBundle(new AdminJS({ componentLoader: loader }), third.logger).build();
  assert.deepEqual(third.messages, ["admin components bundled"]);
  assert.notEqual(other, code);
});
