// Every shared third-party vector, through the library and through the CLI (child process).
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeFormBody, parseFormBody, parseQueryString } from "../../../core/alipay/form.ts";
import { buildSignContent, reasonCode, signParams, verifyCallback, verifyCandidates, verifyResponse, type VerifyResult } from "../../../core/alipay/signature.ts";
import { loadVectors, methodOf, runCli, tempFile, type Vector } from "./helpers.ts";

const vectors = loadVectors();

test("the shared vector set is present and of known kinds", () => {
  assert.ok(vectors.length >= 8, `expected the shared vectors, found ${vectors.length}`);
  for (const v of vectors) {
    assert.ok(["notify", "return", "params_v2_keep_sign_type", "request_sign", "response"].includes(v.kind), `${v.id}: unknown kind ${v.kind}`);
  }
});

/** What the library says about a vector, by its kind. */
function verifyWithLibrary(v: Vector): VerifyResult {
  switch (v.kind) {
    case "notify":
      // The constructed form body exercises the parser too; the decoded params must agree with it.
      if (v.form_body_constructed) assert.deepEqual(parseFormBody(v.form_body_constructed), v.params);
      return verifyCallback(parseFormBody(v.form_body_constructed ?? encodeFormBody(v.params!)), v.public_key_pem);
    case "return":
      assert.deepEqual(parseQueryString(v.raw_query!), v.params);
      return verifyCallback(parseQueryString(`?${v.raw_query!}`), v.public_key_pem);
    case "params_v2_keep_sign_type":
      return verifyCallback(v.params!, v.public_key_pem, { allowV2: true });
    case "response":
      return verifyResponse(v.raw_response!, methodOf(v.response_key!), v.public_key_pem, { signType: v.algorithm });
    case "request_sign":
      throw new Error("request_sign vectors are signed, not verified");
  }
}

for (const v of vectors.filter((x) => x.kind !== "request_sign")) {
  test(`library: ${v.id} → ${v.expect ? "valid" : "invalid"}`, () => {
    const r = verifyWithLibrary(v);
    assert.equal(r.valid, v.expect, r.reason);
    if (v.expect) {
      assert.equal(r.reason, "ok");
      if (v.string_to_sign) assert.equal(r.signedContent, v.string_to_sign);
    } else {
      assert.equal(reasonCode(r.reason), "wrong_key_or_tampered");
    }
  });
}

test("library: V1 vectors do NOT verify under rule V2 alone, and the V2 vector needs allowV2", () => {
  for (const v of vectors.filter((x) => (x.kind === "notify" || x.kind === "return") && x.expect)) {
    const v2Only = buildSignContent(v.params!, { exclude: ["sign"] });
    assert.equal(verifyCandidates([v2Only], v.params!.sign, v.public_key_pem, v.algorithm).valid, false, v.id);
  }
  for (const v of vectors.filter((x) => x.kind === "params_v2_keep_sign_type")) {
    assert.equal(verifyCallback(v.params!, v.public_key_pem).valid, false, `${v.id} must need allowV2`);
  }
});

for (const v of vectors.filter((x) => x.kind === "request_sign")) {
  test(`library: ${v.id} request signature reproduced byte for byte`, () => {
    const { sign, ...unsigned } = v.params!;
    assert.equal(buildSignContent(unsigned, { exclude: ["sign"] }), v.string_to_sign);
    assert.equal(signParams(unsigned, v.private_key_pem!, v.algorithm), sign);
    // The signature is over the request rule: sign_type included; a V1 signature differs.
    assert.notEqual(signParams(unsigned, v.private_key_pem!, v.algorithm, "V1"), sign);
    // Also when the input still carries the old sign (it is excluded).
    assert.equal(signParams(v.params!, v.private_key_pem!), sign);
  });
}

/** CLI arguments + stdin for a vector. */
function cliInvocation(v: Vector): { args: string[]; stdin: string } {
  const keyFile = tempFile(`${v.id}.pem`, v.public_key_pem);
  switch (v.kind) {
    case "notify":
      return { args: ["verify", "notify", "--alipay-public-key", keyFile], stdin: v.form_body_constructed ?? encodeFormBody(v.params!) };
    case "params_v2_keep_sign_type":
      // A 应用网关 message arrives as a POST form too: verify notify falls back to V2.
      return { args: ["verify", "notify", "--alipay-public-key", keyFile], stdin: encodeFormBody(v.params!) };
    case "return":
      return { args: ["verify", "return", "--alipay-public-key", keyFile], stdin: `?${v.raw_query!}` };
    case "response":
      return {
        args: ["verify", "response", "--method", methodOf(v.response_key!), "--alipay-public-key", keyFile, "--sign-type", v.algorithm],
        stdin: v.raw_response!,
      };
    case "request_sign": {
      const { sign: _sign, ...unsigned } = v.params!;
      return { args: ["sign", "request", "--app-private-key", tempFile(`${v.id}.key`, v.private_key_pem!)], stdin: JSON.stringify(unsigned) };
    }
  }
}

test("CLI: every vector, as a child process", async () => {
  await Promise.all(
    vectors.map(async (v) => {
      const { args, stdin } = cliInvocation(v);
      const r = await runCli(args, stdin);
      if (v.kind === "request_sign") {
        assert.equal(r.code, 0, `${v.id}: ${r.stderr}`);
        assert.equal(r.stdout, `${v.params!.sign}\n`, v.id);
        return;
      }
      assert.equal(r.code, v.expect ? 0 : 1, `${v.id}: exit ${r.code} ${r.stderr}`);
      assert.equal(r.stderr, "", v.id);
      const lines = r.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 1, `${v.id}: one JSON line`);
      const out = JSON.parse(lines[0]!) as VerifyResult;
      assert.deepEqual(Object.keys(out), ["valid", "reason", "signedContent"]);
      assert.equal(out.valid, v.expect, `${v.id}: ${out.reason}`);
      if (v.expect && v.string_to_sign) assert.equal(out.signedContent, v.string_to_sign, v.id);
      if (!v.expect) assert.equal(reasonCode(out.reason), "wrong_key_or_tampered", v.id);
    }),
  );
});
