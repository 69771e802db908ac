// `npm run build` (also run by `npm install`): compile the TypeScript that runs in production to
// JavaScript in .build/, once, so roles start without transpiling (tsx) at every start; bundle each
// process's entry with its packages into one program; then build the admin's components bundle ahead
// of time (admin/bundle.ts keeps it keyed by its inputs).
//
// Plain JavaScript on purpose: it runs before anything is compiled.
//   node scripts/build.mjs            compile what changed (nothing to do: ~0.1 s), then the admin bundle
//   node scripts/build.mjs --if-stale compile only if a source is newer than its output (npm start)
//
// Two outputs, both under .build/:
// - Every .ts/.tsx file outside test/, bench/ and node_modules, one output file per source
//   (.build/<same path>.js): new files are picked up with no list to keep. Relative imports of .ts
//   files become .js; packages stay imports. (Tools such as admin/prebuild-bundle run from these.)
// - The processes' entries (ENTRIES: the four roles and the launcher) are then bundled over their
//   per-file output, with the packages they import: a role loads a few large files instead of
//   ~2,000 small ones (module resolution, file reads, CommonJS/ESM translation were most of a
//   role's start-up CPU; docs/benchmarks.md "Start-up"). Code shared by several entries goes to
//   .build/chunks/, and a dynamic import() becomes a chunk loaded on first use.
// In both, `import.meta.url` / `dirname` / `filename` (and a CommonJS package's __dirname /
// __filename) keep naming the SOURCE file, so code that reads files beside itself (page assets, the
// admin's components, package.json, a package's own assets) finds them exactly as under tsx.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const OUT_DIR = path.join(root, ".build");
const SKIP = new Set(["node_modules", "test", "bench", ".build", ".data", ".adminjs", ".git", "test-artifacts", "generated"]);

/** Sources to compile, relative to the root. */
export function sources(dir = root, rel = "") {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") && entry.isDirectory()) continue;
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!SKIP.has(entry.name)) out.push(...sources(path.join(dir, entry.name), relPath));
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts") && (rel !== "" || entry.name !== "prisma.config.ts")) {
      out.push(relPath);
    }
  }
  return out;
}

export const outputOf = (src) => path.join(OUT_DIR, src.replace(/\.tsx?$/, ".js"));

/** True when some source has no output or is newer than it. */
export function isStale(files = sources()) {
  return files.some((src) => {
    const out = outputOf(src);
    return !existsSync(out) || statSync(out).mtimeMs < statSync(path.join(root, src)).mtimeMs;
  });
}

export async function compile(files = sources()) {
  const esbuild = await import("esbuild");
  const started = Date.now();
  // Relative imports: .ts/.tsx → the compiled .js beside it in .build; anything else (a .js or .json
  // file of the source tree) → the source file itself. Packages and node: builtins stay as they are.
  const rewrite = {
    name: "coursepay-per-file",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return undefined;
        if (!args.path.startsWith(".")) return { path: args.path, external: true };
        if (/\.tsx?$/.test(args.path)) return { path: args.path.replace(/\.tsx?$/, ".js"), external: true };
        const target = path.resolve(path.dirname(args.importer), args.path);
        let back = path.relative(path.dirname(outputOf(path.relative(root, args.importer))), target).replaceAll("\\", "/");
        if (!back.startsWith(".")) back = `./${back}`;
        return { path: back, external: true };
      });
    },
  };
  // One build per source extension: the banner maps the output's URL back to its source's.
  for (const ext of [".ts", ".tsx"]) {
    const entryPoints = files.filter((f) => f.endsWith(ext)).map((f) => path.join(root, f));
    if (entryPoints.length === 0) continue;
    await esbuild.build({
      entryPoints,
      outdir: OUT_DIR,
      outbase: root,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: "linked",
      logLevel: "warning",
      plugins: [rewrite],
      define: { "import.meta.url": "__sourceUrl", "import.meta.dirname": "__sourceDirname", "import.meta.filename": "__sourceFilename" },
      banner: {
        js: [
          `import { fileURLToPath as __fileURLToPath } from "node:url";`,
          // .build/<path>.js → <path>${ext} (the last "/.build/" in the URL: the root may contain one)
          `const __sourceUrl = import.meta.url.replace(/\\/\\.build\\/(?!.*\\/\\.build\\/)/, "/").replace(/\\.js$/, ${JSON.stringify(ext)});`,
          `const __sourceFilename = __fileURLToPath(__sourceUrl);`,
          `const __sourceDirname = __sourceFilename.slice(0, __sourceFilename.lastIndexOf("/"));`,
        ].join("\n"),
      },
    });
  }
  return Date.now() - started;
}

/** The programs a process starts from (their per-file output is replaced by the bundle). */
export const ENTRIES = ["api/main.ts", "worker/main.ts", "admin/main.ts", "sandbox/main.ts", "scripts/start.ts"];

/**
 * Packages left outside the bundles (imported from node_modules at run time), each for a reason:
 * - @prisma/client, .prisma/client: the generated client finds its schema and query compiler (wasm)
 *   beside itself;
 * - rollup, adminjs/bundler: the admin's components bundler, loaded only when the stored components
 *   bundle does not match (admin/bundle.ts); rollup has a native binding;
 * - esbuild: native binary (only the build uses it); pg-native: pg's optional native driver (absent).
 */
const EXTERNAL = ["@prisma/client", ".prisma/client", "rollup", "adminjs/bundler", "esbuild", "pg-native"];

