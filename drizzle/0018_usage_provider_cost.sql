ALTER TABLE "usage_hourly" ADD COLUMN "provider_cost_nano" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Calls from before the markup was recorded per call: no margin is claimed for them.
UPDATE "usage_hourly" SET "provider_cost_nano" = "cost_nano";
