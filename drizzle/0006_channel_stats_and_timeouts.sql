CREATE TABLE "channel_stat_minutes" (
	"channel_id" uuid NOT NULL,
	"upstream_model" text NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"successes" integer DEFAULT 0 NOT NULL,
	"provider_errors" integer DEFAULT 0 NOT NULL,
	"request_errors" integer DEFAULT 0 NOT NULL,
	"latency_histogram" integer[] NOT NULL,
	"first_token_histogram" integer[] NOT NULL,
	"throughput_histogram" integer[] NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "channel_stat_minutes_channel_id_upstream_model_minute_pk" PRIMARY KEY("channel_id","upstream_model","minute")
);
--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "connect_timeout_ms" integer;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "first_byte_timeout_ms" integer;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "idle_timeout_ms" integer;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "total_timeout_ms" integer;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "last_tested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "last_test_latency_ms" integer;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "last_test_status" integer;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "last_test_error" text;--> statement-breakpoint
ALTER TABLE "channel_stat_minutes" ADD CONSTRAINT "channel_stat_minutes_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "channel_stat_minutes_updated_at_idx" ON "channel_stat_minutes" USING btree ("updated_at");