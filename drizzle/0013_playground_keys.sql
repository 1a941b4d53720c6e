CREATE TYPE "public"."api_key_purpose" AS ENUM('api', 'playground');--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "purpose" "api_key_purpose" DEFAULT 'api' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_one_playground_key_per_user" ON "api_keys" USING btree ("user_id") WHERE "api_keys"."purpose" = 'playground' and "api_keys"."revoked_at" is null;