// The sandbox in certificate mode (公钥证书模式), driven by the official SDK (alipay-sdk 4.14 configured
// with the three certificate files, unchanged but for its gateway URL) and by core/alipay's client:
// requests must carry app_cert_sn / alipay_root_cert_sn, answers and notifies name alipay_cert_sn,
// alipay.open.app.alipaycert.download serves every certificate, and a rotation through the control API
// makes the gateway sign with a new certificate that chains to the same root.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AlipaySdk } from "alipay-sdk";
import { chainProblem } from "../../../core/alipay/certs.ts";
import { createAlipayClient } from "../../../core/alipay/client.ts";
import { certificates, certSerialNumber, rootCertSerialNumber, signatureAlgorithmOid } from "../../../core/alipay/keys.ts";
import { verifyCallback, verifyResponse } from "../../../core/alipay/signature.ts";
import { issueCertificate } from "../../../sandbox/certs.ts";
import type { SandboxCertInfo } from "../../../sandbox/types.ts";
import { APP_ID, SELLER_ID, alipayKeyPair, merchantKeyPair, newOutTradeNo, startReceiver, startSandbox, type Receiver, type TestSandbox } from "./helpers.ts";

let t: TestSandbox;
let rcv: Receiver;
let certs: SandboxCertInfo;

before(async () => {
  t = await startSandbox({ certMode: true });
  rcv = await startReceiver();
  certs = await t.control.certs();
});
after(async () => {
  await t?.close();
  await rcv?.close();
});

function certSdk(o: { appCert?: string; alipayCert?: string; root?: string } = {}): AlipaySdk {
  return new AlipaySdk({
    appId: APP_ID,
    privateKey: merchantKeyPair().privateKeyPem,
    keyType: "PKCS8",
    appCertContent: o.appCert ?? certs.appCertPem,
    alipayPublicCertContent: o.alipayCert ?? certs.alipayCertPem,
    alipayRootCertContent: o.root ?? certs.alipayRootCertPem,
    gateway: t.gatewayUrl,
  });
}

/** A signed POST the way the SDK's exec sends it, returning the raw body (exec hides it). */
async function rawCall(sdk: AlipaySdk, method: string, bizContent: Record<string, unknown>, drop: string[] = []) {
  const query = new URLSearchParams(sdk.sdkExecute(method, { bizContent }));
  const url = new URL(t.gatewayUrl);
  const body = new URLSearchParams();
  for (const [k, v] of query) {
    if (drop.includes(k)) continue;
    (k === "biz_content" || k === "alipay_sdk" ? body : url.searchParams).append(k, v);
  }
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, any> };
}

function pagePayUrl(sdk: AlipaySdk, outTradeNo: string): string {
  return sdk.pageExecute("alipay.trade.page.pay", "GET", {
    bizContent: { outTradeNo, productCode: "FAST_INSTANT_TRADE_PAY", totalAmount: "66.00", subject: "证书模式课程" },
    returnUrl: rcv.returnUrl,
    notifyUrl: rcv.notifyUrl,
  });
}

describe("sandbox certificate mode: the CA", () => {
  test("the root bundle holds a non-RSA root that alipay_root_cert_sn skips, as in Alipay's bundle", () => {
    const bundle = certificates(certs.alipayRootCertPem);
    assert.equal(bundle.length, 2);
    const oids = bundle.map((c) => signatureAlgorithmOid(c.raw));
    assert.deepEqual(oids, ["1.2.840.113549.1.1.11", "1.2.840.10045.4.3.2"]);
    assert.equal(certs.alipayRootCertSn, certSerialNumber(bundle[0]!));
    assert.equal(certs.alipayRootCertSn, rootCertSerialNumber(certs.alipayRootCertPem));
    assert.ok(!certs.alipayRootCertSn.includes("_"), "only the RSA root counts");
  });

  test("the official SDK computes the same three serial numbers from the sandbox's files", () => {
    const config = certSdk().config as unknown as { appCertSn: string; alipayCertSn: string; alipayRootCertSn: string };
    assert.equal(config.appCertSn, certs.appCertSn);
    assert.equal(config.alipayCertSn, certs.alipayCertSn);
    assert.equal(config.alipayRootCertSn, certs.alipayRootCertSn);
  });

  test("Alipay's certificate file is the certificate followed by its intermediate, and chains to the root only through it", () => {
    const chain = certificates(certs.alipayCertPem);
    assert.equal(chain.length, 2);
    assert.equal(chainProblem(certs.alipayCertPem, certs.alipayRootCertPem), null);
    const leafOnly = chain[0]!.toString();
    assert.match(chainProblem(leafOnly, certs.alipayRootCertPem) ?? "", /not issued by any certificate of the root bundle/);
  });

  test("the files are kept in the data dir and reused after a restart", async () => {
    assert.ok(certs.appCertFile?.startsWith(t.dataDir));
    const again = await startSandbox({ certMode: true, dataDir: t.dataDir, keepDir: true });
    try {
      const info = await again.control.certs();
      assert.equal(info.appCertSn, certs.appCertSn);
      assert.equal(info.alipayRootCertSn, certs.alipayRootCertSn);
      assert.equal(info.alipayCertSn, certs.alipayCertSn);
    } finally {
      await again.close();
    }
  });
});

