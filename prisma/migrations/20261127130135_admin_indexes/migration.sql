-- CreateIndex
CREATE INDEX "order_needs_review_created_at_idx" ON "order"("needs_review", "created_at");

-- CreateIndex
CREATE INDEX "order_paid_at_idx" ON "order"("paid_at");

-- CreateIndex
CREATE INDEX "payment_notification_order_id_idx" ON "payment_notification"("order_id");
