ALTER TABLE "channels" ADD COLUMN "aggregator" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- OpenRouter channels were aggregators by their provider slug before the flag existed.
UPDATE "channels" SET "aggregator" = true WHERE "provider" = 'openrouter';
--> statement-breakpoint
-- An aggregator serves the models its upstream lists, never Tollgate's own (the offline demo model).
DELETE FROM "model_endpoints" USING "channels", "models"
WHERE "model_endpoints"."channel_id" = "channels"."id" AND "channels"."aggregator"
  AND "model_endpoints"."model_id" = "models"."id" AND "models"."author" = 'tollgate';
