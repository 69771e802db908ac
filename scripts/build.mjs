// `npm run build` (also run by `npm install`): compile the TypeScript that runs in production to
// JavaScript in .build/, once, so roles start without transpiling (tsx) at every start; then build
// the admin's components bundle ahead of time (admin/bundle.ts keeps it keyed by its inputs).
//
// Plain JavaScript on purpose: it runs before anything is compiled.
//   node scripts/build.mjs            compile what changed (nothing to do: ~0.1 s), then the admin bundle
//   node scripts/build.mjs --if-stale compile only if a source is newer than its output (npm start)
//
// Every .ts/.tsx file outside test/, bench/ and node_modules is compiled, one output file per
// source (.build/<same path>.js): new files are picked up with no list to keep. Relative imports of
// .ts files become .js; packages stay imports. `import.meta.url` / `dirname` / `filename` keep
// naming the SOURCE file, so code that reads files beside itself (page assets, the admin's
// components, package.json) finds them exactly as under tsx.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
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
  }
  if (!args.has("--no-admin-bundle") && !args.has("--if-stale")) prebuildAdminBundle();
}
