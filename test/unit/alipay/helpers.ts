// Shared by the alipay unit tests: paths, the third-party signature vectors (test/fixtures/alipay-vectors,
// origins in its README), the throwaway fixture keys, and a runner for the CLI as a real child process.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const vectorsDir = path.join(repoRoot, "test/fixtures/alipay-vectors");
export const keysDir = path.join(repoRoot, "test/fixtures/keys");

export type Vector = {
  id: string;
  kind: "notify" | "return" | "params_v2_keep_sign_type" | "request_sign" | "response";
  algorithm: "RSA2" | "RSA";
  expect: boolean;
  params?: Record<string, string>;
  raw_query?: string;
  form_body_constructed?: string;
  raw_response?: string;
  response_key?: string;
  string_to_sign?: string | null;
  public_key_pem: string;
  private_key_pem?: string;
};

export function loadVectors(): Vector[] {
  return fs
    .readdirSync(vectorsDir)
    .filter((f) => f.endsWith(".json") && !f.startsWith("_"))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(vectorsDir, f), "utf8")) as Vector);
}

/** One vector by id (its file name without .json). */
export function vector(id: string): Vector {
  const v = loadVectors().find((x) => x.id === id);
  if (!v) throw new Error(`no vector ${id} in ${vectorsDir}`);
  return v;
}

/** "alipay_trade_query_response" → "alipay.trade.query" (round-trips through responseKeyFor). */
export function methodOf(responseKey: string): string {
  return responseKey.replace(/_response$/, "").replaceAll("_", ".");
}

export function fixtureKey(name: string): string {
  return fs.readFileSync(path.join(keysDir, name), "utf8");
}

export const keys = {
  appPrivate: fixtureKey("app_private_key.pem"),
  appPublic: fixtureKey("app_public_key.pem"),
  alipayPrivate: fixtureKey("alipay_private_key_pkcs1.pem"),
  alipayPublic: fixtureKey("alipay_public_key.pem"),
  alipayPublicBare: fixtureKey("alipay_public_key.txt"),
  alipayPublicCert: fixtureKey("alipay_public_cert.crt"),
  appPublicCert: fixtureKey("app_public_cert.crt"),
  alipayRootCert: fixtureKey("alipay_root_cert.crt"),
};

let tempDir: string | null = null;

/** A temp file holding `content` (the CLI takes keys as files); removed when the test process exits. */
export function tempFile(name: string, content: string): string {
  if (!tempDir) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coursepay-alipay-test-"));
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    tempDir = dir;
  }
  const file = path.join(tempDir, name);
  fs.writeFileSync(file, content);
  return file;
}

export type CliResult = { code: number | null; stdout: string; stderr: string };

/**
 * Run scripts/alipay-cli.ts in a child process (node --import tsx), feeding `stdin`. `env`, when given,
 * is the child's whole environment besides PATH (the doctor reads its configuration from it).
 */
export function runCli(args: string[], stdin: string | Buffer = "", options: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "scripts/alipay-cli.ts"), ...args], {
      cwd: repoRoot,
      ...(options.env ? { env: { PATH: process.env.PATH, ...options.env } } : {}),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}
