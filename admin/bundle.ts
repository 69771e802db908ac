// The custom components' browser bundle (components.bundle.js), built in memory once per process.
//
// AdminJS's own way: in development it bundles on the first request and caches the result in
// ./.adminjs/bundle.js, which it then serves forever — also after the components changed (stale
// until someone deletes the folder), and shared by every process started in the same directory; in
// production (NODE_ENV=production) it bundles at startup to the same file. Instead this module runs
// the same bundler configuration (rollup + babel, everything offline) into a private temporary
// folder and serves the result from memory. Measured here: ~1.5 s on first use (most of it loading
// rollup and babel), 95 KB with its inline source map outside production.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { RequestHandler } from "express";
import type AdminJS from "adminjs";
import type { Logger } from "pino";
import { AssetBundler, componentsBundler, generateUserComponentEntry } from "adminjs/bundler";

export const COMPONENTS_BUNDLE_PATH = "/frontend/assets/components.bundle.js";

export interface ComponentBundle {
  /** Serves the bundle (building it on first use). Mount at COMPONENTS_BUNDLE_PATH. */
  handler: RequestHandler;
  build(): Promise<string>;
}

export function componentBundle(admin: AdminJS, logger: Logger): ComponentBundle {
  let built: Promise<string> | undefined;

  const build = () => {
    built ??= (async () => {
      const started = Date.now();
      // Removed as soon as the bundle is in memory: nothing is left behind, even if the process is
      // killed later.
      const dir = await mkdtemp(path.join(os.tmpdir(), "coursepay-admin-bundle-"));
      try {
        const entry = path.join(dir, "entry.js");
        const out = path.join(dir, "bundle.js");
        await writeFile(entry, generateUserComponentEntry(admin, dir));
        await new AssetBundler({ ...componentsBundler.inputOptions, input: entry }, { ...componentsBundler.outputOptions, file: out }).build();
        const code = await readFile(out, "utf8");
        logger.info({ ms: Date.now() - started, bytes: code.length }, "admin components bundled");
        return code;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    // A failed build is retried on the next request rather than cached.
    built.catch((e) => {
      logger.error({ err: e }, "admin components bundle failed");
      built = undefined;
    });
    return built;
  };

  return {
    build,
    handler: (_req, res, next) => {
      build().then((code) => res.type("text/javascript; charset=utf-8").send(code), next);
    },
  };
}
