-- Alipay certificates downloaded after a rotation (certificate mode), shared by every replica.
CREATE TABLE "alipay_cert" (
    "sn" VARCHAR(64) NOT NULL,
    "cert_pem" TEXT NOT NULL,
    "not_after" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "alipay_cert_pkey" PRIMARY KEY ("sn")
);
