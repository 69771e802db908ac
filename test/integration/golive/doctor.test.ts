// The go-live doctor (`npm run alipay -- doctor`, scripts/doctor.ts) against the local gateway, in key
// mode and in certificate mode: all right → every line ✓ and exit 0, the signed alipay.trade.query
// coming back as a verified ACQ.TRADE_NOT_EXIST; then each misconfiguration is caught on its own line,
// and the exit is 1.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { issueCertificate } from "../../../sandbox/certs.ts";
import type { SandboxCertInfo } from "../../../sandbox/types.ts";
import { diagnose, type DoctorLine } from "../../../scripts/doctor.ts";
import { APP_ID, SELLER_ID, alipayKeyPair, merchantKeyPair, startSandbox, type TestSandbox } from "../sandbox/helpers.ts";
import { runCli } from "../../unit/alipay/helpers.ts";

const repoRoot = path.resolve(import.meta.dirname, "../../..");
let t: TestSandbox;

before(async () => {
  t = await startSandbox();
});
after(async () => {
  await t?.close();
});

/** What an operator would have set for the roles: real-looking ids, keys, https public notify URL. */
function goodEnv(): NodeJS.ProcessEnv {
  return {
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    // not contacted by the doctor; the roles need them, so the configuration does
    DATABASE_URL: "postgresql://coursepay@127.0.0.1:1/coursepay",
    REDIS_URL: "redis://127.0.0.1:1",
    ALIPAY_GATEWAY: "sandbox",
    SANDBOX_PUBLIC_URL: t.url,
    API_PUBLIC_URL: "https://shop.example.com",
    ALIPAY_APP_ID: APP_ID,
    ALIPAY_SELLER_ID: SELLER_ID,
    ALIPAY_APP_PRIVATE_KEY: merchantKeyPair().privateKeyPem,
    ALIPAY_PUBLIC_KEY: alipayKeyPair().publicKeyPem,
    ALIPAY_TIMEOUT_MS: "10000",
  };
}

/** The CLI's doctor with exactly this environment (test/unit/alipay/helpers.ts runCli). */
const runDoctorCli = (env: NodeJS.ProcessEnv) => runCli(["doctor"], "", { env });

const line = (lines: DoctorLine[], check: string) => {
  const found = lines.find((l) => l.check === check);
  assert.ok(found, `no "${check}" line in ${JSON.stringify(lines, null, 1)}`);
  return found;
};
const failed = (lines: DoctorLine[]) => lines.filter((l) => l.verdict === "fail").map((l) => l.check);