/**
 * AdminJS imports its own components bundler (rollup, babel and its presets: ~1 s of CPU to load) from
 * its main module, for AdminJS.initialize() and its bundleComponents route. The admin uses neither
 * (admin/app.ts serves admin/bundle.ts's stored bundle instead), so the bundled admin gets this in its
 * place; `adminjs/bundler` itself (admin/bundle.ts, on a changed component) stays the real one.
 */
const ADMINJS_BUNDLER_STANDIN = `const unused = () => { throw new Error("AdminJS's in-process components bundler is not part of the bundled admin: admin/bundle.ts builds the components bundle"); };
export default { createEntry: unused, build: unused, watch: unused };`;

export async function bundle(entries = ENTRIES) {
  const esbuild = await import("esbuild");
  const started = Date.now();
  const chunks = path.join(OUT_DIR, "chunks");
  rmSync(chunks, { recursive: true, force: true });
  // Every output file sits two levels below the root (.build/<dir>/<file>.js, .build/chunks/…), so
  // each can find the root from its own URL; a source's place is written relative to the root.
  for (const e of entries) if (e.split("/").length !== 2) throw new Error(`build: entry ${e} must be <dir>/<file>`);
  const fromRoot = (file) => JSON.stringify(path.relative(root, file).replaceAll("\\", "/"));
  const sourcePlaces = {
    name: "coursepay-source-places",
    setup(build) {
      build.onResolve({ filter: /(^|\/)components\.bundler\.js$/ }, (args) =>
        /[\\/]node_modules[\\/]adminjs[\\/]lib[\\/]/.test(args.importer) && !/[\\/]bundler[\\/]/.test(args.importer)
          ? { path: "adminjs-components-bundler", namespace: "coursepay-standin" }
          : undefined);
      build.onLoad({ filter: /.*/, namespace: "coursepay-standin" }, () => ({ contents: ADMINJS_BUNDLER_STANDIN, loader: "js" }));
      build.onLoad({ filter: /\.(m?js|cjs|tsx?)$/ }, (args) => {
        let text = readFileSync(args.path, "utf8");
        const here = `__coursepaySource(${fromRoot(args.path)})`;
        let changed = false;
        if (/import\.meta\.(url|dirname|filename)/.test(text)) {
          text = text
            .replaceAll("import.meta.url", `${here}.href`)
            .replaceAll("import.meta.dirname", `__coursepayDirname(${here})`)
            .replaceAll("import.meta.filename", `__coursepayFilename(${here})`);
          changed = true;
        }
        // CommonJS's own __dirname/__filename (undefined in an ES module bundle), unless the file declares them.
        if (/\b__(dirname|filename)\b/.test(text) && !/\b(const|let|var)\s+__(dirname|filename)\b/.test(text)) {
          text = `var __filename = __coursepayFilename(${here}), __dirname = __coursepayDirname(${here});\n${text}`;
          changed = true;
        }
        if (!changed) return undefined;
        const loader = args.path.endsWith(".tsx") ? "tsx" : args.path.endsWith(".ts") ? "ts" : "js";
        return { contents: text, loader, resolveDir: path.dirname(args.path) };
      });
    },
  };
  await esbuild.build({
    entryPoints: entries.map((e) => path.join(root, e)),
    outdir: OUT_DIR,
    outbase: root,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    // Fewer bytes to read and parse at every start; names kept (libraries compare constructor names,
    // e.g. @adminjs/express checks for "AdminJS") and so are the source maps.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    logLevel: "warning",
    external: EXTERNAL,
    plugins: [sourcePlaces],
    banner: {
      js: [
        `import { createRequire as __coursepayCreateRequire } from "node:module";`,
        `import { fileURLToPath as __coursepayFileURLToPath } from "node:url";`,
        // CommonJS code inside the bundle may still require() what is not bundled (Node builtins, EXTERNAL).
        `const require = __coursepayCreateRequire(import.meta.url);`,
        `const __coursepayRoot = new URL("../../", import.meta.url);`,
        `const __coursepaySource = (fromRoot) => new URL(fromRoot, __coursepayRoot);`,
        `const __coursepayFilename = (url) => __coursepayFileURLToPath(url);`,
        `const __coursepayDirname = (url) => __coursepayFileURLToPath(new URL(".", url)).replace(/[\\\\/]$/, "");`,
      ].join("\n"),
    },
  });
  return Date.now() - started;
}

/** The admin's components bundle for each NODE_ENV a process may run with (each is a separate build). */
function prebuildAdminBundle() {
  for (const env of ["production", "development", "test"]) {
    const r = spawnSync(process.execPath, [path.join(OUT_DIR, "admin", "prebuild-bundle.js")], {
      cwd: root,
      env: { ...process.env, NODE_ENV: env },
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (r.status !== 0) {
      // Not fatal: the admin builds (and stores) the bundle itself on first start.
      process.stderr.write(`[build] admin components bundle for NODE_ENV=${env} not prebuilt (exit ${r.status}); the admin will build it on first start\n`);
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = new Set(process.argv.slice(2));
  const files = sources();
  if (args.has("--clean")) rmSync(OUT_DIR, { recursive: true, force: true });
  if (!args.has("--if-stale") || isStale(files)) {
    const ms = await compile(files);
    if (!args.has("--quiet")) process.stdout.write(`[build] ${files.length} files compiled to .build/ in ${ms} ms\n`);
    const bundled = await bundle();
    if (!args.has("--quiet")) process.stdout.write(`[build] ${ENTRIES.join(", ")} bundled with their packages in ${bundled} ms\n`);
  }
  if (!args.has("--no-admin-bundle") && !args.has("--if-stale")) prebuildAdminBundle();
}
