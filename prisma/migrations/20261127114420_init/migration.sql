-- CreateEnum
CREATE TYPE "OrderStatus" AS ENUM ('UNPAID', 'PAID', 'CANCELLED', 'CLOSED', 'PARTIALLY_REFUNDED', 'REFUNDED');

-- CreateEnum
CREATE TYPE "StaffRole" AS ENUM ('viewer', 'operator', 'admin');

-- CreateEnum
CREATE TYPE "EventSource" AS ENUM ('notify', 'return', 'reconcile', 'buyer', 'staff', 'expiry', 'system');

-- CreateEnum
CREATE TYPE "NotificationOutcome" AS ENUM ('pending', 'applied', 'duplicate', 'ignored', 'rejected', 'anomaly', 'failed');

-- CreateTable
CREATE TABLE "course" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "price_fen" INTEGER NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "course_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "buyer" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "display_name" TEXT NOT NULL DEFAULT '',
    "password_hash" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "buyer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order" (
    "id" SERIAL NOT NULL,
    "out_trade_no" VARCHAR(64) NOT NULL,
    "buyer_id" INTEGER NOT NULL,
    "subject" VARCHAR(256) NOT NULL,
    "total_fen" INTEGER NOT NULL,
    "refunded_fen" INTEGER NOT NULL DEFAULT 0,
    "status" "OrderStatus" NOT NULL DEFAULT 'UNPAID',
    "trade_no" VARCHAR(64),
    "buyer_alipay_id" VARCHAR(32),
    "paid_at" TIMESTAMP(3),
    "closed_at" TIMESTAMP(3),
    "expires_at" TIMESTAMP(3) NOT NULL,
    "next_check_at" TIMESTAMP(3),
    "check_attempts" INTEGER NOT NULL DEFAULT 0,
    "needs_review" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "order_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order_detail" (
    "id" SERIAL NOT NULL,
    "order_id" INTEGER NOT NULL,
    "course_id" INTEGER NOT NULL,
    "price_fen" INTEGER NOT NULL,
    "real_price_fen" INTEGER NOT NULL,

    CONSTRAINT "order_detail_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment_notification" (
    "id" SERIAL NOT NULL,
    "kind" VARCHAR(16) NOT NULL DEFAULT 'notify',
    "raw_body" TEXT NOT NULL,
    "verified" BOOLEAN NOT NULL DEFAULT false,
    "reason" TEXT NOT NULL DEFAULT '',
    "notify_id" VARCHAR(128),
    "out_trade_no" VARCHAR(64),
    "order_id" INTEGER,
    "trade_no" VARCHAR(64),
    "trade_status" VARCHAR(32),
    "total_fen" INTEGER,
    "refund_fen" INTEGER,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMP(3),
    "outcome" "NotificationOutcome" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "payment_notification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order_event" (
    "id" SERIAL NOT NULL,
    "order_id" INTEGER NOT NULL,
    "type" VARCHAR(48) NOT NULL,
    "from_status" "OrderStatus",
    "to_status" "OrderStatus",
    "source" "EventSource" NOT NULL,
    "actor" TEXT NOT NULL DEFAULT '',
    "notification_id" INTEGER,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "staff_user" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "role" "StaffRole" NOT NULL DEFAULT 'viewer',
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_login_at" TIMESTAMP(3),

    CONSTRAINT "staff_user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "staff_session" (
    "sid" VARCHAR NOT NULL,
    "sess" JSONB NOT NULL,
    "expire" TIMESTAMP(6) NOT NULL,

    CONSTRAINT "staff_session_pkey" PRIMARY KEY ("sid")
);

-- CreateIndex
CREATE UNIQUE INDEX "buyer_email_key" ON "buyer"("email");

-- CreateIndex
CREATE UNIQUE INDEX "order_out_trade_no_key" ON "order"("out_trade_no");

-- CreateIndex
CREATE INDEX "order_status_next_check_at_idx" ON "order"("status", "next_check_at");

-- CreateIndex
CREATE INDEX "order_created_at_idx" ON "order"("created_at");

-- CreateIndex
CREATE INDEX "order_buyer_id_created_at_idx" ON "order"("buyer_id", "created_at");

-- CreateIndex
CREATE INDEX "order_trade_no_idx" ON "order"("trade_no");

-- CreateIndex
CREATE INDEX "order_status_created_at_idx" ON "order"("status", "created_at");

-- CreateIndex
CREATE INDEX "order_detail_order_id_idx" ON "order_detail"("order_id");

-- CreateIndex
CREATE INDEX "payment_notification_out_trade_no_idx" ON "payment_notification"("out_trade_no");

-- CreateIndex
CREATE INDEX "payment_notification_notify_id_idx" ON "payment_notification"("notify_id");

-- CreateIndex
CREATE INDEX "payment_notification_received_at_idx" ON "payment_notification"("received_at");

-- CreateIndex
CREATE INDEX "payment_notification_outcome_received_at_idx" ON "payment_notification"("outcome", "received_at");

-- CreateIndex
CREATE INDEX "order_event_order_id_created_at_idx" ON "order_event"("order_id", "created_at");

-- CreateIndex
CREATE INDEX "order_event_type_created_at_idx" ON "order_event"("type", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "staff_user_email_key" ON "staff_user"("email");

-- CreateIndex
CREATE INDEX "staff_session_expire_idx" ON "staff_session"("expire");

-- AddForeignKey
ALTER TABLE "order" ADD CONSTRAINT "order_buyer_id_fkey" FOREIGN KEY ("buyer_id") REFERENCES "buyer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_detail" ADD CONSTRAINT "order_detail_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "order"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_detail" ADD CONSTRAINT "order_detail_course_id_fkey" FOREIGN KEY ("course_id") REFERENCES "course"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payment_notification" ADD CONSTRAINT "payment_notification_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "order"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_event" ADD CONSTRAINT "order_event_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "order"("id") ON DELETE CASCADE ON UPDATE CASCADE;
