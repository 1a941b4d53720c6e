import { and, asc, count, eq, inArray, isNull, ne, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database, Queryable } from "~/server/db";
import { channels, modelEndpoints, models } from "~/server/db/schema";
import type { ChangeBus } from "~/server/changes";
import type { SecretBox } from "~/server/crypto/secret-box";
import { NotFoundError } from "./users";
import type { AuditActor } from "./audit-actor";
import { changedFields, recordAudit } from "./audit-log";
import { attributePriceChanges } from "./price-versions";
import { ServiceError } from "./service-error";

export type Channel = typeof channels.$inferSelect;
export type ChannelKind = Channel["kind"];
/**
 * A channel as it may be shown: the secret reduced to whether there is one. It keeps everything else an operator
 * needs: enabled, the broken mark and its reason, the per-channel timeouts and the last test's result.
 */
export type ChannelSummary = Omit<Channel, "encryptedSecret"> & { hasSecret: boolean; endpointCount: number };

/** What an operator asked for makes no sense for a channel (a bad URL, a model the channel does not serve, …). */
export class ChannelInputError extends ServiceError {
  constructor(message: string) {
    super("invalid_input", message);
    this.name = "ChannelInputError";
  }
}

export class ChannelNameTakenError extends ServiceError {
  constructor(name: string) {
    super("conflict", `a channel named ${name} already exists`);
    this.name = "ChannelNameTakenError";
  }
}

export const PROVIDER_SLUG_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
/** The largest value of an `integer` column: priorities, weights and timeouts must fit. */
export const MAX_CHANNEL_INTEGER = 2_147_483_647;

/**
 * http(s) only, no credentials in the URL (they would show in `channel list`), without a trailing slash. Throws
 * ChannelInputError with a message that reads after the field's name ("is not a URL: …").
 */
