import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "~/server/db";
import { currentPriceVersionId } from "~/server/db/current-price-version";
import { channels, modelEndpoints } from "~/server/db/schema";
import type { ChangeBus } from "~/server/changes";
import { formatNanoAsUsd, parseUsdToNano } from "~/server/gateway/billing/money";
import type { AuditActor } from "./audit-actor";
import { changedFields, recordAudit } from "./audit-log";
import { MAX_CHANNEL_INTEGER, syncChannelEndpoints, type ChannelModelMapping } from "./channels";
import { attributePriceChanges } from "./price-versions";
import { NotFoundError } from "./users";
import { ServiceError } from "./service-error";

export type ModelEndpointRow = typeof modelEndpoints.$inferSelect;

/** Someone changed the endpoint's prices after the editor read them: saving would undo their change unseen. */
export class StalePriceEditError extends ServiceError {
  constructor(current: number | null) {
    super(
      "conflict",
      `The prices changed since you opened them (now version #${current ?? "?"}); reload and edit again`,
    );
    this.name = "StalePriceEditError";
  }
}

/** USD per one million tokens (or per request/image for the fees), as exact decimal text: "2.5", "0.075". */
const usdPriceSchema = z
  .string()
  .trim()
  .regex(/^\d{1,9}(\.\d{1,9})?$/, "A price in USD with at most 9 decimals, such as 2.5")
  .transform((text) => parseUsdToNano(text));

/** A markup in percent with at most two decimals ("5.5"), kept as basis points (550). */
const markupPercentSchema = z
  .string()
  .trim()
  .regex(/^\d{1,4}(\.\d{1,2})?$/, "A percentage such as 5 or 5.5")
  .transform((text) => {
    const [whole = "0", fraction = ""] = text.split(".");
    return Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
  });

/**
 * A change to one model endpoint, as admins send it. Prices are USD per one million tokens; an optional price set to
 * null falls back (cache prices to the input price, reasoning to output, fees to none); a null markup takes the
 * platform's. Omitted fields stay.
 */
export const endpointPatchSchema = z.strictObject({
  upstreamModel: z.string().trim().min(1).max(200).optional(),
  inputPrice: usdPriceSchema.optional(),
  outputPrice: usdPriceSchema.optional(),
  cacheReadPrice: usdPriceSchema.nullable().optional(),
  cacheWritePrice: usdPriceSchema.nullable().optional(),
  reasoningPrice: usdPriceSchema.nullable().optional(),
  requestPrice: usdPriceSchema.nullable().optional(),
  imagePrice: usdPriceSchema.nullable().optional(),
  markupPercent: markupPercentSchema.nullable().optional(),
  priority: z
    .number()
    .int()
    .min(-MAX_CHANNEL_INTEGER - 1)
    .max(MAX_CHANNEL_INTEGER)
    .optional(),
  weight: z.number().int().min(1).max(MAX_CHANNEL_INTEGER).optional(),
  enabled: z.boolean().optional(),
});
export type EndpointPatch = z.infer<typeof endpointPatchSchema>;

/** An endpoint with its channel, as the console lists a model's providers. */
export interface EndpointSummary extends ModelEndpointRow {
  channelName: string;
  provider: string;
  channelEnabled: boolean;
  channelBroken: boolean;
  /** The version its current prices are. */
  priceVersionId: number | null;
}

/** The endpoints serving one model, by channel name. */
export async function listModelEndpoints(db: Database, modelId: string): Promise<EndpointSummary[]> {
  const rows = await db
    .select({ endpoint: modelEndpoints, channel: channels, priceVersionId: currentPriceVersionId(modelEndpoints.id) })
    .from(modelEndpoints)
    .innerJoin(channels, eq(channels.id, modelEndpoints.channelId))
    .where(eq(modelEndpoints.modelId, modelId))
    .orderBy(asc(channels.name));
  return rows.map(({ endpoint, channel, priceVersionId }) => ({
    ...endpoint,
    channelName: channel.name,
    provider: channel.provider,
    channelEnabled: channel.enabled,
    channelBroken: channel.brokenAt !== null,
    priceVersionId,
  }));
}

/** The endpoint's fields an audit row shows, prices as USD per million tokens. */
function auditedEndpointFields(endpoint: ModelEndpointRow): Record<string, unknown> {
  const usd = (nano: bigint | null) => (nano === null ? null : formatNanoAsUsd(nano));
  return {
    upstreamModel: endpoint.upstreamModel,
    inputPrice: usd(endpoint.inputPriceNano),
    outputPrice: usd(endpoint.outputPriceNano),
    cacheReadPrice: usd(endpoint.cacheReadPriceNano),
    cacheWritePrice: usd(endpoint.cacheWritePriceNano),
    reasoningPrice: usd(endpoint.reasoningPriceNano),
    requestPrice: usd(endpoint.requestPriceNano),
    imagePrice: usd(endpoint.imagePriceNano),
    markupPercent: endpoint.markupBasisPoints === null ? null : (endpoint.markupBasisPoints / 100).toString(),
    priority: endpoint.priority,
    weight: endpoint.weight,
    enabled: endpoint.enabled,
  };
}

