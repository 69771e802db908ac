// Regenerates the README's screenshots (docs/screenshots/*.png) from the real pages: the buyer's
// journey browser test (test/e2e/buyer-journey.test.ts) run on its own stack — sandbox gateway, api,
// worker, admin, a fresh PostgreSQL database and Redis prefix (scripts/test.ts) — with Debian's
// chromium, writing the catalog, cashier, result and admin order pictures as it passes them.
//   npm run screenshots
import { spawn } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const child = spawn(process.execPath, ["--import", "tsx", "scripts/test.ts", "e2e", "--", "test/e2e/buyer-journey.test.ts"], {
  cwd: root,
  env: { ...process.env, SAVE_README_SCREENSHOTS: "1" },
  stdio: "inherit",
});
child.on("exit", (code, signal) => {
  if (code === 0) process.stderr.write("screenshots written to docs/screenshots/\n");
  process.exit(code ?? (signal ? 1 : 0));
});