export function normalizeBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ChannelInputError(`is not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new ChannelInputError("must be an http or https URL");
  if (url.username !== "" || url.password !== "") throw new ChannelInputError("must not contain credentials");
  return url.toString().replace(/\/+$/, "");
}

const timeoutSchema = z.number().int().min(1).max(MAX_CHANNEL_INTEGER).nullable();

/** A change to a channel, as admins send it (every field optional; null resets a timeout to the default). */
export const channelPatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  baseUrl: z
    .string()
    .transform((text, context) => {
      try {
        return normalizeBaseUrl(text);
      } catch (error) {
        context.addIssue({ code: "custom", message: `The base URL ${(error as Error).message}` });
        return z.NEVER;
      }
    })
    .optional(),
  provider: z.string().trim().toLowerCase().regex(PROVIDER_SLUG_PATTERN, "A provider slug such as deepseek").optional(),
  /** A new upstream key, stored encrypted; null removes it (keyless upstreams). Never read back. */
  apiKey: z.string().trim().min(1).max(10_000).nullable().optional(),
  priority: z
    .number()
    .int()
    .min(-MAX_CHANNEL_INTEGER - 1)
    .max(MAX_CHANNEL_INTEGER)
    .optional(),
  weight: z.number().int().min(1).max(MAX_CHANNEL_INTEGER).optional(),
  enabled: z.boolean().optional(),
  retainsData: z.boolean().optional(),
  /** An aggregator (OpenRouter and the like) is a fallback tier behind the models' native channels. */
  aggregator: z.boolean().optional(),
  connectTimeoutMs: timeoutSchema.optional(),
  firstByteTimeoutMs: timeoutSchema.optional(),
  idleTimeoutMs: timeoutSchema.optional(),
  totalTimeoutMs: timeoutSchema.optional(),
});
export type ChannelPatch = z.infer<typeof channelPatchSchema>;

/** The per-channel timeouts an operator may set, by their column names. */
export const CHANNEL_TIMEOUT_FIELDS = [
  "connectTimeoutMs",
  "firstByteTimeoutMs",
  "idleTimeoutMs",
  "totalTimeoutMs",
] as const satisfies readonly (keyof ChannelPatch & keyof Channel)[];

/** Tollgate's own models' author: the built-in demo channel's provider. */
const TOLLGATE_PROVIDER = "tollgate";

/** The provider slug a channel kind serves natively. */
export const PROVIDER_FOR_KIND: Record<ChannelKind, string | null> = {
  openai: "openai",
  anthropic: "anthropic",
  gemini: "google",
  demo: TOLLGATE_PROVIDER,
  "openai-compatible": null,
};

/** Providers whose channels are aggregators unless an operator says otherwise (`aggregator: false`). */
const AGGREGATOR_PROVIDERS = new Set(["openrouter"]);

/** Whether a new channel of this provider is an aggregator when its operator does not say. */
function isAggregatorProvider(provider: string): boolean {
  return AGGREGATOR_PROVIDERS.has(provider.toLowerCase());
}

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
  /**
   * A router in front of other providers: serves every catalog model but Tollgate's own, after the native channels
   * of a priority tier. Defaults to true for OpenRouter.
   */
  aggregator?: boolean;
  /** Explicit models; when absent, every catalog model of the channel's provider (all models for aggregators). */
  models?: ChannelModelMapping[];
}

/** A channel's settings as its audit rows show them: never its secret (a key shows only as set or replaced). */
function auditedChannelFields(channel: Channel): Record<string, unknown> {
  const { encryptedSecret: _secret, createdAt: _created, updatedAt: _updated, ...fields } = channel;
  return fields;
}

export async function addChannel(
  db: Database,
  secretBox: SecretBox,
  changes: ChangeBus,
  input: AddChannelInput,
  actor: AuditActor,
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
        aggregator: input.aggregator ?? isAggregatorProvider(provider),
      })
      .returning();
    if (created === undefined) throw new Error("channel insert returned nothing");
    await attributePriceChanges(tx, actor);
    const endpointCount = await syncChannelEndpoints(tx, created, input.models);
    await recordAudit(tx, actor, {
      action: "channel.create",
      target: { type: "channel", id: created.id, label: created.name },
      after: { ...auditedChannelFields(created), upstreamKey: input.apiKey ? "set" : null, endpointCount },
    });
    return created;
  });
  await changes.publish({ topic: "catalog-changed" });
  const [summary] = await listChannels(db, channel.id);
  return { channel: summary!, endpointCount: summary!.endpointCount };
}

/**
 * Creates or re-prices the endpoints through which a channel serves models, at the models' list prices.
 * Unknown explicit model ids are an error: the catalog must know a model before a channel can serve it, and no
 * aggregator serves Tollgate's own models (the offline demo answers in-process; no upstream lists it). Without
 * explicit models, a router that lists every model (OpenRouter) serves every model but Tollgate's own, under its
 * public id; any other channel its provider's models. (Flagging a channel as an aggregator only puts it behind the
 * native channels: which models it serves stays as given.)
 */
export async function syncChannelEndpoints(
  db: Queryable,
  channel: Pick<Channel, "id" | "provider" | "aggregator">,
  mappings?: ChannelModelMapping[],
  options: { keepExisting?: boolean } = {},
): Promise<number> {
  const aggregator = isAggregatorProvider(channel.provider);
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
        ? await db.select().from(models).where(ne(models.author, TOLLGATE_PROVIDER))
        : await db.select().from(models).where(eq(models.author, channel.provider));
  if (mappings !== undefined) {
    const known = new Set(rows.map((row) => row.id));
    const unknown = mappings.filter((mapping) => !known.has(mapping.modelId)).map((mapping) => mapping.modelId);
    if (unknown.length > 0) throw new NotFoundError(`Unknown model(s): ${unknown.join(", ")}`);
    const own = rows.filter((row) => row.author === TOLLGATE_PROVIDER).map((row) => row.id);
    if (channel.aggregator && own.length > 0)
      throw new ChannelInputError(`An aggregator channel cannot serve Tollgate's own model(s): ${own.join(", ")}`);
  }
  if (rows.length === 0) return 0;
  const upstreamFor = new Map(mappings?.map((mapping) => [mapping.modelId, mapping.upstreamModel]) ?? []);
  const insert = db.insert(modelEndpoints).values(
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
  );
  // Adding models to a channel leaves the endpoints it has (and the prices an admin gave them) as they are.
  if (options.keepExisting === true) {
    const inserted = await insert.onConflictDoNothing().returning({ id: modelEndpoints.id });
    return inserted.length;
  }
  await insert.onConflictDoUpdate({
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
 * `channel list`, and every process reloads its catalog without it. An operator clears the mark by editing the key or
 * base URL, by enabling the channel, or by a successful `channel test` (for the channels configured from the
 * environment, a changed key at the next start also clears it).
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

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A channel by its id or its name (an id wins when a channel is, oddly, named like another's id). */
export async function findChannel(db: Database, nameOrId: string): Promise<Channel | null> {
  const id = UUID_PATTERN.test(nameOrId) ? nameOrId.toLowerCase() : null;
  const rows = await db
    .select()
    .from(channels)
    .where(id === null ? eq(channels.name, nameOrId) : or(eq(channels.id, id), eq(channels.name, nameOrId)))
    .limit(2);
  return rows.find((row) => row.id === id) ?? rows[0] ?? null;
}

export async function requireChannel(db: Database, nameOrId: string): Promise<Channel> {
  const channel = await findChannel(db, nameOrId);
  if (channel === null) throw new NotFoundError(`No channel ${nameOrId}`);
  return channel;
}

/**
 * Changes a channel and tells every gateway to reload its catalog. Only the fields present in the patch change; a
 * timeout set to null goes back to the configured default. A new key is encrypted here and never returned.
 *
 * Giving a key or a base URL, or enabling the channel, is how an operator says "fixed": it clears the broken mark
 * (see markChannelBroken), so routing tries the channel again; a still-wrong key is marked again at its first refusal.
 * The endpoints the channel serves are left as they are, also when the provider slug changes.
 */
export async function updateChannel(
  db: Database,
  changes: ChangeBus,
  secretBox: SecretBox,
  id: string,
  patch: ChannelPatch,
  actor: AuditActor,
): Promise<ChannelSummary> {
  const current = await requireChannel(db, id);
  if (current.kind === "demo" && (patch.name ?? patch.baseUrl ?? patch.provider ?? patch.apiKey) !== undefined) {
    // The server recreates its demo channel by name at every start, answered in-process whatever its URL says.
    throw new ChannelInputError("the built-in demo channel's name, base URL, provider and key cannot be changed");
  }
  if (patch.apiKey === null && current.kind !== "openai-compatible")
    throw new ChannelInputError(`${current.kind} channels need a key`);
  if (patch.name !== undefined && patch.name !== current.name) {
    const taken = await findChannelByName(db, patch.name);
    if (taken !== null && taken.id !== current.id) throw new ChannelNameTakenError(patch.name);
  }
  const fixesBrokenState = patch.apiKey !== undefined || patch.baseUrl !== undefined || patch.enabled === true;
  const set: Partial<typeof channels.$inferInsert> = {};
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.baseUrl !== undefined) set.baseUrl = patch.baseUrl;
  if (patch.provider !== undefined) set.provider = patch.provider;
  if (patch.apiKey !== undefined) set.encryptedSecret = patch.apiKey === null ? null : secretBox.encrypt(patch.apiKey);
  if (patch.priority !== undefined) set.priority = patch.priority;
  if (patch.weight !== undefined) set.weight = patch.weight;
  if (patch.enabled !== undefined) set.enabled = patch.enabled;
  if (patch.retainsData !== undefined) set.retainsData = patch.retainsData;
  if (patch.aggregator !== undefined) set.aggregator = patch.aggregator;
  for (const field of CHANNEL_TIMEOUT_FIELDS) {
    const value = patch[field];
    if (value !== undefined) set[field] = value;
  }
  if (fixesBrokenState) {
    set.brokenAt = null;
    set.brokenReason = null;
  }
  if (Object.keys(set).length === 0) return (await listChannels(db, current.id))[0]!;

  await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(channels)
      .set({ ...set, updatedAt: sql`now()` })
      .where(eq(channels.id, current.id))
      .returning();
    if (updated === undefined) throw new NotFoundError(`No channel ${id}`);
    const changed = changedFields(auditedChannelFields(current), auditedChannelFields(updated));
    // A new key shows as changed, never as itself.
    if (patch.apiKey !== undefined) {
      changed.before.upstreamKey = current.encryptedSecret === null ? null : "set";
      changed.after.upstreamKey = patch.apiKey === null ? null : "replaced";
    }
    await recordAudit(tx, actor, {
      action: "channel.update",
      target: { type: "channel", id: current.id, label: updated.name },
      ...changed,
    });
  });
  await changes.publish({ topic: "catalog-changed" });
  return (await listChannels(db, current.id))[0]!;
}

/** Enables (clearing a broken mark: see updateChannel) or disables a channel; gateways reload their catalog. */
export async function setChannelEnabled(
  db: Database,
  changes: ChangeBus,
  id: string,
  enabled: boolean,
  actor: AuditActor,
): Promise<ChannelSummary> {
  await db.transaction(async (tx) => {
    const [current] = await tx.select().from(channels).where(eq(channels.id, id)).for("update");
    if (current === undefined) throw new NotFoundError(`No channel ${id}`);
    const [updated] = await tx
      .update(channels)
      .set(
        enabled
          ? { enabled, brokenAt: null, brokenReason: null, updatedAt: sql`now()` }
          : { enabled, updatedAt: sql`now()` },
      )
      .where(eq(channels.id, id))
      .returning();
    await recordAudit(tx, actor, {
      action: enabled ? "channel.enable" : "channel.disable",
      target: { type: "channel", id, label: current.name },
      ...changedFields(auditedChannelFields(current), auditedChannelFields(updated!)),
    });
  });
  await changes.publish({ topic: "catalog-changed" });
  return (await listChannels(db, id))[0]!;
}