describe("sandbox certificate mode: the official SDK", () => {
  test("page pay opens the cashier; query answers are verified by the SDK and name alipay_cert_sn; the paid notify names it too", async () => {
    const sdk = certSdk();
    const outTradeNo = newOutTradeNo("C");
    // opening shows the login step; logging in creates the trade (cert SNs checked at both steps)
    await t.control.openCashier(pagePayUrl(sdk, outTradeNo));

    const waiting = await sdk.exec("alipay.trade.query", { bizContent: { outTradeNo } }, { validateSign: true });
    assert.equal(waiting.code, "10000");
    assert.equal(waiting.trade_status ?? waiting.tradeStatus, "WAIT_BUYER_PAY");

    await t.control.pay(outTradeNo);
    const paid = await sdk.exec("alipay.trade.query", { bizContent: { outTradeNo } }, { validateSign: true });
    assert.equal(paid.trade_status ?? paid.tradeStatus, "TRADE_SUCCESS");

    const raw = await rawCall(sdk, "alipay.trade.query", { out_trade_no: outTradeNo });
    assert.equal(raw.json.alipay_cert_sn, certs.alipayCertSn);
    assert.match(raw.text, /^\{"alipay_trade_query_response":\{.*\},"alipay_cert_sn":"[0-9a-f]{32}","sign":"[^"]+"\}$/);
    assert.ok(verifyResponse(raw.text, "alipay.trade.query", certs.alipayCertPem).valid);

    const notifies = await rcv.waitForNotifies(1);
    const notify = notifies.find((n) => n.params.out_trade_no === outTradeNo)!;
    assert.equal(notify.params.alipay_cert_sn, certs.alipayCertSn);
    // By default alipay_cert_sn is outside the signed text. The official Node SDK verifies every
    // parameter but sign (and sign_type), so it accepts the notify only without alipay_cert_sn.
    const { alipay_cert_sn: _sn, ...withoutSn } = notify.params;
    assert.equal(sdk.checkNotifySignV2(withoutSn), true);
    assert.equal(sdk.checkNotifySignV2(notify.params), false);
    assert.ok(verifyCallback(notify.params, certs.alipayCertPem, { optionalParams: ["alipay_cert_sn"] }).valid);
  });

  test("a notify may carry alipay_cert_sn inside the signed text, or not at all (notifyCertSn fault)", async () => {
    const sdk = certSdk();
    for (const placement of ["signed", "absent"] as const) {
      const outTradeNo = newOutTradeNo("N");
      await t.control.openCashier(pagePayUrl(sdk, outTradeNo));
      await t.control.addFaults({ outTradeNo, faults: [{ kind: "notifyCertSn", placement, times: 1 }] });
      await t.control.pay(outTradeNo);
      const notify = await waitForNotifyOf(outTradeNo);
      if (placement === "signed") {
        assert.equal(notify.params.alipay_cert_sn, certs.alipayCertSn);
        assert.equal(sdk.checkNotifySignV2(notify.params), true);
      } else {
        assert.equal(notify.params.alipay_cert_sn, undefined);
        assert.equal(sdk.checkNotifySignV2(notify.params), true);
      }
      assert.ok(verifyCallback(notify.params, certs.alipayCertPem, { optionalParams: ["alipay_cert_sn"] }).valid);
    }
  });

  test("alipay.open.app.alipaycert.download answers base64 of the certificate's PEM (certificate + intermediate)", async () => {
    const sdk = certSdk();
    const r = await sdk.exec("alipay.open.app.alipaycert.download", { bizContent: { alipay_cert_sn: certs.alipayCertSn } }, { validateSign: true });
    assert.equal(r.code, "10000");
    const content = (r.alipay_cert_content ?? r.alipayCertContent) as string;
    assert.match(content, /^[A-Za-z0-9+/]+=*$/);
    const pem = Buffer.from(content, "base64").toString("utf8");
    assert.equal(pem, certs.alipayCertPem);
    assert.equal(certSerialNumber(pem), certs.alipayCertSn);

    const unknown = await sdk.exec("alipay.open.app.alipaycert.download", { bizContent: { alipay_cert_sn: "0".repeat(32) } }, { validateSign: true });
    assert.equal(unknown.code, "40004");
    assert.equal(unknown.sub_code ?? unknown.subCode, "isv.alipay-cert-not-exist");
  });
});

describe("sandbox certificate mode: refusals", () => {
  test("a key-mode request (no app_cert_sn) gets 40002 isv.missing-app-cert-sn, signed and naming no certificate", async () => {
    const keyModeSdk = new AlipaySdk({ appId: APP_ID, privateKey: merchantKeyPair().privateKeyPem, keyType: "PKCS8", alipayPublicKey: alipayKeyPair().publicKeyPem, gateway: t.gatewayUrl });
    const raw = await rawCall(keyModeSdk, "alipay.trade.query", { out_trade_no: "whatever" });
    const node = raw.json.alipay_trade_query_response;
    assert.equal(node.code, "40002");
    assert.equal(node.sub_code, "isv.missing-app-cert-sn");
    assert.equal(raw.json.alipay_cert_sn, undefined);
    assert.ok(typeof raw.json.sign === "string" && raw.json.sign.length > 0);
    assert.ok(verifyResponse(raw.text, "alipay.trade.query", certs.alipayCertPem).valid);
  });

  test("missing alipay_root_cert_sn, an app certificate Alipay did not issue, a root SN that counts the non-RSA root", async () => {
    const sdk = certSdk();
    const missingRoot = await rawCall(sdk, "alipay.trade.query", { out_trade_no: "x" }, ["alipay_root_cert_sn"]);
    assert.equal(missingRoot.json.alipay_trade_query_response.sub_code, "isv.missing-alipay-root-cert-sn");

    // Same key, but a certificate from another CA: its SN is not one the gateway issued.
    const foreign = issueCertificate({
      subject: { C: "CN", O: "elsewhere", CN: APP_ID },
      publicKeyPem: merchantKeyPair().publicKeyPem,
      issuer: "self",
      selfPrivateKeyPem: merchantKeyPair().privateKeyPem,
      ca: false,
      days: 30,
    });
    const notIssued = await rawCall(certSdk({ appCert: foreign }), "alipay.trade.query", { out_trade_no: "x" });
    assert.equal(notIssued.json.alipay_trade_query_response.code, "40002");
    assert.equal(notIssued.json.alipay_trade_query_response.sub_code, "isv.app-cert-not-exist");

    // Every certificate of the bundle, the non-RSA one included: not what Alipay expects.
    const allSns = certificates(certs.alipayRootCertPem).map((c) => certSerialNumber(c)).join("_");
    const query = new URLSearchParams(sdk.sdkExecute("alipay.trade.query", { bizContent: { out_trade_no: "x" } }));
    assert.equal(query.get("alipay_root_cert_sn"), certs.alipayRootCertSn);
    const rightRoot = await rawCall(sdk, "alipay.trade.query", { out_trade_no: "x" });
    assert.equal(rightRoot.json.alipay_trade_query_response.sub_code, "ACQ.TRADE_NOT_EXIST"); // the right SN: a business answer
    const forged = await postWithRootSn(sdk, allSns);
    assert.equal(forged.json.alipay_trade_query_response.sub_code, "isv.invalid-alipay-root-cert-sn");
  });

  test("core's client: a certificate refusal is reported as \"Alipay refused the call\" with the hint, never as evidence", async () => {
    const keyMode = createAlipayClient({
      appId: APP_ID, appPrivateKey: merchantKeyPair().privateKeyPem, alipayPublicKey: alipayKeyPair().publicKeyPem,
      gatewayUrl: t.gatewayUrl, sellerId: SELLER_ID, timeoutMs: 5000,
    });
    const missing = await keyMode.queryTrade("whatever");
    assert.equal(missing.kind, "unknown");
    assert.match(missing.kind === "unknown" ? missing.reason : "", /^Alipay refused the call: 40002 isv\.missing-app-cert-sn \(signed answer\).*hint: the app is in certificate mode: set ALIPAY_APP_CERT_FILE/);

    const wrongRoot = createAlipayClient({
      appId: APP_ID, appPrivateKey: merchantKeyPair().privateKeyPem, alipayPublicKey: certs.alipayCertPem,
      // The app certificate as the "root": a root SN Alipay does not know.
      certs: { appCert: certs.appCertPem, alipayRootCert: certs.appCertPem },
      gatewayUrl: t.gatewayUrl, sellerId: SELLER_ID, timeoutMs: 5000,
    });
    const refused = await wrongRoot.queryTrade("whatever");
    assert.match(refused.kind === "unknown" ? refused.reason : JSON.stringify(refused), /isv\.invalid-alipay-root-cert-sn .*hint: ALIPAY_ROOT_CERT_FILE is not Alipay's root certificate bundle/);
  });
});

/** The SDK's request with alipay_root_cert_sn replaced (and signed again by the SDK's own signer). */
async function postWithRootSn(sdk: AlipaySdk, rootSn: string) {
  const config = sdk.config as unknown as { alipayRootCertSn: string };
  const saved = config.alipayRootCertSn;
  config.alipayRootCertSn = rootSn;
  try {
    return await rawCall(sdk, "alipay.trade.query", { out_trade_no: "x" });
  } finally {
    config.alipayRootCertSn = saved;
  }
}

async function waitForNotifyOf(outTradeNo: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const n = rcv.notifies.find((x) => x.params.out_trade_no === outTradeNo);
    if (n) return n;
    if (Date.now() > deadline) throw new Error(`no notify for ${outTradeNo}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("sandbox certificate mode: rotation (control API) and core's client", () => {
  test("after a rotation answers name the new certificate; core's client downloads it, checks the chain and verifies", async () => {
    const events: string[] = [];
    const stored = new Map<string, string>();
    const client = createAlipayClient({
      appId: APP_ID,
      appPrivateKey: merchantKeyPair().privateKeyPem,
      alipayPublicKey: certs.alipayCertPem,
      certs: { appCert: certs.appCertPem, alipayCert: certs.alipayCertPem, alipayRootCert: certs.alipayRootCertPem },
      certStore: { get: async (sn) => stored.get(sn) ?? null, put: async ({ sn, pem }) => void stored.set(sn, pem) },
      onCertRotation: (e) => events.push(`${e.sn}:${e.outcome}`),
      gatewayUrl: t.gatewayUrl,
      sellerId: SELLER_ID,
      timeoutMs: 5000,
    });
    const before = await client.queryTrade("never_created_before_rotation");
    assert.equal(before.kind, "business_error");
    assert.equal(before.kind === "business_error" && before.subCode, "ACQ.TRADE_NOT_EXIST");

    const rotated = await t.control.rotateAlipayCert();
    assert.equal(rotated.previousSn, certs.alipayCertSn);
    assert.notEqual(rotated.sn, rotated.previousSn);
    const now = await t.control.certs();
    assert.equal(now.alipayCertSn, rotated.sn);
    assert.deepEqual(now.alipayCerts.map((c) => c.sn), [...certs.alipayCerts.map((c) => c.sn), rotated.sn]);
    assert.equal(chainProblem(now.alipayCertPem, certs.alipayRootCertPem), null, "the new certificate chains to the same root");

    // The official SDK configured with the old certificate cannot verify the new answers.
    await assert.rejects(certSdk().exec("alipay.trade.query", { bizContent: { outTradeNo: "x" } }, { validateSign: true }), /验签失败/);

    const after = await client.queryTrade("never_created_after_rotation");
    assert.equal(after.kind, "business_error", JSON.stringify(after));
    assert.deepEqual(events, [`${rotated.sn}:downloaded`]);
    assert.equal(certSerialNumber(stored.get(rotated.sn)!), rotated.sn);
    // The old certificate is still downloadable.
    const old = await rawCall(certSdk(), "alipay.open.app.alipaycert.download", { alipay_cert_sn: rotated.previousSn });
    assert.equal(Buffer.from(old.json.alipay_open_app_alipaycert_download_response.alipay_cert_content, "base64").toString("utf8"), certs.alipayCertPem);
    assert.equal(old.json.alipay_cert_sn, rotated.sn);
  });
});
