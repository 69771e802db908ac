-- Newer Alipay apps identify the buyer by buyer_open_id (about 46-64 characters) instead of the
-- 16-digit buyer_id. The column holds either.
ALTER TABLE "order" ALTER COLUMN "buyer_alipay_id" TYPE VARCHAR(128);
