// The merchant client: page-pay URL shape and signature, and the outcome classification of the server
// APIs against a real local HTTP server playing the gateway (no HTTP mocking). The full flow against
// the sandbox emulator is covered by the sandbox's own tests.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { encodeText } from "../../../core/alipay/charset.ts";
import { createAlipayClient, normalizeSubCode, type AlipayClientConfig } from "../../../core/alipay/client.ts";
import { parseFormBody, parseQueryString } from "../../../core/alipay/form.ts";
import { AlipaySdk } from "alipay-sdk";
import { certSerialNumber, privateKeyPem, publicKeyPem, rootCertSerialNumber } from "../../../core/alipay/keys.ts";
import { decodePassbackParams } from "../../../core/alipay/notification.ts";
import { ALIPAY_GATEWAY_URLS } from "../../../core/alipay/protocol.ts";
import { LOCAL_MERCHANT } from "../../../core/config/index.ts";
import { responseKeyFor } from "../../../core/alipay/response.ts";
import { reasonCode, signContent, verifyRequest } from "../../../core/alipay/signature.ts";
import { keys } from "./helpers.ts";

const NOW = new Date("2024-05-01T04:00:00Z"); // 12:00:00 in Beijing
const baseConfig: AlipayClientConfig = {
  appId: "9021000000000001",
  appPrivateKey: keys.appPrivate,
  alipayPublicKey: keys.alipayPublicBare,
  gatewayUrl: ALIPAY_GATEWAY_URLS["alipay-sandbox"],
  timeoutMs: 5_000,
  sellerId: LOCAL_MERCHANT.sellerId,
  now: () => NOW,
};

const payRequest = {
  outTradeNo: "CP20240501_0001",
  totalFen: 19900,
  subject: "TypeScript 进阶 & 实战",
  expiresAt: new Date("2024-05-01T04:30:00Z"),
  returnUrl: "https://shop.example/alipay/return",
  notifyUrl: "https://shop.example/alipay/notify",
  passbackParams: "order=42&src=课程",
};

test("pagePayUrl: GET URL on the gateway with every parameter, signed with the app key", () => {
  const client = createAlipayClient(baseConfig);
  const url = client.pagePayUrl(payRequest);
  assert.ok(url.startsWith(`${ALIPAY_GATEWAY_URLS["alipay-sandbox"]}?`));
  const params = parseQueryString(url);
  assert.equal(params.method, "alipay.trade.page.pay");
  assert.equal(params.app_id, baseConfig.appId);
  assert.equal(params.charset, "utf-8");
  assert.equal(params.version, "1.0");
  assert.equal(params.sign_type, "RSA2");
  assert.equal(params.timestamp, "2024-05-01 12:00:00"); // Beijing time whatever TZ the test runs in
  assert.equal(params.return_url, payRequest.returnUrl);
  assert.equal(params.notify_url, payRequest.notifyUrl);
  const biz = JSON.parse(params.biz_content!) as Record<string, string>;
  assert.deepEqual(biz, {
    out_trade_no: "CP20240501_0001",
    product_code: "FAST_INSTANT_TRADE_PAY",
    total_amount: "199.00",
    subject: "TypeScript 进阶 & 实战",
    time_expire: "2024-05-01 12:30:00",
    passback_params: encodeURIComponent(payRequest.passbackParams),
  });
  assert.equal(decodePassbackParams(biz.passback_params!), payRequest.passbackParams);
  // The gateway's check: request rule with the app PUBLIC key.
  const r = verifyRequest(params, keys.appPublic);
  assert.equal(r.valid, true, r.reason);
  assert.ok(r.signedContent.includes("sign_type=RSA2"));
  assert.equal(verifyRequest(params, keys.alipayPublic).valid, false);
  assert.equal(verifyRequest({ ...params, biz_content: params.biz_content!.replace("199.00", "1.99") }, keys.appPublic).valid, false);
});

test("requests are signed with the parsed app key: the same bytes the SDK makes from the PEM text", () => {
  const url = createAlipayClient(baseConfig).pagePayUrl(payRequest);
  const params = parseQueryString(url);
  const { sign, ...rest } = params;
  // PKCS#1 v1.5 is deterministic: signing the request rule's string with the PEM gives the same sign.
  assert.equal(sign, signContent(Object.keys(rest).filter((k) => rest[k] !== "").sort().map((k) => `${k}=${rest[k]}`).join("&"), keys.appPrivate));
});

