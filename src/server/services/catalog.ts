import { readFile } from "node:fs/promises";
import { asc, sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { channels, models } from "~/server/db/schema";
import type { ChangeBus } from "~/server/changes";
import { catalogFileSchema, type CatalogFile, type CatalogModel } from "~/server/catalog/catalog-file";
import { formatNanoAsUsd, parseUsdToNano } from "~/server/gateway/billing/money";
import { syncChannelEndpoints } from "./channels";
import type { AuditActor } from "./audit-actor";
import { recordAudit } from "./audit-log";
import { attributePriceChanges } from "./price-versions";

function optionalPrice(usd: string | null | undefined): bigint | null {
  return usd == null ? null : parseUsdToNano(usd);
}

export function modelRowFromCatalog(model: CatalogModel): typeof models.$inferInsert {
  return {
    id: model.id,
    name: model.name,
    description: model.description,
    author: model.author,
    upstreamModel: model.upstreamModel,
    contextLength: model.contextLength,
    maxOutputTokens: model.maxOutputTokens,
    inputModalities: model.inputModalities,
    outputModalities: model.outputModalities,
    supportedParameters: model.supportedParameters,
    releasedAt: new Date(`${model.releasedAt}T00:00:00Z`),
    inputPriceNano: parseUsdToNano(model.pricing.input),
    outputPriceNano: parseUsdToNano(model.pricing.output),
    cacheReadPriceNano: model.pricing.cacheRead === null ? null : parseUsdToNano(model.pricing.cacheRead),
    cacheWritePriceNano: model.pricing.cacheWrite === null ? null : parseUsdToNano(model.pricing.cacheWrite),
    reasoningPriceNano: optionalPrice(model.pricing.reasoning),
    requestPriceNano: optionalPrice(model.pricing.request),
    imagePriceNano: optionalPrice(model.pricing.image),
  };
}

/**
 * Upserts models with their list prices, then re-syncs every channel's endpoints so that each channel serves the
 * models of its provider at the new prices. Returns how many models and endpoints were written.
 */
export async function importCatalog(
  db: Database,
  changes: ChangeBus | null,
  catalogModels: CatalogModel[],
  actor: AuditActor,
): Promise<{ models: number; endpoints: number }> {
  const counts = await db.transaction(async (tx) => {
    const rows = catalogModels.map(modelRowFromCatalog);
    if (rows.length > 0) {
      await tx
        .insert(models)
        .values(rows)
        .onConflictDoUpdate({
          target: models.id,
          set: {
            name: sql`excluded.name`,
            description: sql`excluded.description`,
            author: sql`excluded.author`,
            upstreamModel: sql`excluded.upstream_model`,
            contextLength: sql`excluded.context_length`,
            maxOutputTokens: sql`excluded.max_output_tokens`,
            inputModalities: sql`excluded.input_modalities`,
            outputModalities: sql`excluded.output_modalities`,
            supportedParameters: sql`excluded.supported_parameters`,
            releasedAt: sql`excluded.released_at`,
            inputPriceNano: sql`excluded.input_price_nano`,
            outputPriceNano: sql`excluded.output_price_nano`,
            cacheReadPriceNano: sql`excluded.cache_read_price_nano`,
            cacheWritePriceNano: sql`excluded.cache_write_price_nano`,
            reasoningPriceNano: sql`excluded.reasoning_price_nano`,
            requestPriceNano: sql`excluded.request_price_nano`,
            imagePriceNano: sql`excluded.image_price_nano`,
            updatedAt: sql`now()`,
          },
        });
    }
    let endpoints = 0;
    await attributePriceChanges(tx, actor);
    for (const channel of await tx.select().from(channels)) {
      endpoints += await syncChannelEndpoints(tx, channel);
    }
    await recordAudit(tx, actor, {
      action: "catalog.import",
      target: { type: "catalog", id: "catalog" },
      after: { models: rows.map((row) => row.id), endpointsRepriced: endpoints },
    });
    return { models: rows.length, endpoints };
  });
  await changes?.publish({ topic: "catalog-changed" });
  return counts;
}

export async function readCatalogFile(path: string): Promise<CatalogModel[]> {
  const parsed = catalogFileSchema.safeParse(JSON.parse(await readFile(path, "utf8")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid catalog file ${path}: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`.trim());
  }
  return parsed.data.models;
}

/** A nullable price as the catalog file writes it. */
function optionalUsd(nano: bigint | null): string | null {
  return nano === null ? null : formatNanoAsUsd(nano);
}

/**
 * Every model with its list prices, in the catalog file's format: edit it and `catalog import` it back for bulk
 * changes. Exporting and importing again changes nothing. Endpoints' own prices are not list prices and stay out (an
 * import reprices every endpoint to the list prices, which is what bulk work means).
 */
export async function exportCatalog(db: Database): Promise<CatalogFile> {
  const rows = await db.select().from(models).orderBy(asc(models.id));
  return {
    version: 1,
    models: rows.map((model) => ({
      id: model.id,
      name: model.name,
      description: model.description,
      author: model.author,
      upstreamModel: model.upstreamModel,
      releasedAt: model.releasedAt.toISOString().slice(0, 10),
      contextLength: model.contextLength,
      maxOutputTokens: model.maxOutputTokens,
      inputModalities: model.inputModalities as CatalogModel["inputModalities"],
      outputModalities: model.outputModalities as CatalogModel["outputModalities"],
      supportedParameters: model.supportedParameters,
      pricing: {
        input: formatNanoAsUsd(model.inputPriceNano),
        output: formatNanoAsUsd(model.outputPriceNano),
        cacheRead: optionalUsd(model.cacheReadPriceNano),
        cacheWrite: optionalUsd(model.cacheWritePriceNano),
        reasoning: optionalUsd(model.reasoningPriceNano),
        request: optionalUsd(model.requestPriceNano),
        image: optionalUsd(model.imagePriceNano),
      },
    })),
  };
}
