-- Every timestamp becomes `timestamptz`: an instant, read and written the same whatever the
-- server's or the session's time zone. Prisma wrote the old `timestamp(3)` columns in UTC, hence
-- `AT TIME ZONE 'UTC'`. staff_session.expire was written by connect-pg-simple with to_timestamp()
-- in the session's zone, so it is converted in the session's zone.
ALTER TABLE "course" ALTER COLUMN "created_at" SET DATA TYPE TIMESTAMPTZ(3) USING "created_at" AT TIME ZONE 'UTC';
ALTER TABLE "buyer" ALTER COLUMN "created_at" SET DATA TYPE TIMESTAMPTZ(3) USING "created_at" AT TIME ZONE 'UTC';
ALTER TABLE "order"
  ALTER COLUMN "paid_at" SET DATA TYPE TIMESTAMPTZ(3) USING "paid_at" AT TIME ZONE 'UTC',
  ALTER COLUMN "closed_at" SET DATA TYPE TIMESTAMPTZ(3) USING "closed_at" AT TIME ZONE 'UTC',
  ALTER COLUMN "expires_at" SET DATA TYPE TIMESTAMPTZ(3) USING "expires_at" AT TIME ZONE 'UTC',
  ALTER COLUMN "next_check_at" SET DATA TYPE TIMESTAMPTZ(3) USING "next_check_at" AT TIME ZONE 'UTC',
  ALTER COLUMN "created_at" SET DATA TYPE TIMESTAMPTZ(3) USING "created_at" AT TIME ZONE 'UTC',
  ALTER COLUMN "updated_at" SET DATA TYPE TIMESTAMPTZ(3) USING "updated_at" AT TIME ZONE 'UTC';
ALTER TABLE "payment_notification"
  ALTER COLUMN "received_at" SET DATA TYPE TIMESTAMPTZ(3) USING "received_at" AT TIME ZONE 'UTC',
  ALTER COLUMN "processed_at" SET DATA TYPE TIMESTAMPTZ(3) USING "processed_at" AT TIME ZONE 'UTC';
ALTER TABLE "order_event" ALTER COLUMN "created_at" SET DATA TYPE TIMESTAMPTZ(3) USING "created_at" AT TIME ZONE 'UTC';
ALTER TABLE "staff_user"
  ALTER COLUMN "created_at" SET DATA TYPE TIMESTAMPTZ(3) USING "created_at" AT TIME ZONE 'UTC',
  ALTER COLUMN "last_login_at" SET DATA TYPE TIMESTAMPTZ(3) USING "last_login_at" AT TIME ZONE 'UTC';
ALTER TABLE "staff_session" ALTER COLUMN "expire" SET DATA TYPE TIMESTAMPTZ(6) USING "expire"::timestamptz;