test("pagePayUrl: cert mode adds app_cert_sn and alipay_root_cert_sn, signed", () => {
  const client = createAlipayClient({
    ...baseConfig,
    alipayPublicKey: keys.alipayPublicCert,
    certs: { appCert: keys.appPublicCert, alipayRootCert: keys.alipayRootCert },
  });
  const params = parseQueryString(client.pagePayUrl(payRequest));
  assert.equal(params.app_cert_sn, certSerialNumber(keys.appPublicCert));
  assert.equal(params.alipay_root_cert_sn, rootCertSerialNumber(keys.alipayRootCert));
  assert.equal(verifyRequest(params, keys.appPublic).valid, true);
});

test("pagePayUrl: invalid arguments are programming errors", () => {
  const client = createAlipayClient(baseConfig);
  for (const bad of [
    { outTradeNo: "has-hyphen" },
    { outTradeNo: "x".repeat(65) },
    { totalFen: 0 },
    { totalFen: 1.5 },
    { totalFen: 10_000_000_001 },
    { subject: " " },
    { expiresAt: new Date(Number.NaN) },
    { returnUrl: "javascript:alert(1)" },
    { notifyUrl: "/relative" },
  ]) {
    assert.throws(() => client.pagePayUrl({ ...payRequest, ...bad }), TypeError, JSON.stringify(bad));
  }
});

test("createAlipayClient fails fast on unusable keys or gateway", () => {
  assert.throws(() => createAlipayClient({ ...baseConfig, alipayPublicKey: keys.appPrivate }), /private key/);
  assert.throws(() => createAlipayClient({ ...baseConfig, appPrivateKey: keys.appPublic }), /public key/);
  assert.throws(() => createAlipayClient({ ...baseConfig, gatewayUrl: "openapi.alipay.com" }), /gatewayUrl/);
  // Every key shape works: PKCS#1 private, bare base64 public.
  const params = parseQueryString(
    createAlipayClient({ ...baseConfig, appPrivateKey: keys.alipayPrivate, alipayPublicKey: keys.appPublic }).pagePayUrl(payRequest),
  );
  assert.equal(verifyRequest(params, keys.alipayPublic).valid, true);
});

// ---- a real local HTTP gateway, scripted per out_trade_no ----

type Seen = { query: Record<string, string>; body: Record<string, string>; signatureOk: boolean };
const seen: Seen[] = [];
let server: http.Server;
let gatewayUrl = "";

function signedBody(method: string, node: Record<string, unknown>, opts: { signFirst?: boolean; key?: string; noSign?: boolean; nodeKey?: string } = {}): string {
  const nodeText = JSON.stringify(node);
  const key = opts.nodeKey ?? responseKeyFor(method);
  if (opts.noSign) return `{"${key}":${nodeText}}`;
  const sign = signContent(nodeText, opts.key ?? keys.alipayPrivate);
  return opts.signFirst ? `{"sign":"${sign}","${key}":${nodeText}}` : `{"${key}":${nodeText},"sign":"${sign}"}`;
}

const paid = {
  code: "10000",
  msg: "Success",
  trade_no: "2024050122001400000000000001",
  out_trade_no: "OK_PAID",
  trade_status: "TRADE_SUCCESS",
  total_amount: "199.00",
  buyer_pay_amount: "199.00",
  receipt_amount: "199.00",
  buyer_user_id: "2088102000000001",
  buyer_logon_id: "abc***@sandbox.com",
  send_pay_date: "2024-05-01 12:05:00",
};
const fail = (code: string, subCode: string, subMsg: string) => ({ code, msg: "Business Failed", sub_code: subCode, sub_msg: subMsg });

