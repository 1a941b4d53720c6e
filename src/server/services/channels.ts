import { and, asc, count, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Database, Queryable } from "~/server/db";
import { channels, modelEndpoints, models } from "~/server/db/schema";
import type { ChangeBus } from "~/server/changes";
import type { SecretBox } from "~/server/crypto/secret-box";
import { NotFoundError } from "./users";

export type Channel = typeof channels.$inferSelect;
export type ChannelKind = Channel["kind"];
/** A channel as it may be shown: the secret reduced to whether there is one. */
export type ChannelSummary = Omit<Channel, "encryptedSecret"> & { hasSecret: boolean; endpointCount: number };

/** The provider slug a channel kind serves natively. */
export const PROVIDER_FOR_KIND: Record<ChannelKind, string | null> = {
  openai: "openai",
  anthropic: "anthropic",
  gemini: "google",
  demo: "tollgate",
  "openai-compatible": null,
};

/** Aggregators serve every model under its public id. */
const AGGREGATOR_PROVIDERS = new Set(["openrouter"]);

export interface ChannelModelMapping {
  modelId: string;
  /** Defaults to the model's native id, or its public id on an aggregator. */
  upstreamModel?: string;
}

export interface AddChannelInput {
  kind: ChannelKind;
  name: string;
  provider?: string;
  baseUrl: string;
  apiKey?: string | null;
  priority?: number;
  weight?: number;
  /** Explicit models; when absent, every catalog model of the channel's provider (all models for aggregators). */
  models?: ChannelModelMapping[];
}

export async function addChannel(
  db: Database,
  secretBox: SecretBox,
  changes: ChangeBus,
  input: AddChannelInput,
): Promise<{ channel: ChannelSummary; endpointCount: number }> {
  const provider = (input.provider ?? PROVIDER_FOR_KIND[input.kind] ?? input.name).toLowerCase();
  const channel = await db.transaction(async (tx) => {
    const [created] = await tx
      .insert(channels)
      .values({
        kind: input.kind,
        name: input.name,
        provider,
        baseUrl: input.baseUrl,
        encryptedSecret: input.apiKey ? secretBox.encrypt(input.apiKey) : null,
        priority: input.priority ?? 0,
        weight: input.weight ?? 1,
      })
      .returning();
    if (created === undefined) throw new Error("channel insert returned nothing");
    await syncChannelEndpoints(tx, created, input.models);
    return created;
  });
  await changes.publish({ topic: "catalog-changed" });
  const [summary] = await listChannels(db, channel.id);
  return { channel: summary!, endpointCount: summary!.endpointCount };
}

/**
 * Creates or re-prices the endpoints through which a channel serves models, at the models' list prices.
 * Unknown explicit model ids are an error: the catalog must know a model before a channel can serve it.
 */
export async function syncChannelEndpoints(
  db: Queryable,
  channel: Pick<Channel, "id" | "provider">,
  mappings?: ChannelModelMapping[],
): Promise<number> {
  const aggregator = AGGREGATOR_PROVIDERS.has(channel.provider);
  const rows =
    mappings !== undefined
      ? await db
          .select()
          .from(models)
          .where(
            inArray(
              models.id,
              mappings.map((mapping) => mapping.modelId),
            ),
          )
      : aggregator
        ? await db.select().from(models)
        : await db.select().from(models).where(eq(models.author, channel.provider));
  if (mappings !== undefined) {
    const known = new Set(rows.map((row) => row.id));
    const unknown = mappings.filter((mapping) => !known.has(mapping.modelId)).map((mapping) => mapping.modelId);
    if (unknown.length > 0) throw new NotFoundError(`Unknown model(s): ${unknown.join(", ")}`);
  }
  if (rows.length === 0) return 0;
  const upstreamFor = new Map(mappings?.map((mapping) => [mapping.modelId, mapping.upstreamModel]) ?? []);
  await db
    .insert(modelEndpoints)
    .values(
      rows.map((model) => ({
        modelId: model.id,
        channelId: channel.id,
        upstreamModel: upstreamFor.get(model.id) ?? (aggregator ? model.id : model.upstreamModel),
        inputPriceNano: model.inputPriceNano,
        outputPriceNano: model.outputPriceNano,
        cacheReadPriceNano: model.cacheReadPriceNano,
        cacheWritePriceNano: model.cacheWritePriceNano,
        reasoningPriceNano: model.reasoningPriceNano,
        requestPriceNano: model.requestPriceNano,
        imagePriceNano: model.imagePriceNano,
      })),
    )
    .onConflictDoUpdate({
      target: [modelEndpoints.modelId, modelEndpoints.channelId],
      set: {
        upstreamModel: sql`excluded.upstream_model`,
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
  return rows.length;
}

export async function listChannels(db: Database, onlyId?: string): Promise<ChannelSummary[]> {
  const [rows, counts] = await Promise.all([
    db
      .select()
      .from(channels)
      .where(onlyId === undefined ? undefined : eq(channels.id, onlyId))
      .orderBy(asc(channels.name)),
    db
      .select({ channelId: modelEndpoints.channelId, endpoints: count() })
      .from(modelEndpoints)
      .where(onlyId === undefined ? undefined : eq(modelEndpoints.channelId, onlyId))
      .groupBy(modelEndpoints.channelId),
  ]);
  const endpointsByChannel = new Map(counts.map((row) => [row.channelId, row.endpoints]));
  return rows.map(({ encryptedSecret, ...channel }) => ({
    ...channel,
    hasSecret: encryptedSecret !== null,
    endpointCount: endpointsByChannel.get(channel.id) ?? 0,
  }));
}

export async function findChannelByName(db: Database, name: string): Promise<Channel | null> {
  const [row] = await db.select().from(channels).where(eq(channels.name, name)).limit(1);
  return row ?? null;
}

/**
 * The upstream refused the channel's key (401/403): the channel is marked broken, with the reason operators see in
 * `channel list`, and every process reloads its catalog without it. A new key for the channel (for the channels
 * configured from the environment, a changed key at the next start) clears the mark.
 */
export async function markChannelBroken(
  db: Database,
  changes: ChangeBus,
  channelId: string,
  reason: string,
): Promise<void> {
  const marked = await db
    .update(channels)
    .set({ brokenAt: new Date(), brokenReason: reason })
    .where(and(eq(channels.id, channelId), isNull(channels.brokenAt)))
    .returning({ id: channels.id });
  if (marked.length > 0) await changes.publish({ topic: "catalog-changed" });
}
