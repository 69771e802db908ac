-- Refunds (issue 11): one row per refund, written only by core/refunds/store.ts.

-- CreateEnum
CREATE TYPE "RefundState" AS ENUM ('AWAITING_APPROVAL', 'QUEUED', 'SUBMITTED', 'UNKNOWN', 'SUCCEEDED', 'FAILED', 'REJECTED');

-- CreateEnum
CREATE TYPE "RefundSource" AS ENUM ('staff', 'buyer');

-- CreateTable
CREATE TABLE "refund" (
    "id" SERIAL NOT NULL,
    "order_id" INTEGER NOT NULL,
    "out_request_no" VARCHAR(64) NOT NULL,
    "amount_fen" INTEGER NOT NULL,
    "state" "RefundState" NOT NULL,
    "source" "RefundSource" NOT NULL,
    "reason" VARCHAR(256) NOT NULL,
    "requested_by" VARCHAR(200) NOT NULL,
    "approved_by" VARCHAR(200),
    "approved_at" TIMESTAMPTZ(3),
    "rejected_by" VARCHAR(200),
    "rejected_at" TIMESTAMPTZ(3),
    "rejection_reason" VARCHAR(500),
    "failure_code" VARCHAR(64),
    "failure_message" VARCHAR(500),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "checks" INTEGER NOT NULL DEFAULT 0,
    "last_call_at" TIMESTAMPTZ(3),
    "next_check_at" TIMESTAMPTZ(3),
    "last_call_answer" JSONB,
    "last_query_answer" JSONB,
    "submitted_at" TIMESTAMPTZ(3),
    "succeeded_at" TIMESTAMPTZ(3),
    "failed_at" TIMESTAMPTZ(3),
    "settled_by" VARCHAR(16),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "refund_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "refund_out_request_no_key" ON "refund"("out_request_no");

-- CreateIndex
CREATE INDEX "refund_order_id_idx" ON "refund"("order_id");

-- CreateIndex
CREATE INDEX "refund_state_next_check_at_idx" ON "refund"("state", "next_check_at");

-- CreateIndex
CREATE INDEX "refund_created_at_idx" ON "refund"("created_at");

-- CreateIndex
CREATE INDEX "refund_succeeded_at_idx" ON "refund"("succeeded_at");

-- CreateIndex
CREATE INDEX "refund_requested_by_created_at_idx" ON "refund"("requested_by", "created_at");

-- AddForeignKey
ALTER TABLE "refund" ADD CONSTRAINT "refund_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "order"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A refund is a positive amount (the over-refund guard is the locked insert in core/refunds/store.ts).
ALTER TABLE "refund" ADD CONSTRAINT "refund_amount_positive" CHECK ("amount_fen" > 0);
