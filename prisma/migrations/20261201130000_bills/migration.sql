-- Daily bill reconciliation (core/bills): batches, their audited attempts, the bill rows loaded
-- with COPY, differences, and Alipay's fee per order.
CREATE TYPE "BillBatchState" AS ENUM ('waiting', 'running', 'matched', 'differences', 'no_bill', 'corrupt', 'failed');
CREATE TYPE "BillDifferenceKind" AS ENUM ('paid_not_here', 'paid_not_in_bill', 'amount_differs', 'refund_not_here', 'refund_not_at_alipay', 'unknown_order');
CREATE TYPE "BillDifferenceState" AS ENUM ('open', 'resolved', 'auto_closed');

CREATE TABLE "bill_batch" (
    "id" SERIAL NOT NULL,
    "bill_type" VARCHAR(16) NOT NULL,
    "bill_date" VARCHAR(10) NOT NULL,
    "state" "BillBatchState" NOT NULL DEFAULT 'waiting',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lease_until" TIMESTAMPTZ(3),
    "last_error" TEXT NOT NULL DEFAULT '',
    "bill_trades" INTEGER NOT NULL DEFAULT 0,
    "bill_trade_fen" BIGINT NOT NULL DEFAULT 0,
    "bill_refunds" INTEGER NOT NULL DEFAULT 0,
    "bill_refund_fen" BIGINT NOT NULL DEFAULT 0,
    "bill_fee_fen" BIGINT NOT NULL DEFAULT 0,
    "bill_net_fen" BIGINT NOT NULL DEFAULT 0,
    "local_trades" INTEGER NOT NULL DEFAULT 0,
    "local_trade_fen" BIGINT NOT NULL DEFAULT 0,
    "local_refunds" INTEGER NOT NULL DEFAULT 0,
    "local_refund_fen" BIGINT NOT NULL DEFAULT 0,
    "local_fee_fen" BIGINT NOT NULL DEFAULT 0,
    "local_net_fen" BIGINT NOT NULL DEFAULT 0,
    "differences_open" INTEGER NOT NULL DEFAULT 0,
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "bill_batch_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "bill_batch_bill_type_bill_date_key" ON "bill_batch"("bill_type", "bill_date");
CREATE INDEX "bill_batch_state_bill_date_idx" ON "bill_batch"("state", "bill_date");

CREATE TABLE "bill_attempt" (
    "id" SERIAL NOT NULL,
    "batch_id" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "trigger" VARCHAR(32) NOT NULL,
    "actor" TEXT NOT NULL DEFAULT '',
    "outcome" VARCHAR(32) NOT NULL DEFAULT 'running',
    "detail" JSONB NOT NULL DEFAULT '{}',
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "bill_attempt_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "bill_attempt_batch_id_attempt_key" ON "bill_attempt"("batch_id", "attempt");
ALTER TABLE "bill_attempt" ADD CONSTRAINT "bill_attempt_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "bill_batch"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "bill_row" (
    "id" BIGSERIAL NOT NULL,
    "batch_id" INTEGER NOT NULL,
    "line" INTEGER NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "trade_no" VARCHAR(64) NOT NULL,
    "out_trade_no" VARCHAR(64) NOT NULL,
    "out_request_no" VARCHAR(64),
    "amount_fen" INTEGER NOT NULL,
    "fee_fen" INTEGER NOT NULL,
    "completed_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "bill_row_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "bill_row_batch_id_kind_idx" ON "bill_row"("batch_id", "kind");
CREATE INDEX "bill_row_out_trade_no_idx" ON "bill_row"("out_trade_no");
CREATE INDEX "bill_row_out_request_no_idx" ON "bill_row"("out_request_no");

CREATE TABLE "bill_difference" (
    "id" SERIAL NOT NULL,
    "batch_id" INTEGER NOT NULL,
    "kind" "BillDifferenceKind" NOT NULL,
    "state" "BillDifferenceState" NOT NULL DEFAULT 'open',
    "ref" VARCHAR(80) NOT NULL,
    "out_trade_no" VARCHAR(64),
    "out_request_no" VARCHAR(64),
    "order_id" INTEGER,
    "bill_amount_fen" INTEGER,
    "local_amount_fen" INTEGER,
    "local_status" VARCHAR(32),
    "note" TEXT NOT NULL DEFAULT '',
    "resolved_by" TEXT NOT NULL DEFAULT '',
    "resolved_at" TIMESTAMPTZ(3),
    "last_seen_attempt" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "bill_difference_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "bill_difference_batch_id_kind_ref_key" ON "bill_difference"("batch_id", "kind", "ref");
CREATE INDEX "bill_difference_state_kind_idx" ON "bill_difference"("state", "kind");
CREATE INDEX "bill_difference_order_id_idx" ON "bill_difference"("order_id");
ALTER TABLE "bill_difference" ADD CONSTRAINT "bill_difference_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "bill_batch"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "order_fee" (
    "order_id" INTEGER NOT NULL,
    "batch_id" INTEGER NOT NULL,
    "fee_fen" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "order_fee_pkey" PRIMARY KEY ("order_id", "batch_id")
);
