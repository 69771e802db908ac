-- AlterTable
ALTER TABLE "order_event" ADD COLUMN     "dedupe_key" VARCHAR(200);

-- CreateIndex
CREATE UNIQUE INDEX "order_event_order_id_dedupe_key_key" ON "order_event"("order_id", "dedupe_key");