describe("go-live doctor, key mode, against the local gateway", () => {
  test("all right: every check passes, the query is a verified ACQ.TRADE_NOT_EXIST, exit 0", async () => {
    const r = await runDoctorCli(goodEnv());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^✓ configuration: loads as the roles load it/m);
    assert.match(r.stdout, /^✓ app private key: RSA 2048-bit/m);
    assert.match(r.stdout, /^✓ ALIPAY_APP_ID: 2021000000000001 looks like an Alipay app id/m);
    assert.match(r.stdout, /^✓ ALIPAY_SELLER_ID: 2088000000000001 looks like an Alipay seller id/m);
    assert.match(r.stdout, /^✓ notify URL: https:\/\/shop\.example\.com\/alipay\/notify is https and public/m);
    assert.match(r.stdout, /^✓ gateway answers: /m);
    assert.match(r.stdout, /^✓ signed alipay\.trade\.query: made-up order doctor_\w+: verified ACQ\.TRADE_NOT_EXIST/m);
    assert.doesNotMatch(r.stdout, /^[✗⚠]/m);
    assert.match(r.stdout, /^✓ all right/m);
  });

  test("wrong app private key: the gateway refuses our signature (isv.invalid-signature), exit 1", async () => {
    const r = await runDoctorCli({ ...goodEnv(), ALIPAY_APP_PRIVATE_KEY: generateRsaKeyPair().privateKeyPem });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^✗ signed alipay\.trade\.query: Alipay refused the call: 40002 isv\.invalid-signature \(unsigned answer\).*hint: the app public key uploaded to Alipay does not match ALIPAY_APP_PRIVATE_KEY/m);
    assert.match(r.stdout, /^✗ \d+ wrong, 0 warnings: not ready/m);
  });

  test("wrong Alipay public key: the answer cannot be verified", async () => {
    const lines = await diagnose({ ...goodEnv(), ALIPAY_PUBLIC_KEY: generateRsaKeyPair().publicKeyPem });
    const q = line(lines, "signed alipay.trade.query");
    assert.equal(q.verdict, "fail");
    assert.match(q.detail, /does not verify with our Alipay public key \(ALIPAY_PUBLIC_KEY/);
    assert.match(q.detail, /bad_response_signature/);
    assert.deepEqual(failed(lines), ["signed alipay.trade.query"]);
  });

  test("the app public key given as Alipay's public key (a classic mix-up): unverifiable too", async () => {
    const lines = await diagnose({ ...goodEnv(), ALIPAY_PUBLIC_KEY: merchantKeyPair().publicKeyPem });
    assert.match(line(lines, "signed alipay.trade.query").detail, /not Alipay's key for this app/);
  });

  test("wrong app id: the gateway answers isv.invalid-app-id (unsigned), with the hint", async () => {
    const lines = await diagnose({ ...goodEnv(), ALIPAY_APP_ID: "2021009999999999" });
    const q = line(lines, "signed alipay.trade.query");
    assert.equal(q.verdict, "fail");
    assert.match(q.detail, /isv\.invalid-app-id \(unsigned answer\).*hint: ALIPAY_APP_ID is not an app of this gateway/);
    // the id itself looks right: only the gateway can tell
    assert.equal(line(lines, "ALIPAY_APP_ID").verdict, "ok");
  });

  test("an app id that is not 16 digits is a configuration problem, named", async () => {
    const lines = await diagnose({ ...goodEnv(), ALIPAY_APP_ID: "12345" });
    assert.match(line(lines, "ALIPAY_APP_ID").detail, /16-digit/);
    assert.equal(line(lines, "gateway").verdict, "skip");
  });

  test("http or local notify URLs are refused (Alipay cannot deliver there)", async () => {
    for (const [api, why] of [
      ["http://shop.example.com", /http, not https/],
      ["https://localhost:3000", /localhost is a local or reserved name/],
      ["https://127.0.0.1", /127\.0\.0\.1 is a private or local address/],
      ["https://192.168.1.20", /private or local address/],
      ["https://10.1.2.3:8443", /private or local address/],
      ["https://[::1]:3000", /private or local address/],
      ["https://shop.internal", /local or reserved name/],
      ["https://coursepay", /not a public host name/],
    ] as const) {
      const lines = await diagnose({ ...goodEnv(), API_PUBLIC_URL: api });
      const n = line(lines, "notify URL");
      assert.equal(n.verdict, "fail", api);
      assert.match(n.detail, why, api);
      // and the rest still runs
      assert.equal(line(lines, "signed alipay.trade.query").verdict, "ok", api);
    }
  });

  test("gateway unreachable: named, and the signed query is skipped", async () => {
    // a port nothing listens on (fetch refuses "bad ports" such as 1 before connecting)
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const r = await runDoctorCli({ ...goodEnv(), SANDBOX_PUBLIC_URL: `http://127.0.0.1:${port}` });
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^✗ gateway answers: http://127\\.0\\.0\\.1:${port}/gateway\\.do unreachable: ECONNREFUSED`, "m"));
    assert.match(r.stdout, /^– signed alipay\.trade\.query: skipped/m);
  });

  test("production without ALIPAY_SELLER_ID: the roles would not start, and the doctor says which variable", async () => {
    const { ALIPAY_SELLER_ID: _drop, ...env } = goodEnv();
    const lines = await diagnose({ ...env, NODE_ENV: "production", ALIPAY_GATEWAY: "https://openapi.alipay.com/gateway.do", TOKEN_SECRET: "x".repeat(40), SESSION_SECRET: "y".repeat(40) });
    assert.ok(failed(lines).includes("ALIPAY_SELLER_ID"), JSON.stringify(lines));
  });
});

