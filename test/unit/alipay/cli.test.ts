// scripts/alipay-cli.ts as a child process: input shapes, exit codes 0/1/2, no stack traces.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { encodeFormBody } from "../../../core/alipay/form.ts";
import { responseKeyFor } from "../../../core/alipay/response.ts";
import { reasonCode, signContent, signParams } from "../../../core/alipay/signature.ts";
import { keys, keysDir, runCli, tempFile } from "./helpers.ts";

const alipayPem = path.join(keysDir, "alipay_public_key.pem");
const alipayBare = path.join(keysDir, "alipay_public_key.txt");
const alipayCert = path.join(keysDir, "alipay_public_cert.crt");
const appPrivate = path.join(keysDir, "app_private_key.pem");

const notify = { notify_id: "n1", out_trade_no: "CP_1", total_amount: "1.00", passback_params: "a%3D1", sign_type: "RSA2" };
const notifyBody = encodeFormBody({ ...notify, sign: signParams(notify, keys.alipayPrivate, "RSA2", "V1") });

function parseLine(stdout: string): { valid: boolean; reason: string; signedContent: string } {
  const lines = stdout.trimEnd().split("\n");
  assert.equal(lines.length, 1);
  return JSON.parse(lines[0]!);
}

test("verify notify: PEM, bare base64 and certificate key files; echo's trailing newline is tolerated", async () => {
  for (const keyFile of [alipayPem, alipayBare, alipayCert]) {
    const r = await runCli(["verify", "notify", "--alipay-public-key", keyFile], `${notifyBody}\n`);
    assert.equal(r.code, 0, r.stderr);
    const out = parseLine(r.stdout);
    assert.equal(out.valid, true);
    assert.equal(out.signedContent, "notify_id=n1&out_trade_no=CP_1&passback_params=a%3D1&total_amount=1.00");
  }
});

test("verify notify: tampered body → exit 1 with reason; duplicated key → exit 1 malformed_body", async () => {
  const tampered = await runCli(["verify", "notify", "--alipay-public-key", alipayPem], notifyBody.replace("1.00", "9.00"));
  assert.equal(tampered.code, 1);
  assert.equal(reasonCode(parseLine(tampered.stdout).reason), "wrong_key_or_tampered");
  const dup = await runCli(["verify", "notify", "--alipay-public-key", alipayPem], `${notifyBody}&total_amount=9.00`);
  assert.equal(dup.code, 1);
  assert.match(parseLine(dup.stdout).reason, /^malformed_body: duplicate_key/);
  const empty = await runCli(["verify", "notify", "--alipay-public-key", alipayPem], "");
  assert.equal(empty.code, 1);
  assert.equal(reasonCode(parseLine(empty.stdout).reason), "missing_sign");
});

test("verify return accepts a whole URL pasted from the browser", async () => {
  const r = await runCli(["verify", "return", "--alipay-public-key", alipayPem], `https://shop.example/alipay/return?${notifyBody}`);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test("verify response: sign-first body, RSA via --sign-type, unknown node", async () => {
  const node = '{"code":"10000","msg":"Success","out_trade_no":"CP_1"}';
  const key = responseKeyFor("alipay.trade.close");
  const ok = await runCli(["verify", "response", "--method", "alipay.trade.close", "--alipay-public-key", alipayPem], `{"sign":"${signContent(node, keys.alipayPrivate)}","${key}":${node}}`);
  assert.equal(ok.code, 0, ok.stdout);
  assert.equal(parseLine(ok.stdout).signedContent, node);
  const rsa = `{"${key}":${node},"sign":"${signContent(node, keys.alipayPrivate, "RSA")}"}`;
  assert.equal((await runCli(["verify", "response", "--method", "alipay.trade.close", "--alipay-public-key", alipayPem, "--sign-type", "RSA"], rsa)).code, 0);
  assert.equal((await runCli(["verify", "response", "--method", "alipay.trade.close", "--alipay-public-key", alipayPem], rsa)).code, 1);
  const other = await runCli(["verify", "response", "--method", "alipay.trade.query", "--alipay-public-key", alipayPem], rsa);
  assert.equal(other.code, 1);
  assert.equal(reasonCode(parseLine(other.stdout).reason), "response_node_not_found");
});

test("sign request prints the sign for a JSON object of string params", async () => {
  const params = { app_id: "1", method: "alipay.trade.query", sign_type: "RSA2", biz_content: '{"out_trade_no":"A"}' };
  const r = await runCli(["sign", "request", "--app-private-key", appPrivate], JSON.stringify(params));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${signParams(params, keys.appPrivate)}\n`);
});

test("unusable input → exit 2, a one-line reason on stderr, no stack trace", async () => {
  const cases: Array<[string[], string, RegExp]> = [
    [["verify", "notify", "--alipay-public-key", "/nonexistent/key.pem"], notifyBody, /cannot read .*ENOENT/],
    [["verify", "notify", "--alipay-public-key", appPrivate], notifyBody, /private key/],
    [["verify", "notify", "--alipay-public-key", tempFile("junk.pem", "not a key")], notifyBody, /neither PEM nor bare base64/],
    [["verify", "notify"], notifyBody, /missing --alipay-public-key/],
    [["verify", "sideways", "--alipay-public-key", alipayPem], "", /unknown verify subcommand/],
    [["verify", "response", "--alipay-public-key", alipayPem], "{}", /missing --method/],
    [["verify", "response", "--method", "m", "--sign-type", "MD5", "--alipay-public-key", alipayPem], "{}", /RSA2 or RSA/],
    [["frobnicate"], "", /unknown command/],
    [[], "", /unknown command/],
    [["verify", "notify", "--no-such-option"], "", /Unknown option/],
    [["sign", "request", "--app-private-key", appPrivate], "{not json", /not valid JSON/],
    [["sign", "request", "--app-private-key", appPrivate], "[1,2]", /JSON object/],
    [["sign", "request", "--app-private-key", appPrivate], '{"a":1}', /must be strings/],
    [["sign", "request", "--app-private-key", appPrivate], '{"a":"1","sign":"x"}', /already contain "sign"/],
    [["sign", "request", "--app-private-key", alipayPem], '{"a":"1"}', /signing needs the app private key/],
  ];
  await Promise.all(
    cases.map(async ([args, stdin, message]) => {
      const r = await runCli(args, stdin);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, "", args.join(" "));
      assert.match(r.stderr, message, args.join(" "));
      assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${args.join(" ")}`);
    }),
  );
});

test("--help prints usage, exit 0", async () => {
  const r = await runCli(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /verify notify/);
});
