// The doctor's pure checks (scripts/doctor.ts): certificate validity lines (expired ✗, within 30 days ⚠)
// and the notify-URL rule (https, public host). The whole doctor runs against the local gateway in
// test/integration/golive/doctor.test.ts.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { test } from "node:test";
import { EXPIRY_WARNING_DAYS, expiryLine, formatLines, notifyUrlProblem } from "../../../scripts/doctor.ts";
import { keys } from "./helpers.ts";

const cert = new crypto.X509Certificate(keys.alipayPublicCert);
const notAfter = new Date(cert.validTo).getTime();
const DAY = 24 * 3600 * 1000;

test("certificate validity: ok far from expiry, warning within 30 days, failure once expired", () => {
  assert.equal(expiryLine("ALIPAY_CERT_FILE validity", cert, new Date(notAfter - 400 * DAY)).verdict, "ok");
  assert.equal(expiryLine("x", cert, new Date(notAfter - (EXPIRY_WARNING_DAYS + 1) * DAY)).verdict, "ok");
  const soon = expiryLine("ALIPAY_CERT_FILE validity", cert, new Date(notAfter - 10 * DAY));
  assert.equal(soon.verdict, "warn");
  assert.match(soon.detail, /expires in 10 days .*renew it before going live/);
  const expired = expiryLine("ALIPAY_CERT_FILE validity", cert, new Date(notAfter + DAY));
  assert.equal(expired.verdict, "fail");
  assert.match(expired.detail, /EXPIRED on \d{4}-\d{2}-\d{2}/);
  const early = expiryLine("x", cert, new Date(new Date(cert.validFrom).getTime() - DAY));
  assert.equal(early.verdict, "fail");
});

test("notify URL: https on a public host, nothing else", () => {
  assert.equal(notifyUrlProblem("https://pay.coursepay.cn/alipay/notify"), null);
  assert.equal(notifyUrlProblem("https://8.8.8.8/alipay/notify"), null);
  assert.equal(notifyUrlProblem("https://[2001:4860::8888]/alipay/notify"), null);
  for (const bad of [
    "http://pay.coursepay.cn/alipay/notify", "https://localhost/x", "https://api.localhost/x", "https://127.0.0.2/x", "https://10.0.0.1/x",
    "https://172.20.1.1/x", "https://192.168.0.9/x", "https://169.254.1.1/x", "https://100.64.0.1/x", "https://[::1]/x", "https://[fd00::1]/x",
    "https://[::ffff:192.168.1.1]/x", "https://printer.local/x", "https://intranet/x", "not a url",
  ]) {
    assert.notEqual(notifyUrlProblem(bad), null, bad);
  }
});

test("the summary: all ✓ says ready; a warning or a failure says not ready", () => {
  assert.match(formatLines([{ verdict: "ok", check: "a", detail: "fine" }, { verdict: "info", check: "b", detail: "fyi" }]), /✓ all right/);
  assert.match(formatLines([{ verdict: "ok", check: "a", detail: "fine" }, { verdict: "warn", check: "b", detail: "soon" }]), /✗ 0 wrong, 1 warning: not ready/);
});
