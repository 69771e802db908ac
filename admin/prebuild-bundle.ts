// Build and store the admin's components bundle for this process's NODE_ENV (scripts/build.mjs runs
// it once per NODE_ENV at install/build time; see bundle.ts).
import { createLogger } from "../core/logging/index.ts";
import { prebuildComponentsBundle } from "./bundle.ts";

await prebuildComponentsBundle(createLogger("build", "info"));