function respond(method: string, outTradeNo: string, res: http.ServerResponse): void {
  const send = (body: string, status = 200) => {
    res.writeHead(status, { "content-type": "text/html;charset=utf-8" }).end(body);
  };
  switch (outTradeNo) {
    case "OK_PAID":
      return send(signedBody(method, paid));
    case "SIGN_FIRST":
      return send(signedBody(method, { ...paid, out_trade_no: "SIGN_FIRST" }, { signFirst: true }));
    case "NOT_EXIST":
      return send(signedBody(method, fail("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")));
    case "SYS_ERR":
      return send(signedBody(method, fail("40004", "ACQ.SYSTEM_ERROR", "系统错误")));
    case "GW_20000":
      return send(signedBody(method, { code: "20000", msg: "Service Currently Unavailable", sub_code: "isp.unknow-error", sub_msg: "系统繁忙" }));
    case "RATE_LIMIT":
      return send(signedBody(method, { code: "40005", msg: "Call Limited", sub_code: "aop.ACQ.API_LIMIT", sub_msg: "调用频次超限" }));
    case "BAD_SIG":
      return send(signedBody(method, paid, { key: keys.appPrivate }));
    case "NO_SIGN":
      return send(signedBody(method, fail("40002", "isv.invalid-app-id", "无效的AppID参数"), { noSign: true, nodeKey: "error_response" }));
    case "EMPTY_SIGN":
      return send(`{"${responseKeyFor(method)}":${JSON.stringify(fail("40002", "isv.invalid-signature", "验签出错"))},"sign":""}`);
    case "UNSIGNED_SUCCESS":
      return send(signedBody(method, paid, { noSign: true }));
    case "AOP_NOT_EXIST":
      return send(signedBody(method, fail("40004", "aop.ACQ.TRADE_NOT_EXIST", "交易不存在")));
    case "AOP_SYS_ERR":
      return send(signedBody(method, fail("40004", "aop.ACQ.SYSTEM_ERROR", "系统错误")));
    case "GBK": {
      const text = JSON.stringify(fail("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在"));
      const sign = signContent(text, keys.alipayPrivate, "RSA2", "gbk");
      res.writeHead(200, { "content-type": "application/json;charset=GBK" }).end(encodeText(`{"${responseKeyFor(method)}":${text},"sign":"${sign}"}`, "gbk"));
      return;
    }
    case "GBK_UNDECLARED": {
      const text = JSON.stringify(fail("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在"));
      const sign = signContent(text, keys.alipayPrivate, "RSA2", "gbk");
      res.writeHead(200, { "content-type": "application/json" }).end(encodeText(`{"${responseKeyFor(method)}":${text},"sign":"${sign}"}`, "gbk"));
      return;
    }
    case "WEIRD_STATUS":
      return send(signedBody(method, { ...paid, trade_status: "PAID" }));
    case "HTML":
      return send("<html><body>502 Bad Gateway</body></html>");
    case "HTTP_502":
      return send("bad gateway", 502);
    case "SLOW":
      setTimeout(() => send(signedBody(method, paid)), 10_000).unref();
      return;
    case "REFUND_OK":
      return send(signedBody(method, { code: "10000", msg: "Success", trade_no: paid.trade_no, out_trade_no: outTradeNo, buyer_logon_id: "abc***", fund_change: "Y", refund_fee: "50.00", gmt_refund_pay: "2024-05-02 09:00:00" }));
    case "REFUND_EMPTY":
      return send(signedBody(method, { code: "10000", msg: "Success", out_trade_no: outTradeNo, out_request_no: "R1" }));
    case "REFUND_DONE":
      return send(signedBody(method, { code: "10000", msg: "Success", trade_no: paid.trade_no, out_trade_no: outTradeNo, out_request_no: "R1", total_amount: "199.00", refund_amount: "50.00", refund_status: "REFUND_SUCCESS" }));
    case "REFUND_NO_STATUS":
      // A synchronous refund that succeeded: refund data without refund_status.
      return send(signedBody(method, { code: "10000", msg: "Success", trade_no: paid.trade_no, out_trade_no: outTradeNo, out_request_no: "R1", total_amount: "199.00", refund_amount: "50.00" }));
    case "REFUND_EMPTY_STATUS":
      return send(signedBody(method, { code: "10000", msg: "Success", trade_no: paid.trade_no, out_trade_no: outTradeNo, out_request_no: "R1", total_amount: "199.00", refund_amount: "50.00", refund_status: "" }));
    case "REFUND_PROCESSING":
      return send(signedBody(method, { code: "10000", msg: "Success", trade_no: paid.trade_no, out_trade_no: outTradeNo, out_request_no: "R1", total_amount: "199.00", refund_amount: "50.00", refund_status: "REFUND_PROCESSING" }));
    case "CLOSE_OK":
      return send(signedBody(method, { code: "10000", msg: "Success", trade_no: paid.trade_no, out_trade_no: outTradeNo }));
    default:
      return send(signedBody(method, fail("40004", "ACQ.INVALID_PARAMETER", `unscripted ${outTradeNo}`)));
  }
}

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const query = parseQueryString(req.url ?? "");
      const body = parseFormBody(Buffer.concat(chunks));
      const all = { ...query, ...body };
      seen.push({ query, body, signatureOk: verifyRequest(all, keys.appPublic).valid });
      const biz = JSON.parse(all.biz_content ?? "{}") as { out_trade_no?: string };
      respond(all.method ?? "", biz.out_trade_no ?? "", res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gateway.do`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const client = () => createAlipayClient({ ...baseConfig, gatewayUrl, timeoutMs: 3000 });

test("queryTrade ok: typed fields, request signed and laid out like the SDK's exec", async () => {
  const before = seen.length;
  const r = await client().queryTrade("OK_PAID");
  assert.deepEqual(r, {
    kind: "ok",
    tradeNo: paid.trade_no,
    outTradeNo: "OK_PAID",
    tradeStatus: "TRADE_SUCCESS",
    totalFen: 19900,
    buyerPayFen: 19900,
    receiptFen: 19900,
    buyerId: "2088102000000001",
    buyerLogonId: "abc***@sandbox.com",
    sendPayDate: new Date("2024-05-01T04:05:00Z"),
  });
  const req = seen[before]!;
  assert.equal(req.signatureOk, true);
  assert.equal(req.query.method, "alipay.trade.query");
  assert.equal(req.query.timestamp, "2024-05-01 12:00:00");
  assert.ok(req.query.sign && req.query.app_id && req.query.sign_type, "system params in the URL");
  assert.deepEqual(JSON.parse(req.body.biz_content!), { out_trade_no: "OK_PAID" });
  assert.equal(req.query.biz_content, undefined, "biz_content in the body");
});

test("server calls carry exactly the parameters and signature the SDK's sdkExecute makes, in key and certificate mode", async () => {
  const certs = { appCert: keys.appPublicCert, alipayRootCert: keys.alipayRootCert };
  for (const mode of ["key", "cert"] as const) {
    const c = createAlipayClient({ ...baseConfig, gatewayUrl, timeoutMs: 3000, ...(mode === "cert" ? { alipayPublicKey: keys.alipayPublicCert, certs } : {}) });
    const sdk = new AlipaySdk({
      appId: baseConfig.appId, privateKey: privateKeyPem(keys.appPrivate).trim(), keyType: "PKCS8",
      alipayPublicKey: publicKeyPem(keys.alipayPublicBare).trim(), gateway: gatewayUrl, signType: "RSA2", camelcase: false,
    });
    const certParams = mode === "cert" ? { appCertSn: certSerialNumber(certs.appCert), alipayRootCertSn: rootCertSerialNumber(certs.alipayRootCert) } : {};
    const calls: [string, () => Promise<unknown>, Record<string, string>][] = [
      ["alipay.trade.query", () => c.queryTrade("OK_PAID"), { out_trade_no: "OK_PAID" }],
      ["alipay.trade.close", () => c.closeTrade("CLOSE_OK"), { out_trade_no: "CLOSE_OK" }],
      ["alipay.trade.refund", () => c.refund({ outTradeNo: "REFUND_OK", refundFen: 5000, outRequestNo: "R1", reason: "课程退款 & more" }),
        { out_trade_no: "REFUND_OK", refund_amount: "50.00", out_request_no: "R1", refund_reason: "课程退款 & more" }],
      ["alipay.trade.fastpay.refund.query", () => c.refundQuery({ outTradeNo: "REFUND_DONE", outRequestNo: "R1" }), { out_trade_no: "REFUND_DONE", out_request_no: "R1" }],
      ["alipay.data.dataservice.bill.downloadurl.query", () => c.billDownloadUrl({ billType: "trade", billDate: "2024-04-30" }), { bill_type: "trade", bill_date: "2024-04-30" }],
    ];
    for (const [method, call, bizContent] of calls) {
      const before = seen.length;
      await call();
      const req = seen[before]!;
      const bySdk = parseQueryString(`?${sdk.sdkExecute(method, { timestamp: "2024-05-01 12:00:00", ...certParams, bizContent })}`);
      assert.deepEqual({ ...req.query, ...req.body }, bySdk, `${mode} mode ${method}`);
      assert.deepEqual(Object.keys(req.body), ["biz_content"], `${mode} mode ${method}: only biz_content in the body`);
      assert.equal(req.signatureOk, true);
    }
  }
});

test("queryTrade: sign placed before the node still verifies", async () => {
  const r = await client().queryTrade("SIGN_FIRST");
  assert.equal(r.kind, "ok");
});

test("queryTrade: 40004 ACQ.TRADE_NOT_EXIST is a business error", async () => {
  assert.deepEqual(await client().queryTrade("NOT_EXIST"), {
    kind: "business_error",
    code: "40004",
    msg: "Business Failed",
    subCode: "ACQ.TRADE_NOT_EXIST",
    subMsg: "交易不存在",
  });
});

test("unknown outcomes: system errors, bad or missing signatures, malformed data, HTTP and network trouble", async () => {
  const c = client();
  const reasonOf = async (outTradeNo: string) => {
    const r = await c.queryTrade(outTradeNo);
    assert.equal(r.kind, "unknown", `${outTradeNo}: ${JSON.stringify(r)}`);
    return (r as { reason: string }).reason;
  };
  assert.match(await reasonOf("SYS_ERR"), /ACQ\.SYSTEM_ERROR/);
  assert.match(await reasonOf("GW_20000"), /^gateway_20000/);
  assert.match(await reasonOf("RATE_LIMIT"), /^gateway_40005/);
  assert.match(await reasonOf("BAD_SIG"), /^bad_response_signature: wrong_key_or_tampered/);
  const noSign = await reasonOf("NO_SIGN");
  assert.match(noSign, /^Alipay refused the call: 40002 isv\.invalid-app-id \(unsigned answer\) \(无效的AppID参数\); hint: ALIPAY_APP_ID/);
  assert.match(await reasonOf("EMPTY_SIGN"), /^Alipay refused the call: 40002 isv\.invalid-signature \(unsigned answer\).*hint: the app public key uploaded/);
  // An unsigned "success" is not a refusal: it is an unverifiable answer, never believed.
  assert.match(await reasonOf("UNSIGNED_SUCCESS"), /^bad_response_signature: missing_sign/);
  assert.match(await reasonOf("AOP_SYS_ERR"), /ACQ\.SYSTEM_ERROR/);
  assert.match(await reasonOf("GBK_UNDECLARED"), /^charset: response body is not utf-8/);
  assert.match(await reasonOf("WEIRD_STATUS"), /^malformed_response: trade_status/);
  assert.match(await reasonOf("HTML"), /^bad_response_signature: malformed_json/);
  assert.match(await reasonOf("HTTP_502"), /^http_status: .*502/);
  assert.match(await reasonOf("SLOW"), /^timeout/);
  const closed = createAlipayClient({ ...baseConfig, gatewayUrl: "http://127.0.0.1:1/gateway.do", timeoutMs: 500 });
  const r = await closed.queryTrade("OK_PAID");
  assert.equal(r.kind, "unknown");
  assert.match((r as { reason: string }).reason, /^(network|timeout)/);
});

test("aop.-prefixed sub_codes mean their unprefixed code; GBK answers decode and verify by their declared charset", async () => {
  const c = client();
  const notExist = await c.queryTrade("AOP_NOT_EXIST");
  assert.ok(notExist.kind === "business_error");
  assert.equal(notExist.subCode, "ACQ.TRADE_NOT_EXIST");
  const gbk = await c.queryTrade("GBK");
  assert.ok(gbk.kind === "business_error", JSON.stringify(gbk));
  assert.equal(gbk.subMsg, "交易不存在");
  assert.equal(normalizeSubCode("aop.ACQ.SYSTEM_ERROR"), "ACQ.SYSTEM_ERROR");
  assert.equal(normalizeSubCode("aop.isv.invalid-app-id"), "isv.invalid-app-id");
  assert.equal(normalizeSubCode("aop.unknow-error"), "aop.unknow-error", "aop's own codes stay");
  assert.equal(normalizeSubCode("aop.invalid-auth-token"), "aop.invalid-auth-token");
});

test("a response signed by another key is unknown even when it says success", async () => {
  const wrongKey = createAlipayClient({ ...baseConfig, gatewayUrl, alipayPublicKey: keys.appPublic });
  const r = await wrongKey.queryTrade("OK_PAID");
  assert.equal(r.kind, "unknown");
  assert.equal(reasonCode((r as { reason: string }).reason.replace(/^bad_response_signature: /, "")), "wrong_key_or_tampered");
});

test("closeTrade, refund, refundQuery: typed ok results and request parameters", async () => {
  const c = client();
  assert.deepEqual(await c.closeTrade("CLOSE_OK"), { kind: "ok", tradeNo: paid.trade_no, outTradeNo: "CLOSE_OK" });
  assert.equal(seen.at(-1)!.query.method, "alipay.trade.close");

  assert.deepEqual(await c.refund({ outTradeNo: "REFUND_OK", refundFen: 5000, outRequestNo: "R1", reason: "课程退款" }), {
    kind: "ok",
    tradeNo: paid.trade_no,
    outTradeNo: "REFUND_OK",
    refundedTotalFen: 5000,
    fundChange: true,
    gmtRefundPay: new Date("2024-05-02T01:00:00Z"),
  });
  const refundReq = seen.at(-1)!;
  assert.equal(refundReq.query.method, "alipay.trade.refund");
  assert.equal(refundReq.signatureOk, true);
  assert.deepEqual(JSON.parse(refundReq.body.biz_content!), { out_trade_no: "REFUND_OK", refund_amount: "50.00", out_request_no: "R1", refund_reason: "课程退款" });

  assert.deepEqual(await c.refundQuery({ outTradeNo: "REFUND_DONE", outRequestNo: "R1" }), {
    kind: "ok",
    outTradeNo: "REFUND_DONE",
    tradeNo: paid.trade_no,
    outRequestNo: "R1",
    refundStatus: "REFUND_SUCCESS",
    refundFen: 5000,
    totalFen: 19900,
    statusImplied: false,
  });
  assert.equal(seen.at(-1)!.query.method, "alipay.trade.fastpay.refund.query");
  const empty = await c.refundQuery({ outTradeNo: "REFUND_EMPTY", outRequestNo: "R1" });
  assert.equal(empty.kind, "ok");
  assert.equal(empty.kind === "ok" && empty.refundStatus, null);
  assert.equal(empty.kind === "ok" && empty.refundFen, null);
});

test("refundQuery: Alipay's rule — refund data without refund_status is a success; no data is not refunded", async () => {
  const c = client();
  const implied = await c.refundQuery({ outTradeNo: "REFUND_NO_STATUS", outRequestNo: "R1" });
  assert.equal(implied.kind, "ok");
  assert.equal(implied.kind === "ok" && implied.refundStatus, "REFUND_SUCCESS");
  assert.equal(implied.kind === "ok" && implied.statusImplied, true);
  assert.equal(implied.kind === "ok" && implied.refundFen, 5000);
  const emptyStatus = await c.refundQuery({ outTradeNo: "REFUND_EMPTY_STATUS", outRequestNo: "R1" });
  assert.equal(emptyStatus.kind === "ok" && emptyStatus.refundStatus, "REFUND_SUCCESS", "an empty refund_status is a success too");
  assert.equal(emptyStatus.kind === "ok" && emptyStatus.statusImplied, true);
  const processing = await c.refundQuery({ outTradeNo: "REFUND_PROCESSING", outRequestNo: "R1" });
  assert.equal(processing.kind === "ok" && processing.refundStatus, "REFUND_PROCESSING");
  const none = await c.refundQuery({ outTradeNo: "REFUND_EMPTY", outRequestNo: "R1" });
  assert.equal(none.kind === "ok" && none.refundStatus, null);
  assert.equal(none.kind === "ok" && none.statusImplied, false);

  await assert.rejects(c.refund({ outTradeNo: "REFUND_OK", refundFen: 0, outRequestNo: "R1" }), TypeError);
  await assert.rejects(c.refund({ outTradeNo: "REFUND_OK", refundFen: 100, outRequestNo: "" }), TypeError);
  await assert.rejects(c.queryTrade(""), TypeError);
});
