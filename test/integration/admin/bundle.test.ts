// The admin's components bundle is built once per content and then reused from .build/ by every
// process (admin/bundle.ts), instead of rollup + babel in each admin process.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
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

  // Other components → another key: bundled, not served from the stored one. (A component file of
  // this run's own, so a bundle stored by an earlier run of this test cannot answer.)
  const third = recordingLogger();
  const { loader } = createComponents();
  const dir = mkdtempSync(path.join(tmpdir(), "coursepay-component-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, "Yuan.js"), "export default function Yuan() { return null; }\n");
  loader.override("Yuan", path.join(dir, "Yuan.js"));
  const other = await componentBundle(new AdminJS({ componentLoader: loader }), third.logger).build();
  assert.deepEqual(third.messages, ["admin components bundled"]);
  assert.notEqual(other, code);
});

test("components bundle: the admin's env option is appended when served, not built in (one stored bundle for every configuration)", { timeout: 300_000 }, async () => {
  const withZone = (zone: string) => new AdminJS({ componentLoader: createComponents().loader, env: { DISPLAY_TIME_ZONE: zone } });
  const first = recordingLogger();
  const shanghai = await componentBundle(withZone("Asia/Shanghai"), first.logger).build();
  assert.ok(shanghai.endsWith(`\nAdminJS.env.DISPLAY_TIME_ZONE = "Asia/Shanghai"\n`), shanghai.slice(-200));

  // Another zone: the same stored bundle, with its own assignment.
  const second = recordingLogger();
  const utc = await componentBundle(withZone("UTC"), second.logger).build();
  assert.deepEqual(second.messages, ["admin components bundle reused"]);
  assert.ok(utc.endsWith(`\nAdminJS.env.DISPLAY_TIME_ZONE = "UTC"\n`), utc.slice(-200));
  assert.equal(utc.slice(0, utc.lastIndexOf("\nAdminJS.env.")), shanghai.slice(0, shanghai.lastIndexOf("\nAdminJS.env.")));
  assert.doesNotMatch(utc, /"Asia\/Shanghai"/);
});
