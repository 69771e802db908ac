-- Bill matching at a million rows (docs/benchmarks.md "Bill reconciliation"): fewer indexes to keep
-- up while COPY loads a day's rows, and no per-order fee table written for every paid order.
--   bill_row: the primary key is (batch_id, line) — it also serves "this batch's rows" — instead of
--   a bigserial id plus an index on (batch_id, kind), and out_request_no is indexed only where present
--   (refund rows, about one row in ten).
--   order_fee: dropped. Alipay's fee per order is in bill_row (fee_fen), read by core/bills orderFees.
DROP TABLE "order_fee";
ALTER TABLE "bill_row" DROP CONSTRAINT "bill_row_pkey";
ALTER TABLE "bill_row" DROP COLUMN "id";
ALTER TABLE "bill_row" ADD CONSTRAINT "bill_row_pkey" PRIMARY KEY ("batch_id", "line");
DROP INDEX "bill_row_batch_id_kind_idx";
DROP INDEX "bill_row_out_request_no_idx";
CREATE INDEX "bill_row_out_request_no_idx" ON "bill_row"("out_request_no") WHERE "out_request_no" IS NOT NULL;
