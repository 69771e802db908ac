import { z } from "zod";
import { business } from "./errors.ts";
import { success, type ApiHandler } from "./common.ts";

// alipay.open.app.alipaycert.download (certificate mode): the Alipay certificate an alipay_cert_sn
// names, as base64 of its PEM text (the certificate followed by its intermediate, the content of
// alipayCertPublicKey_RSA2.crt). Every certificate Alipay ever issued to the app can be downloaded —
// merchants fetch the new one when an answer names an SN they do not hold (rotation), and may fetch an
// old one to verify a message signed before the rotation.

const Biz = z.object({ alipay_cert_sn: z.string().min(1).max(64) });
type Biz = z.infer<typeof Biz>;

export const alipayCertDownload: ApiHandler<Biz> = {
  method: "alipay.open.app.alipaycert.download",
  biz: Biz,
  scope: () => null,
  handle(biz, ctx) {
    const generation = ctx.certs?.bySn(biz.alipay_cert_sn);
    if (!generation) throw business("isv.alipay-cert-not-exist", `支付宝公钥证书不存在: ${biz.alipay_cert_sn}`);
    return success({ alipay_cert_content: Buffer.from(generation.chainPem, "utf8").toString("base64") });
  },
};
