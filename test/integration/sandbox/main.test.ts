// sandbox/main.ts as a real child process: env validation (exit 1 naming the variable), first start
// creates the Alipay key pair (private key 0600), /healthz, the public-key endpoint, clean SIGTERM,
// and the same key pair after a restart.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { merchantKeyPair } from "./helpers.ts";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../../../..");
const dir = mkdtempSync(join(tmpdir(), "coursepay-sandbox-main-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const keyFile = join(dir, "app-public.pem");
writeFileSync(keyFile, merchantKeyPair().publicKeyPem);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs main.ts; if `untilListening`, resolves once it prints its URL (the process keeps running). */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "sandbox/main.ts"], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "silent", SANDBOX_PORT: "0", SANDBOX_DATA_DIR: join(dir, "data"), SANDBOX_MERCHANT_PUBLIC_KEY_FILE: keyFile, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Run>((done) => child.on("exit", (code) => done({ code, stdout, stderr })));
  const listening = new Promise<string>((ok, fail) => {
    child.stdout.on("data", () => {
      const m = /sandbox listening on (http:\/\/\S+)/.exec(stdout);
      if (m) ok(m[1]!);
    });
    void exited.then((r) => fail(new Error(`exited ${r.code}: ${r.stderr}`)));
  });
  listening.catch(() => undefined); // only awaited by the tests that expect a running process
  return { child, exited, listening };
}

describe("sandbox/main.ts", () => {
  test("a bad variable → exit 1 naming it", async () => {
    const r = await start({ SANDBOX_TIME_FACTOR: "fast" }).exited;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SANDBOX_TIME_FACTOR/);
    const r2 = await start({ SANDBOX_APP_ID: "123" }).exited;
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /SANDBOX_APP_ID: expected a 16-digit app id/);
  });

  test("a missing merchant key file → exit 1 naming SANDBOX_MERCHANT_PUBLIC_KEY_FILE", async () => {
    const r = await start({ SANDBOX_MERCHANT_PUBLIC_KEY_FILE: join(dir, "nope.pem") }).exited;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SANDBOX_MERCHANT_PUBLIC_KEY_FILE: cannot read .*nope\.pem \(ENOENT\)/);
  });

  test("starts, serves /healthz and its public key, stops on SIGTERM, keeps its keys", async () => {
    const first = start({});
    const url = await first.listening;
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const pem = await (await fetch(`${url}/sandbox/alipay-public-key`)).text();
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(readFileSync(join(dir, "data", "alipay-public.pem"), "utf8"), pem);
    assert.equal(statSync(join(dir, "data", "alipay-private.pem")).mode & 0o777, 0o600);
    const info = (await (await fetch(`${url}/sandbox/control/info`)).json()) as { gatewayUrl: string; timeFactor: number };
    assert.equal(info.gatewayUrl, `${url}/gateway.do`);
    first.child.kill("SIGTERM");
    assert.equal((await first.exited).code, 0);

    const second = start({ SANDBOX_TIME_FACTOR: "0.001" });
    const url2 = await second.listening;
    assert.equal(await (await fetch(`${url2}/sandbox/alipay-public-key`)).text(), pem, "key pair reused");
    assert.equal(((await (await fetch(`${url2}/sandbox/control/info`)).json()) as { timeFactor: number }).timeFactor, 0.001);
    second.child.kill("SIGTERM");
    assert.equal((await second.exited).code, 0);
  });
});
