-- Refunds (issue 11): one meaning for order.refunded_fen (the sum of SUCCEEDED refund rows). A refund made
-- outside coursepay (Alipay's console) becomes a refund row of its own (source 'external'), and what Alipay
-- last reported as the trade's cumulative refund_fee is kept apart (alipay_refund_fee_fen). unsettled_calls:
-- refund calls since the refund was last known not to exist at Alipay (a business error is final only on the first).

ALTER TYPE "RefundSource" ADD VALUE 'external';

ALTER TABLE "order" ADD COLUMN "alipay_refund_fee_fen" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "refund" ADD COLUMN "unsettled_calls" INTEGER NOT NULL DEFAULT 0;

-- Refunds already sent whose outcome is open: count their calls, so that a business error on their next
-- call (a resend) is left to the refund query rather than taken as final.
UPDATE "refund" SET "unsettled_calls" = "attempts" WHERE "state" IN ('SUBMITTED', 'UNKNOWN');

-- The refund sweep's backstop: orders where Alipay reports more refunded than refund rows account for.
CREATE INDEX "order_refunds_unaccounted_idx" ON "order" ("id") WHERE "alipay_refund_fee_fen" > "refunded_fen";
