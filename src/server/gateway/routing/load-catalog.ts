import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "~/server/db";
import { currentPriceVersionId } from "~/server/db/current-price-version";
import { channels, modelEndpoints, models } from "~/server/db/schema";
import type { CatalogModel, ResolvedChannel } from "./catalog";

/** The author of Tollgate's own models (the offline demo). */
const TOLLGATE_AUTHOR = "tollgate";

/** A channel row as routing uses it, with its key already decrypted. */
export function resolveChannel(channel: typeof channels.$inferSelect, apiKey: string | null): ResolvedChannel {
  return {
    id: channel.id,
    name: channel.name,
    kind: channel.kind,
    provider: channel.provider,
    baseUrl: channel.baseUrl,
    apiKey,
    priority: channel.priority,
    weight: channel.weight,
    retainsData: channel.retainsData,
    aggregator: channel.aggregator,
    timeouts: {
      connectMs: channel.connectTimeoutMs,
      firstByteMs: channel.firstByteTimeoutMs,
      idleMs: channel.idleTimeoutMs,
      totalMs: channel.totalTimeoutMs,
    },
  };
}

/**
 * Reads enabled models with their enabled endpoints and channels, decrypting each channel's secret once. Each
 * endpoint's markup (basis points: its own, else the platform's) is attached to its prices, to be applied once per
 * call, with the price version they are: read in the same statement, so a change committed meanwhile cannot pair one
 * version's id with another's prices.
 */
export async function loadCatalog(
  db: Database,
  decryptSecret: (ciphertext: string) => string,
  markupBasisPoints = 0n,
  /**
   * Told of a channel whose key this process cannot decrypt (ENCRYPTION_KEY changed without ENCRYPTION_KEY_PREVIOUS):
   * it is left out of routing, and every other channel still serves.
   */
  onUnreadableSecret: (channelName: string, error: unknown) => void = () => {},
): Promise<CatalogModel[]> {
  const [modelRows, endpointRows] = await Promise.all([
    db.select().from(models).where(eq(models.enabled, true)),
    db
      .select({
        endpoint: modelEndpoints,
        channel: channels,
        priceVersionId: currentPriceVersionId(modelEndpoints.id),
      })
      .from(modelEndpoints)
      .innerJoin(channels, eq(channels.id, modelEndpoints.channelId))
      // A broken channel (its key was refused) is not routed to until an operator fixes it.
      .where(and(eq(modelEndpoints.enabled, true), eq(channels.enabled, true), isNull(channels.brokenAt))),
  ]);

  const resolvedChannels = new Map<string, ResolvedChannel | null>();
  const byModel = new Map<string, CatalogModel["endpoints"]>();
  for (const { endpoint, channel, priceVersionId } of endpointRows) {
    let resolved = resolvedChannels.get(channel.id);
    if (resolved === undefined) {
      try {
        resolved = resolveChannel(
          channel,
          channel.encryptedSecret === null ? null : decryptSecret(channel.encryptedSecret),
        );
      } catch (error) {
        onUnreadableSecret(channel.name, error);
        resolved = null;
      }
      resolvedChannels.set(channel.id, resolved);
    }
    if (resolved === null) continue;
    const list = byModel.get(endpoint.modelId) ?? [];
    list.push({
      id: endpoint.id,
      upstreamModel: endpoint.upstreamModel,
      prices: {
        inputPriceNano: endpoint.inputPriceNano,
        outputPriceNano: endpoint.outputPriceNano,
        cacheReadPriceNano: endpoint.cacheReadPriceNano,
        cacheWritePriceNano: endpoint.cacheWritePriceNano,
        reasoningPriceNano: endpoint.reasoningPriceNano,
        requestPriceNano: endpoint.requestPriceNano,
        imagePriceNano: endpoint.imagePriceNano,
        markupBasisPoints: endpoint.markupBasisPoints === null ? markupBasisPoints : BigInt(endpoint.markupBasisPoints),
      },
      priceVersionId,
      priority: endpoint.priority,
      weight: endpoint.weight,
      channel: resolved,
    });
    byModel.set(endpoint.modelId, list);
  }

  return modelRows.map((model) => ({
    id: model.id,
    name: model.name,
    description: model.description,
    author: model.author,
    contextLength: model.contextLength,
    maxOutputTokens: model.maxOutputTokens,
    inputModalities: model.inputModalities,
    outputModalities: model.outputModalities,
    supportedParameters: model.supportedParameters,
    created: Math.floor(model.releasedAt.getTime() / 1000),
    // Tollgate's own models answer in-process: an aggregator (flagged after its endpoints were made) never serves one.
    endpoints: (byModel.get(model.id) ?? []).filter(
      (endpoint) => !(model.author === TOLLGATE_AUTHOR && endpoint.channel.aggregator === true),
    ),
  }));
}
