import { readFileSync } from "node:fs";
import { createLogger } from "../core/logging/index.ts";
import { createSandbox } from "./app.ts";
import { loadSandboxEnv, SandboxConfigError, type SandboxEnvConfig } from "./config.ts";

// Process entry of the sandbox role (`npm run start:sandbox`). Reads SANDBOX_* from the environment
// (config.ts), exits 1 with the variable name on a bad value, and stops cleanly on SIGINT/SIGTERM.

function fail(message: string): never {
  process.stderr.write(`sandbox: ${message}\n`);
  process.exit(1);
}

let config: SandboxEnvConfig;
try {
  config = loadSandboxEnv();
} catch (e) {
  if (e instanceof SandboxConfigError) fail(e.message);
  throw e;
}

let merchantPublicKey: string;
try {
  merchantPublicKey = readFileSync(config.merchantPublicKeyFile, "utf8");
} catch (e) {
  fail(
    `SANDBOX_MERCHANT_PUBLIC_KEY_FILE: cannot read ${config.merchantPublicKeyFile} (${(e as NodeJS.ErrnoException).code ?? e}); ` +
      "it is the merchant app's public key, created by the launcher (npm start) under .data/keys/",
  );
}

const log = createLogger("sandbox", config.logLevel);
let sandbox: ReturnType<typeof createSandbox>;
try {
  sandbox = createSandbox({
    merchantPublicKey,
    dataDir: config.dataDir,
    appId: config.appId,
    sellerId: config.sellerId,
    timeFactor: config.timeFactor,
    certMode: config.certMode,
    publicUrl: process.env.SANDBOX_PUBLIC_URL ? config.publicUrl : undefined,
    logger: log,
  });
} catch (e) {
  fail(`cannot start: ${(e as Error).message} (check SANDBOX_MERCHANT_PUBLIC_KEY_FILE and SANDBOX_DATA_DIR)`);
}

const { url } = await sandbox.listen(config.port, config.host).catch((e: NodeJS.ErrnoException) =>
  fail(`SANDBOX_PORT/SANDBOX_HOST: cannot listen on ${config.host}:${config.port} (${e.code ?? e.message})`),
);
const publicUrl = sandbox.gateway.publicUrl;
log.info(
  { url, publicUrl, gateway: `${publicUrl}/gateway.do`, appId: config.appId, dataDir: config.dataDir, timeFactor: config.timeFactor },
  "sandbox listening",
);
// One plain line for launchers and humans (the URL matters when SANDBOX_PORT=0).
process.stdout.write(`sandbox listening on ${url}\n`);
const certs = sandbox.gateway.certInfo();
if (certs) {
  // What the merchant's configuration needs in certificate mode (docs/operations.md, go-live checklist).
  process.stdout.write(
    `sandbox certificate mode: ALIPAY_APP_CERT_FILE=${certs.appCertFile} ALIPAY_CERT_FILE=${certs.alipayCertFile} ALIPAY_ROOT_CERT_FILE=${certs.alipayRootCertFile}\n`,
  );
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "sandbox stopping");
    sandbox.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "sandbox close failed");
        process.exit(1);
      },
    );
  });
}
