// Property tests: sign (rule V1, as the gateway does) → render as a form body → parseFormBody →
// verifyCallback round-trips for hostile parameter values, and any one-byte change of the body or of
// the sign is rejected unless it decodes to the very same signed parameters (e.g. %2b vs %2B).
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { encodeFormBody, parseFormBody } from "../../../core/alipay/form.ts";
import { signParams, verifyCallback } from "../../../core/alipay/signature.ts";
import { keys } from "./helpers.ts";

// Characters that break naive implementations: form syntax, escapes, spaces, non-BMP, newlines.
const tricky = fc.constantFrom("+", "%", "&", "=", " ", "%20", "%2B", "?", "#", "\n", "中", "😀", "\"", "\\", "é");
const valueChar = fc.oneof({ weight: 3, arbitrary: tricky }, { weight: 5, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) });
const value = fc.oneof(
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 8, arbitrary: fc.string({ unit: valueChar, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: valueChar, minLength: 500, maxLength: 2000 }) },
);
const key = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/),
  fc.string({ unit: valueChar, minLength: 1, maxLength: 8 }),
).filter((k) => k !== "sign" && k !== "sign_type");

const paramSets = fc
  .dictionary(key, value, { minKeys: 1, maxKeys: 12 })
  // Plain objects from JSON-ish keys; drop a "__proto__" the dictionary may create as a prototype.
  .map((d) => ({ ...Object.fromEntries(Object.entries(d)), sign_type: "RSA2" }) as Record<string, string>);

/** Two legal renderings: encodeURIComponent (%20) and URLSearchParams (+ for space, more escapes). */
function render(params: Record<string, string>, style: "percent" | "plus"): string {
  return style === "percent" ? encodeFormBody(params) : new URLSearchParams(Object.entries(params)).toString();
}

function signed(params: Record<string, string>): Record<string, string> {
  return { ...params, sign: signParams(params, keys.alipayPrivate, "RSA2", "V1") };
}

/** The parameters rule V1 signs: non-empty, without sign_type (sign itself must match to verify). */
function signedView(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter(([k, v]) => v !== "" && k !== "sign_type"));
}

/** Does the (possibly mutated) body verify? Parse errors count as rejection. */
function accepted(body: Buffer): { ok: boolean; params?: Record<string, string> } {
  let params: Record<string, string>;
  try {
    params = parseFormBody(body);
  } catch {
    return { ok: false };
  }
  return { ok: verifyCallback(params, keys.alipayPublic).valid, params };
}

test("property: V1-signed params survive form encoding, parsing and verification", () => {
  fc.assert(
    fc.property(paramSets, fc.constantFrom("percent", "plus") as fc.Arbitrary<"percent" | "plus">, (params, style) => {
      const withSign = signed(params);
      const parsed = parseFormBody(render(withSign, style));
      assert.deepEqual(parsed, withSign);
      const r = verifyCallback(parsed, keys.alipayPublic);
      assert.equal(r.valid, true, r.reason);
    }),
    { numRuns: 150 },
  );
});

test("property: any one-byte change of the body is rejected or decodes to identical params", () => {
  fc.assert(
    fc.property(paramSets, fc.nat(), fc.integer({ min: 1, max: 255 }), (params, at, delta) => {
      const withSign = signed(params);
      const body = Buffer.from(render(withSign, "percent"), "utf8");
      const mutated = Buffer.from(body);
      const i = at % body.length;
      mutated[i] = (body[i]! + delta) % 256;
      const r = accepted(mutated);
      // Empty values are outside the signature under Alipay's Java rule (docs/alipay-protocol.md §8.1): renaming
      // an empty parameter ("a=" → "b=") is invisible to it. So is sign_type under rule V1, and a
      // missing sign_type means RSA2: breaking "sign_type=RSA2" into "sign_type&RSA2" changes nothing
      // that was signed. Everything else with a value must be intact.
      if (r.ok) assert.deepEqual(signedView(r.params!), signedView(withSign), `byte ${i} changed ${body[i]}→${mutated[i]} yet verified with other params`);
    }),
    { numRuns: 400 },
  );
});

test("property: any one-character change of the sign is rejected", () => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= -_";
  fc.assert(
    fc.property(paramSets, fc.nat(), fc.nat(), (params, at, pick) => {
      const withSign = signed(params);
      const sign = withSign.sign!;
      const i = at % sign.length;
      const replacement = alphabet.replace(sign[i]!, "")[pick % (alphabet.length - 1)]!;
      const tampered = { ...withSign, sign: sign.slice(0, i) + replacement + sign.slice(i + 1) };
      assert.equal(verifyCallback(tampered, keys.alipayPublic).valid, false, `sign[${i}] ${sign[i]}→${replacement}`);
    }),
    { numRuns: 300 },
  );
});

test("property: a changed, added or removed parameter is rejected", () => {
  fc.assert(
    fc.property(paramSets, key, value, (params, extraKey, extraValue) => {
      const withSign = signed(params);
      const victim = Object.keys(params).find((k) => k !== "sign_type")!;
      const changed = { ...withSign, [victim]: `${withSign[victim]}x` };
      assert.equal(verifyCallback(changed, keys.alipayPublic).valid, false, "changed value");
      const { [victim]: _removed, ...removed } = withSign;
      if (withSign[victim] !== "") assert.equal(verifyCallback(removed, keys.alipayPublic).valid, false, "removed param");
      if (!(extraKey in withSign) && extraValue !== "") {
        assert.equal(verifyCallback({ ...withSign, [extraKey]: extraValue }, keys.alipayPublic).valid, false, "added param");
      }
    }),
    { numRuns: 150 },
  );
});
