import { createPublicKey } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateRsaKeyPair, privateKeyPem } from "../core/alipay/keys.ts";

// The sandbox's own "Alipay" key pair: generated on first start into the data dir and reused afterwards,
// so a merchant configured with alipay-public.pem keeps verifying across sandbox restarts (it generates
// its own pair under .data/ rather than shipping one). The private key file is 0600.

export const ALIPAY_PRIVATE_KEY_FILE = "alipay-private.pem";
export const ALIPAY_PUBLIC_KEY_FILE = "alipay-public.pem";

export interface AlipayKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function loadOrCreateAlipayKeys(dataDir: string): AlipayKeyPair & { created: boolean } {
  mkdirSync(dataDir, { recursive: true });
  const privatePath = join(dataDir, ALIPAY_PRIVATE_KEY_FILE);
  const publicPath = join(dataDir, ALIPAY_PUBLIC_KEY_FILE);
  let created = false;
  let priv = readIfExists(privatePath);
  if (priv === null) {
    const pair = generateRsaKeyPair();
    try {
      // "wx": never overwrite a key another sandbox process wrote a moment ago.
      writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600, flag: "wx" });
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    priv = readFileSync(privatePath, "utf8");
  }
  const privateKey = privateKeyPem(priv);
  // The public key is always derived from the private one, so the two files cannot drift apart.
  const publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  if (readIfExists(publicPath) !== publicKeyPem) writeFileSync(publicPath, publicKeyPem, { mode: 0o644 });
  return { privateKeyPem: privateKey, publicKeyPem, created };
}

function readIfExists(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}