describe("go-live doctor, certificate mode, against the local gateway's CA", () => {
  let c: TestSandbox;
  let certs: SandboxCertInfo;
  let tmp: string;
  before(async () => {
    c = await startSandbox({ certMode: true });
    certs = await c.control.certs();
    tmp = mkdtempSync(path.join(tmpdir(), "coursepay-doctor-"));
  });
  after(async () => {
    await c?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  function certEnv(): NodeJS.ProcessEnv {
    const { ALIPAY_PUBLIC_KEY: _key, ...env } = goodEnv();
    return { ...env, SANDBOX_PUBLIC_URL: c.url, ALIPAY_APP_CERT_FILE: certs.appCertFile!, ALIPAY_CERT_FILE: certs.alipayCertFile!, ALIPAY_ROOT_CERT_FILE: certs.alipayRootCertFile! };
  }

  /** Alipay's current signing key certified again by the sandbox's intermediate CA, valid from `from` for `days`. */
  function reissuedAlipayCert(name: string, from: Date, days: number): string {
    const state = JSON.parse(readFileSync(path.join(c.dataDir, "certs", "state.json"), "utf8")) as { intermediateKeyPem: string; intermediateCertPem: string; alipayCerts: { publicKeyPem: string }[] };
    const intermediate = new crypto.X509Certificate(state.intermediateCertPem);
    const dn = Object.fromEntries(intermediate.subject.split("\n").filter(Boolean).map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)])) as { CN: string };
    const leaf = issueCertificate({
      subject: { C: "CN", O: "coursepay sandbox", OU: "Alipay", CN: `doctor test ${name}` },
      publicKeyPem: state.alipayCerts.at(-1)!.publicKeyPem,
      issuer: { name: dn, privateKeyPem: state.intermediateKeyPem },
      ca: false,
      days,
      notBefore: from,
    });
    const file = path.join(tmp, `${name}.crt`);
    writeFileSync(file, leaf + state.intermediateCertPem);
    return file;
  }

  test("all right in certificate mode: certificates chain and certify, the query is verified, exit 0", async () => {
    const r = await runDoctorCli(certEnv());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ℹ mode: certificate mode/m);
    assert.match(r.stdout, new RegExp(`^✓ app certificate: certifies the app private key; app_cert_sn ${certs.appCertSn}`, "m"));
    assert.match(r.stdout, new RegExp(`^✓ Alipay certificate: chains to the root bundle; alipay_cert_sn ${certs.alipayCertSn}`, "m"));
    assert.match(r.stdout, new RegExp(`^✓ root bundle: alipay_root_cert_sn ${certs.alipayRootCertSn}`, "m"));
    assert.match(r.stdout, /^✓ ALIPAY_CERT_FILE validity: /m);
    assert.match(r.stdout, /^✓ signed alipay\.trade\.query: .*verified ACQ\.TRADE_NOT_EXIST.*Alipay certificate/m);
  });

  test("Alipay's certificate expiring within 30 days: a warning, exit 1", async () => {
    const soon = reissuedAlipayCert("soon", new Date(Date.now() - 5 * 24 * 3600_000), 15);
    const r = await runDoctorCli({ ...certEnv(), ALIPAY_CERT_FILE: soon });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^⚠ ALIPAY_CERT_FILE validity: "doctor test soon" expires in (9|10) days .*renew it before going live/m);
    assert.match(r.stdout, /^✗ 0 wrong, 1 warning: not ready/m);
  });

  test("an expired Alipay certificate: named by the configuration and by its validity line", async () => {
    const expired = reissuedAlipayCert("expired", new Date(Date.now() - 40 * 24 * 3600_000), 30);
    const lines = await diagnose({ ...certEnv(), ALIPAY_CERT_FILE: expired });
    assert.match(line(lines, "ALIPAY_CERT_FILE").detail, /certificate expired/);
    const validity = line(lines, "ALIPAY_CERT_FILE validity");
    assert.equal(validity.verdict, "fail");
    assert.match(validity.detail, /EXPIRED on/);
  });

  test("another app's certificate as ALIPAY_APP_CERT_FILE: the configuration names it", async () => {
    const lines = await diagnose({ ...certEnv(), ALIPAY_APP_CERT_FILE: path.join(repoRoot, "test/fixtures/alipay-sdk-certs/appCertPublicKey_2021001161683774.crt") });
    assert.match(line(lines, "ALIPAY_APP_CERT_FILE").detail, /does not certify the app private key/);
  });
});
