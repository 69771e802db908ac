-- Backfill for 20261202100000_refund_origin (a separate migration: a new enum value can be used only once
-- its ALTER TYPE has committed). Before, a refund notify matching none of our refunds SET refunded_fen to
-- Alipay's cumulative refund_fee: that amount is what Alipay reported, and what our succeeded refunds do
-- not cover is an external refund row, so that refunded_fen equals the sum of SUCCEEDED rows from now on.

UPDATE "order" SET "alipay_refund_fee_fen" = "refunded_fen" WHERE "refunded_fen" > 0;

INSERT INTO "refund" ("order_id", "out_request_no", "amount_fen", "state", "source", "reason", "requested_by", "succeeded_at", "settled_by", "created_at", "updated_at")
SELECT o."id", 'ext_backfill_' || o."id", o."refunded_fen" - coalesce(s."fen", 0), 'SUCCEEDED', 'external',
  'refund made outside coursepay (recorded from the order before refund rows covered it)', 'alipay', o."updated_at", 'notify', o."updated_at", o."updated_at"
FROM "order" o
LEFT JOIN (SELECT "order_id", sum("amount_fen")::int AS "fen" FROM "refund" WHERE "state" = 'SUCCEEDED' GROUP BY "order_id") s ON s."order_id" = o."id"
WHERE o."refunded_fen" > coalesce(s."fen", 0);