/**
 * Applies a change to one endpoint. A change of prices or markup becomes a new price version (the table's trigger,
 * attributed to the actor) and is audited in the same transaction; every gateway reloads its catalog at once, so new
 * calls are billed at the new prices while calls already admitted keep the version they started with.
 */
export async function updateModelEndpoint(
  db: Database,
  changes: ChangeBus,
  endpointId: string,
  patch: EndpointPatch,
  actor: AuditActor,
  /** The price version the editor started from: the change is refused if another has been saved since. */
  expectedPriceVersionId?: number,
): Promise<ModelEndpointRow> {
  const updated = await db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(modelEndpoints)
      .where(eq(modelEndpoints.id, endpointId))
      .for("update")
      .limit(1);
    if (before === undefined) throw new NotFoundError(`No model endpoint ${endpointId}`);
    if (expectedPriceVersionId !== undefined) {
      // Read under the row lock: a concurrent change has committed its version, or waits behind us.
      const [current] = await tx
        .select({ id: currentPriceVersionId(modelEndpoints.id) })
        .from(modelEndpoints)
        .where(eq(modelEndpoints.id, endpointId));
      const currentId = current?.id ?? null;
      if (currentId !== expectedPriceVersionId) throw new StalePriceEditError(currentId);
    }
    await attributePriceChanges(tx, actor);
    const [after] = await tx
      .update(modelEndpoints)
      .set({
        upstreamModel: patch.upstreamModel,
        inputPriceNano: patch.inputPrice,
        outputPriceNano: patch.outputPrice,
        cacheReadPriceNano: patch.cacheReadPrice,
        cacheWritePriceNano: patch.cacheWritePrice,
        reasoningPriceNano: patch.reasoningPrice,
        requestPriceNano: patch.requestPrice,
        imagePriceNano: patch.imagePrice,
        markupBasisPoints: patch.markupPercent,
        priority: patch.priority,
        weight: patch.weight,
        enabled: patch.enabled,
        updatedAt: new Date(),
      })
      .where(eq(modelEndpoints.id, endpointId))
      .returning();
    if (after === undefined) throw new Error("endpoint update returned nothing");
    const changed = changedFields(auditedEndpointFields(before), auditedEndpointFields(after));
    if (Object.keys(changed.after).length > 0) {
      const [channel] = await tx
        .select({ name: channels.name })
        .from(channels)
        .where(eq(channels.id, after.channelId))
        .limit(1);
      await recordAudit(tx, actor, {
        action: "endpoint.update",
        target: { type: "endpoint", id: after.id, label: `${after.modelId} via ${channel?.name ?? after.channelId}` },
        ...changed,
      });
    }
    return after;
  });
  await changes.publish({ topic: "catalog-changed" });
  return updated;
}

/**
 * Makes a channel serve more models: an endpoint per model it does not serve yet, at the model's list prices (under
 * the given upstream name, or the model's own); endpoints it has stay as they are. Audited, and every gateway
 * reloads. Returns how many endpoints were added.
 */
export async function addChannelModels(
  db: Database,
  changes: ChangeBus,
  channelId: string,
  mappings: ChannelModelMapping[],
  actor: AuditActor,
): Promise<number> {
  const added = await db.transaction(async (tx) => {
    const [channel] = await tx.select().from(channels).where(eq(channels.id, channelId)).limit(1);
    if (channel === undefined) throw new NotFoundError(`No channel ${channelId}`);
    await attributePriceChanges(tx, actor);
    const count = await syncChannelEndpoints(tx, channel, mappings, { keepExisting: true });
    if (count > 0)
      await recordAudit(tx, actor, {
        action: "channel.add-models",
        target: { type: "channel", id: channel.id, label: channel.name },
        after: { models: mappings.map((mapping) => mapping.modelId) },
      });
    return count;
  });
  if (added > 0) await changes.publish({ topic: "catalog-changed" });
  return added;
}

/** The endpoints through which a channel serves models, by model id. */
export async function listChannelEndpoints(db: Database, channelId: string): Promise<ModelEndpointRow[]> {
  return db
    .select()
    .from(modelEndpoints)
    .where(eq(modelEndpoints.channelId, channelId))
    .orderBy(asc(modelEndpoints.modelId));
}
