// The custom components' browser bundle (components.bundle.js): built once, kept on disk, served
// from memory.
//
// AdminJS's own way: in development it bundles on the first request and caches the result in
// ./.adminjs/bundle.js, which it then serves forever — also after the components changed (stale
// until someone deletes the folder); in production (NODE_ENV=production) it bundles at every start.
// Bundling means loading rollup and babel and running them: ~1.5 s of CPU on a quiet machine, tens of
// seconds of wall time on a loaded one, in every admin process.
//
// Instead the same bundler configuration (rollup + babel, everything offline) runs at most once per
// content: the result is stored in .build/admin-components/ together with what it was built from —
// the generated entry (which components, from where), NODE_ENV (inlined into the bundle), and a
// SHA-256 of every file rollup read. A process reuses a stored bundle only if all of these still
// match, so an edited component (or anything it imports) is rebuilt, never served stale.
// `npm run build` (also run by `npm install`) stores it ahead of time for the common NODE_ENVs.
// The admin's `env` option (AdminJS.env in the browser: DISPLAY_TIME_ZONE) is run-time configuration,
// so it is not built in: it is appended to the stored bundle when served, as the same assignments
// AdminJS's generated entry would make. So the bundle built at build time is the one every admin
// process uses, whatever its configuration (it used to be rebuilt by the first admin to start).
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { RequestHandler } from "express";
import AdminJS, { ComponentLoader } from "adminjs";
import type { Logger } from "pino";
import type { RollupOptions } from "rollup";
import { createComponents } from "./components/index.ts";

export const COMPONENTS_BUNDLE_PATH = "/frontend/assets/components.bundle.js";

/** Where built bundles are kept (gitignored build output, beside the compiled roles). */
export const BUNDLE_CACHE_DIR = path.resolve(import.meta.dirname, "..", ".build", "admin-components");

export interface ComponentBundle {
  /** Serves the bundle (building it on first use). Mount at COMPONENTS_BUNDLE_PATH. */
  handler: RequestHandler;
  /** The code served: the stored (or newly built) bundle followed by the admin's `env` assignments. */
  build(): Promise<string>;
}

interface Stored {
  /** sha256 of NODE_ENV + the entry text */
  key: string;
  /** absolute path → sha256 of its content, for every file rollup read */
  inputs: Record<string, string>;
  code: string;
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
// As the bundler reads it (it inlines `process.env.NODE_ENV || "development"`).
const nodeEnv = () => process.env.NODE_ENV || "development";
/** One file per key (components + NODE_ENV): variants do not overwrite each other. */
const cacheFile = (key: string) => path.join(BUNDLE_CACHE_DIR, `${key.slice(0, 24)}.json`);

async function readStored(key: string): Promise<string | null> {
  let stored: Stored;
  try {
    stored = JSON.parse(await readFile(cacheFile(key), "utf8")) as Stored;
  } catch {
    return null;
  }
  if (stored.key !== key) return null;
  for (const [file, hash] of Object.entries(stored.inputs)) {
    const content = await readFile(file).catch(() => null);
    if (!content || sha256(content) !== hash) return null;
  }
  return stored.code;
}

async function store(entry: Stored): Promise<void> {
  await mkdir(BUNDLE_CACHE_DIR, { recursive: true });
  // Written whole, then renamed: a concurrent reader sees the old bundle or the new one.
  const tmp = `${cacheFile(entry.key)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(entry));
  await rename(tmp, cacheFile(entry.key));
}

/**
 * Bundle with AdminJS's own rollup configuration; returns the code and every file it read. rollup,
 * babel and their plugins load only here (importing them costs seconds of CPU).
 */
async function bundle(admin: AdminJS): Promise<{ code: string; inputs: Record<string, string> }> {
  const { componentsBundler, generateUserComponentEntry } = await import("adminjs/bundler");
  const { rollup } = await import("rollup");
  const dir = await mkdtemp(path.join(os.tmpdir(), "coursepay-admin-bundle-"));
  try {
    const entry = path.join(dir, "entry.js");
    // Without the `env` option: served beside the bundle (envAssignments).
    const withoutEnv = { options: { ...admin.options, env: {} }, componentLoader: admin.componentLoader } as unknown as AdminJS;
    await writeFile(entry, generateUserComponentEntry(withoutEnv, dir));
    const build = await rollup({ ...componentsBundler.inputOptions, input: entry } as RollupOptions);
    try {
      const { output } = await build.generate(componentsBundler.outputOptions);
      const inputs: Record<string, string> = {};
      for (const file of build.watchFiles) {
        // rollup's virtual modules ("\0…") and the temporary entry are not inputs.
        if (!path.isAbsolute(file) || file.startsWith(dir) || !existsSync(file)) continue;
        inputs[file] = sha256(await readFile(file));
      }
      return { code: output[0].code, inputs };
    } finally {
      await build.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What the generated entry depends on (AdminJS's generateUserComponentEntry, without `env`): the
 * components registered with the admin's and AdminJS's static ComponentLoader; plus NODE_ENV, which
 * the bundler inlines.
 */
function bundleKey(admin: AdminJS): string {
  const staticLoader = (AdminJS as unknown as { __unsafe_staticComponentLoader?: ComponentLoader }).__unsafe_staticComponentLoader;
  return sha256(JSON.stringify({
    nodeEnv: nodeEnv(),
    components: admin.componentLoader.getComponents(),
    staticComponents: staticLoader?.getComponents() ?? {},
  }));
}

/** The admin's `env` option as AdminJS's generated entry sets it (after the components are registered). */
export function envAssignments(env: Record<string, unknown> = {}): string {
  return Object.entries(env).map(([key, value]) => `AdminJS.env.${key} = ${JSON.stringify(value)}\n`).join("");
}

export function componentBundle(admin: AdminJS, logger: Logger): ComponentBundle {
  let built: Promise<string> | undefined;
  const served = (code: string) => `${code}\n${envAssignments(admin.options.env)}`;

  const build = () => {
    built ??= (async () => {
      const started = Date.now();
      const key = bundleKey(admin);
      const stored = await readStored(key);
      if (stored !== null) {
        logger.debug({ ms: Date.now() - started, bytes: stored.length }, "admin components bundle reused");
        return served(stored);
      }
      const { code, inputs } = await bundle(admin);
      await store({ key, inputs, code }).catch((e) => logger.warn({ err: e }, "admin components bundle not stored (rebuilt next start)"));
      logger.info({ ms: Date.now() - started, bytes: code.length }, "admin components bundled");
      return served(code);
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

/** For `npm run build`: build and store the bundle the admin will ask for (same components, same entry). */
export async function prebuildComponentsBundle(logger: Logger): Promise<void> {
  const admin = new AdminJS({ componentLoader: createComponents().loader });
  await componentBundle(admin, logger).build();
}
