ALTER TABLE "generations" DROP CONSTRAINT "generations_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "generations" DROP CONSTRAINT "generations_api_key_id_api_keys_id_fk";
--> statement-breakpoint
ALTER TABLE "generations" DROP CONSTRAINT "generations_channel_id_channels_id_fk";
