ALTER TABLE "stripe_events" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD COLUMN "ignored" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "stripe_events_received_at_index" ON "stripe_events" USING btree ("received_at");--> statement-breakpoint
-- Events processed before attempts were counted took at least one.
UPDATE "stripe_events" SET "attempts" = 1 WHERE "processed_at" IS NOT NULL;
