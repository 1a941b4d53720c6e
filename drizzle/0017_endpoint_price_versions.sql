CREATE TABLE "endpoint_price_versions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "endpoint_price_versions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"endpoint_id" uuid NOT NULL,
	"model_id" text NOT NULL,
	"channel_id" uuid NOT NULL,
	"input_price_nano" bigint NOT NULL,
	"output_price_nano" bigint NOT NULL,
	"cache_read_price_nano" bigint,
	"cache_write_price_nano" bigint,
	"reasoning_price_nano" bigint,
	"request_price_nano" bigint,
	"image_price_nano" bigint,
	"markup_basis_points" integer,
	"valid_from" timestamp with time zone DEFAULT now() NOT NULL,
	"changed_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "model_endpoints" ADD COLUMN "markup_basis_points" integer;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "price_version_id" bigint;--> statement-breakpoint
ALTER TABLE "generations" ADD COLUMN "markup_basis_points" integer;--> statement-breakpoint
CREATE INDEX "endpoint_price_versions_endpoint_id_id_index" ON "endpoint_price_versions" USING btree ("endpoint_id","id");--> statement-breakpoint
-- Every insert of an endpoint and every change of its prices or markup leaves a version, whichever code made it.
CREATE FUNCTION "record_endpoint_price_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND (
      NEW.input_price_nano, NEW.output_price_nano, NEW.cache_read_price_nano, NEW.cache_write_price_nano,
      NEW.reasoning_price_nano, NEW.request_price_nano, NEW.image_price_nano, NEW.markup_basis_points
    ) IS NOT DISTINCT FROM (
      OLD.input_price_nano, OLD.output_price_nano, OLD.cache_read_price_nano, OLD.cache_write_price_nano,
      OLD.reasoning_price_nano, OLD.request_price_nano, OLD.image_price_nano, OLD.markup_basis_points
    ) THEN
    RETURN NULL;
  END IF;
  INSERT INTO "endpoint_price_versions" (
    "endpoint_id", "model_id", "channel_id", "input_price_nano", "output_price_nano", "cache_read_price_nano",
    "cache_write_price_nano", "reasoning_price_nano", "request_price_nano", "image_price_nano", "markup_basis_points",
    "changed_by"
  ) VALUES (
    NEW.id, NEW.model_id, NEW.channel_id, NEW.input_price_nano, NEW.output_price_nano, NEW.cache_read_price_nano,
    NEW.cache_write_price_nano, NEW.reasoning_price_nano, NEW.request_price_nano, NEW.image_price_nano,
    NEW.markup_basis_points, coalesce(nullif(current_setting('tollgate.actor', true), ''), 'system')
  );
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "model_endpoints_price_versions" AFTER INSERT OR UPDATE ON "model_endpoints"
  FOR EACH ROW EXECUTE FUNCTION "record_endpoint_price_version"();--> statement-breakpoint
-- History is append-only, like the audit log.
CREATE FUNCTION "endpoint_price_versions_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'endpoint_price_versions is append-only';
END;
$$;--> statement-breakpoint
CREATE TRIGGER "endpoint_price_versions_no_update_or_delete" BEFORE UPDATE OR DELETE ON "endpoint_price_versions"
  FOR EACH ROW EXECUTE FUNCTION "endpoint_price_versions_append_only"();--> statement-breakpoint
CREATE TRIGGER "endpoint_price_versions_no_truncate" BEFORE TRUNCATE ON "endpoint_price_versions"
  FOR EACH STATEMENT EXECUTE FUNCTION "endpoint_price_versions_append_only"();--> statement-breakpoint
-- The prices endpoints have now, as their first version: in force since the endpoint was made, as far as is known.
INSERT INTO "endpoint_price_versions" (
  "endpoint_id", "model_id", "channel_id", "input_price_nano", "output_price_nano", "cache_read_price_nano",
  "cache_write_price_nano", "reasoning_price_nano", "request_price_nano", "image_price_nano", "markup_basis_points",
  "valid_from", "changed_by"
) SELECT "id", "model_id", "channel_id", "input_price_nano", "output_price_nano", "cache_read_price_nano",
  "cache_write_price_nano", "reasoning_price_nano", "request_price_nano", "image_price_nano", "markup_basis_points",
  "created_at", 'system'
FROM "model_endpoints" ORDER BY "created_at";
