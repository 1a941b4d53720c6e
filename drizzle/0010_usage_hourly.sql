CREATE TABLE "usage_hourly" (
	"user_id" text NOT NULL,
	"api_key_id" uuid,
	"model_id" text NOT NULL,
	"provider" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"errors" integer DEFAULT 0 NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"cached_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_write_tokens" bigint DEFAULT 0 NOT NULL,
	"reasoning_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_nano" bigint DEFAULT 0 NOT NULL,
	"latency_ms_sum" bigint DEFAULT 0 NOT NULL,
	"first_token_ms_sum" bigint DEFAULT 0 NOT NULL,
	"first_token_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_hourly_slot" UNIQUE NULLS NOT DISTINCT("user_id","hour","model_id","provider","api_key_id")
);
--> statement-breakpoint
CREATE INDEX "usage_hourly_api_key_id_hour_index" ON "usage_hourly" USING btree ("api_key_id","hour");--> statement-breakpoint
-- Backfill from the generation log written so far; from now on the usage writer adds each batch.
INSERT INTO "usage_hourly" (
  "user_id", "api_key_id", "model_id", "provider", "hour", "requests", "errors", "prompt_tokens", "completion_tokens",
  "cached_tokens", "cache_write_tokens", "reasoning_tokens", "cost_nano", "latency_ms_sum", "first_token_ms_sum",
  "first_token_count"
)
SELECT "user_id", "api_key_id", "model_id", "provider", date_trunc('hour', "created_at", 'UTC'), count(*),
  count(*) FILTER (WHERE "http_status" >= 400), sum("prompt_tokens"), sum("completion_tokens"), sum("cached_tokens"),
  sum("cache_write_tokens"), sum("reasoning_tokens"), sum("cost_nano"), sum("latency_ms"),
  coalesce(sum("time_to_first_token_ms"), 0), count("time_to_first_token_ms")
FROM "generations"
GROUP BY "user_id", "api_key_id", "model_id", "provider", date_trunc('hour', "created_at", 'UTC');
