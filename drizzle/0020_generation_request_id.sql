ALTER TABLE "generations" ADD COLUMN "request_id" text;--> statement-breakpoint
CREATE INDEX "generations_request_id_index" ON "generations" USING btree ("request_id");