// Certificate-mode configuration mistakes stop a role at start, naming the variable (exit 1, no stack
// trace): an app certificate that does not certify the app key, an Alipay certificate that does not
// chain to the root (a foreign one, or Alipay's without its intermediate), and key mode mixed with
// certificate mode. The files come from the sandbox's CA (sandbox/certs.ts), like a merchant's.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { certificates } from "../../../core/alipay/keys.ts";
import { generateRsaKeyPair } from "../../../core/alipay/keys.ts";
import { issueCertificate, SandboxCertAuthority } from "../../../sandbox/certs.ts";
import { spawnRole } from "../../support/index.ts";

let dir: string;
let files: { appKey: string; otherKey: string; appCert: string; alipayCert: string; rootCert: string; foreignAlipayCert: string; leafOnly: string; alipayPublicKey: string };

before(() => {
  dir = mkdtempSync(join(tmpdir(), "coursepay-cert-config-"));
  const app = generateRsaKeyPair();
  const ca = new SandboxCertAuthority({ appId: "2021000000000001", merchantPublicKey: app.publicKeyPem, dataDir: dir });
  const info = ca.files();
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const stranger = generateRsaKeyPair();
  files = {
    appKey: write("app-private.pem", app.privateKeyPem),
    otherKey: write("other-private.pem", generateRsaKeyPair().privateKeyPem),
    appCert: info.appCertFile!,
    alipayCert: info.alipayCertFile!,
    rootCert: info.alipayRootCertFile!,
    foreignAlipayCert: write("foreign-alipay.crt", issueCertificate({
      subject: { C: "CN", O: "not alipay", CN: "self-made" }, publicKeyPem: stranger.publicKeyPem, issuer: "self", selfPrivateKeyPem: stranger.privateKeyPem, ca: false, days: 30,
    })),
    leafOnly: write("alipay-leaf-only.crt", certificates(ca.current.chainPem)[0]!.toString()),
    alipayPublicKey: write("alipay-public.pem", ca.current.publicKeyPem),
  };
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function startFails(env: Record<string, string>): Promise<string> {
  const role = spawnRole("api", {
    ALIPAY_APP_PRIVATE_KEY: "",
    ALIPAY_PUBLIC_KEY: "",
    ALIPAY_PUBLIC_KEY_FILE: "",
    ALIPAY_APP_CERT_FILE: "",
    ALIPAY_CERT_FILE: "",
    ALIPAY_ROOT_CERT_FILE: "",
    API_PORT: "0",
    ...env,
  });
  const code = await new Promise<number | null>((r) => (role.child.exitCode !== null ? r(role.child.exitCode) : role.child.once("exit", (c) => r(c))));
  assert.equal(code, 1, role.output());
  assert.doesNotMatch(role.output(), /at .*\.ts:\d+/, "no stack trace");
  return role.output();
}

const certMode = () => ({ ALIPAY_APP_PRIVATE_KEY_FILE: files.appKey, ALIPAY_APP_CERT_FILE: files.appCert, ALIPAY_CERT_FILE: files.alipayCert, ALIPAY_ROOT_CERT_FILE: files.rootCert });

test("the app certificate does not certify the app private key: ALIPAY_APP_CERT_FILE named, the role exits", async () => {
  const out = await startFails({ ...certMode(), ALIPAY_APP_PRIVATE_KEY_FILE: files.otherKey });
  assert.match(out, /ALIPAY_APP_CERT_FILE: does not certify the app private key/);
});

test("Alipay's certificate does not chain to the root: ALIPAY_CERT_FILE named (a foreign certificate, and Alipay's without its intermediate)", async () => {
  const foreign = await startFails({ ...certMode(), ALIPAY_CERT_FILE: files.foreignAlipayCert });
  assert.match(foreign, /ALIPAY_CERT_FILE: does not chain to ALIPAY_ROOT_CERT_FILE/);
  const leafOnly = await startFails({ ...certMode(), ALIPAY_CERT_FILE: files.leafOnly });
  assert.match(leafOnly, /ALIPAY_CERT_FILE: does not chain to ALIPAY_ROOT_CERT_FILE: certificate "CN=Sandbox Alipay signing certificate 1.*" is not issued by any certificate of the root bundle/);
});

test("key mode mixed with certificate mode: the key variable named, the role exits", async () => {
  const mixed = await startFails({ ...certMode(), ALIPAY_PUBLIC_KEY_FILE: files.alipayPublicKey });
  assert.match(mixed, /ALIPAY_PUBLIC_KEY_FILE: mixes key mode and certificate mode/);
  // An Alipay certificate where the key-mode variable expects a key: certificate mode is what was meant.
  const certAsKey = await startFails({ ALIPAY_APP_PRIVATE_KEY_FILE: files.appKey, ALIPAY_PUBLIC_KEY_FILE: files.alipayCert });
  assert.match(certAsKey, /ALIPAY_PUBLIC_KEY_FILE: holds a certificate: the app is in certificate mode/);
  // One certificate variable alone: the other two are named.
  const partial = await startFails({ ALIPAY_APP_PRIVATE_KEY_FILE: files.appKey, ALIPAY_APP_CERT_FILE: files.appCert });
  assert.match(partial, /ALIPAY_CERT_FILE: required in certificate mode/);
  assert.match(partial, /ALIPAY_ROOT_CERT_FILE: required in certificate mode/);
});
