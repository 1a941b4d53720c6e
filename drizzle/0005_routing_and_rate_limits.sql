ALTER TABLE "users" ADD COLUMN "requests_per_minute" integer;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "tokens_per_minute" integer;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "concurrent_requests" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "requests_per_minute" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "tokens_per_minute" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "concurrent_requests" integer;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "broken_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "broken_reason" text;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "retains_data" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "attempts" jsonb;