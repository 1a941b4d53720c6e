import { and, desc, eq, isNull, or } from "drizzle-orm";
import type { Database, Queryable } from "~/server/db";
import { apiKeys, users } from "~/server/db/schema";
import type { ChangeBus } from "~/server/changes";
import { currentPeriodStart } from "~/server/gateway/billing/balance-holds";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { generateApiKey } from "~/server/gateway/keys/api-key-format";
import { NotFoundError } from "./users";
import type { AuditActor } from "./audit-actor";
import { changedFields, recordAudit } from "./audit-log";
import { ServiceError } from "./service-error";

export type ApiKey = typeof apiKeys.$inferSelect;
/** What may be shown about a key: never its hash. */
export type ApiKeySummary = Omit<ApiKey, "hash">;
export type KeyLimitReset = NonNullable<ApiKey["limitReset"]>;
export const KEY_LIMIT_RESETS = ["daily", "weekly", "monthly"] as const satisfies readonly KeyLimitReset[];

/** A limit or expiry that makes no sense (negative, or a reset period without a limit). */
export class ApiKeyInputError extends ServiceError {
  constructor(message: string) {
    super("invalid_input", message);
    this.name = "ApiKeyInputError";
  }
}

function summarise(key: ApiKey): ApiKeySummary {
  const { hash: _hash, ...summary } = key;
  return summary;
}

export type ApiKeyStatus = "active" | "disabled" | "expired" | "revoked";

export function apiKeyStatus(key: ApiKeySummary, now: Date): ApiKeyStatus {
  if (key.revokedAt !== null) return "revoked";
  if (key.disabledAt !== null) return "disabled";
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now.getTime()) return "expired";
  return "active";
}

/**
 * What a key's owner is shown about it: neither the hash nor internal ownership fields. Spend is that of the period
 * containing `now`: the stored figure belongs to an earlier period when its start differs (the gateway only rolls a
 * key's period over when the key is next used), and then counts as zero. Remaining ignores in-flight holds, which
 * are worst-case estimates that settle within seconds.
 */
export function describeApiKey(key: ApiKeySummary, now: Date = new Date()) {
  const periodStart = currentPeriodStart(key.limitReset, now);
  const periodSpendNano = key.periodStartedAt?.getTime() === periodStart?.getTime() ? key.periodSpendNano : 0n;
  const remainingNano =
    key.spendLimitNano === null
      ? null
      : key.spendLimitNano > periodSpendNano
        ? key.spendLimitNano - periodSpendNano
        : 0n;
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    status: apiKeyStatus(key, now),
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
    disabledAt: key.disabledAt,
    allowedModels: key.allowedModels,
    // The key's own rate limits; null takes the configured default.
    requestsPerMinute: key.requestsPerMinute,
    tokensPerMinute: key.tokensPerMinute,
    concurrentRequests: key.concurrentRequests,
    // Exact decimal strings: what a browser or `--json` reader can take without losing a nano-dollar.
    spendLimitUsd: key.spendLimitNano === null ? null : formatNanoAsUsd(key.spendLimitNano),
    limitReset: key.limitReset,
    periodStartedAt: periodStart,
    periodSpendUsd: formatNanoAsUsd(periodSpendNano),
    remainingUsd: remainingNano === null ? null : formatNanoAsUsd(remainingNano),
  };
}
export type ApiKeyDescription = ReturnType<typeof describeApiKey>;

/**
 * An allowlist as stored: each id once, in the order given. With `isKnownModel`, an id it does not know is refused,
 * unless the key already allows it (a model since removed from the catalog stays on a list that is only reordered).
 */
function allowlistOf(
  models: readonly string[],
  isKnownModel: ((id: string) => boolean) | undefined,
  current: readonly string[] | null = null,
): string[] {
  const unique = [...new Set(models)];
  if (unique.length === 0) throw new ApiKeyInputError("A model allowlist names at least one model");
  const unknown = unique.find((id) => isKnownModel?.(id) === false && current?.includes(id) !== true);
  if (unknown !== undefined) throw new ApiKeyInputError(`Unknown model: ${unknown}`);
  return unique;
}

/** The rate-limit columns to write: undefined leaves one as it is. */
function rateLimitChanges(input: ApiKeyRateLimitsInput): ApiKeyRateLimitsInput {
  return {
    ...(input.requestsPerMinute === undefined ? {} : { requestsPerMinute: input.requestsPerMinute }),
    ...(input.tokensPerMinute === undefined ? {} : { tokensPerMinute: input.tokensPerMinute }),
    ...(input.concurrentRequests === undefined ? {} : { concurrentRequests: input.concurrentRequests }),
  };
}

function checkLimit(spendLimitNano: bigint | null | undefined, limitReset: KeyLimitReset | null | undefined): void {
  if (spendLimitNano != null && spendLimitNano < 0n) throw new ApiKeyInputError("A spend limit cannot be negative");
  if (spendLimitNano === null && limitReset != null) throw new ApiKeyInputError("A reset period needs a spend limit");
}

/** Creates a key; the plaintext is returned here once and never stored. */
export async function createApiKey(
  db: Database,
  input: {
    userId: string;
    name: string;
    expiresAt?: Date | null;
    allowedModels?: string[] | null;
    /** When given, `allowedModels` may only name models it knows. */
    isKnownModel?: (id: string) => boolean;
    /** Most the key may spend per period (or in total without `limitReset`); null or omitted for no limit. */
    spendLimitNano?: bigint | null;
    limitReset?: KeyLimitReset | null;
  } & ApiKeyRateLimitsInput,
  /** The admin creating it for the customer, when it is not the customer. */
  admin?: AuditActor,
): Promise<{ key: ApiKeySummary; plaintext: string }> {
  const spendLimitNano = input.spendLimitNano ?? null;
  const limitReset = input.limitReset ?? null;
  checkLimit(spendLimitNano, limitReset);
  const generated = generateApiKey();
  const key = await writeKeyChange(db, admin, "key.create", null, async (tx) => {
    const [created] = await tx
      .insert(apiKeys)
      .values({
        userId: input.userId,
        name: input.name.trim(),
        hash: generated.hash,
        prefix: generated.prefix,
        expiresAt: input.expiresAt ?? null,
        allowedModels: input.allowedModels == null ? null : allowlistOf(input.allowedModels, input.isKnownModel),
        spendLimitNano,
        limitReset,
        ...rateLimitChanges(input),
      })
      .returning();
    return created;
  });
  if (key === undefined) throw new Error("key insert returned nothing");
  return { key: summarise(key), plaintext: generated.plaintext };
}

export async function listApiKeys(db: Database, userId: string): Promise<ApiKeySummary[]> {
  // The playground's key is the dashboard's own, not one the customer manages.
  const keys = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, userId), eq(apiKeys.purpose, "api")))
    .orderBy(desc(apiKeys.createdAt));
  return keys.map(summarise);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The one live (not revoked) key with this id or display prefix, optionally among one user's keys. */
export async function findLiveApiKey(
  db: Database,
  input: { idOrPrefix: string; userId?: string | undefined },
): Promise<ApiKey> {
  const ref = input.idOrPrefix.trim();
  const match = UUID.test(ref) ? or(eq(apiKeys.id, ref), eq(apiKeys.prefix, ref)) : eq(apiKeys.prefix, ref);
  const owner = input.userId === undefined ? undefined : eq(apiKeys.userId, input.userId);
  const candidates = await db
    .select()
    .from(apiKeys)
    .where(and(match, owner, isNull(apiKeys.revokedAt), eq(apiKeys.purpose, "api")));
  if (candidates.length === 0) throw new NotFoundError(`No active key matches ${ref}`);
  if (candidates.length > 1) throw new NotFoundError(`${candidates.length} keys match ${ref}; use the key id`);
  return candidates[0]!;
}

/**
 * Every gateway process drops the key from its caches (the authenticator's, by hash, and in-process admission's, by
 * id), so its next request reads the row again.
 */
async function evictFromCaches(changes: ChangeBus, key: ApiKey): Promise<void> {
  await changes.publish({ topic: "api-key-revoked", hash: key.hash });
  await changes.publish({ topic: "api-key-changed", id: key.id });
}

/** A key's settings as its audit rows show them (never its hash). */
function auditedKeyFields(key: ApiKey): Record<string, unknown> {
  return {
    name: key.name,
    allowedModels: key.allowedModels,
    spendLimitUsd: key.spendLimitNano === null ? null : formatNanoAsUsd(key.spendLimitNano),
    limitReset: key.limitReset,
    expiresAt: key.expiresAt,
    requestsPerMinute: key.requestsPerMinute,
    tokensPerMinute: key.tokensPerMinute,
    concurrentRequests: key.concurrentRequests,
    disabled: key.disabledAt !== null,
    revoked: key.revokedAt !== null,
  };
}

/**
 * Writes a key's change; when an admin makes it (the CLI acting for a customer), records it in the same transaction.
 * A customer's changes to their own keys are theirs and not audited. `before` is the key as it was (null: created).
 */
async function writeKeyChange(
  db: Database,
  admin: AuditActor | undefined,
  action: string,
  before: ApiKey | null,
  write: (tx: Queryable) => Promise<ApiKey | undefined>,
): Promise<ApiKey | undefined> {
  if (admin === undefined) return write(db);
  return db.transaction(async (tx) => {
    const after = await write(tx);
    if (after === undefined) return after;
    await recordAudit(tx, admin, {
      action,
      target: { type: "api-key", id: after.id, label: `${after.name} (${after.prefix}…)` },
      ...(before === null
        ? { after: auditedKeyFields(after) }
        : changedFields(auditedKeyFields(before), auditedKeyFields(after))),
    });
    return after;
  });
}

/** Every process drops the account's live keys from its caches: a change to the account applies from their next call. */
export async function evictAccountKeysFromCaches(db: Database, changes: ChangeBus, userId: string): Promise<void> {
  const keys = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)));
  for (const key of keys) await evictFromCaches(changes, key);
}

/**
 * Revokes a live key by id or display prefix, optionally only among one user's keys. Every gateway instance drops
 * the key from its cache, so the next request with it is refused.
 */
export async function revokeApiKey(
  db: Database,
  changes: ChangeBus,
  input: { idOrPrefix: string; userId?: string },
  admin?: AuditActor,
): Promise<ApiKeySummary> {
  const key = await findLiveApiKey(db, input);
  const revoked = await writeKeyChange(db, admin, "key.revoke", key, async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, key.id), isNull(apiKeys.revokedAt)))
      .returning();
    return row;
  });
  if (revoked === undefined) throw new NotFoundError(`No active key matches ${input.idOrPrefix.trim()}`);
  await evictFromCaches(changes, revoked);
  return summarise(revoked);
}

/**
 * Changes a live key's spend limit, reset period, expiry, model allowlist or rate limits; an omitted field is left as
 * it is, null clears it (every model, or the configured default rate). Removing the limit also removes its reset
 * period unless one is given (which is then refused). Spend already counted in the current period stays: raising or
 * lowering a limit does not forgive what was spent.
 */
export async function updateApiKeyLimits(
  db: Database,
  changes: ChangeBus,
  input: {
    id: string;
    userId?: string;
    spendLimitNano?: bigint | null;
    limitReset?: KeyLimitReset | null;
    expiresAt?: Date | null;
    allowedModels?: string[] | null;
    /** When given, a model newly on the allowlist must be one it knows. */
    isKnownModel?: (id: string) => boolean;
  } & ApiKeyRateLimitsInput,
  admin?: AuditActor,
): Promise<ApiKeySummary> {
  const key = await findLiveApiKey(db, { idOrPrefix: input.id, userId: input.userId });
  const spendLimitNano = input.spendLimitNano === undefined ? key.spendLimitNano : input.spendLimitNano;
  const limitReset =
    input.limitReset !== undefined ? input.limitReset : spendLimitNano === null ? null : key.limitReset;
  checkLimit(spendLimitNano, limitReset);
  const allowedModels =
    input.allowedModels == null
      ? input.allowedModels
      : allowlistOf(input.allowedModels, input.isKnownModel, key.allowedModels);
  const updated = await writeKeyChange(db, admin, "key.limits", key, async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({
        spendLimitNano,
        limitReset,
        ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
        ...(allowedModels === undefined ? {} : { allowedModels }),
        ...rateLimitChanges(input),
      })
      .where(and(eq(apiKeys.id, key.id), isNull(apiKeys.revokedAt)))
      .returning();
    return row;
  });
  if (updated === undefined) throw new NotFoundError(`No active key matches ${input.id}`);
  // Caches hold the expiry, the limits and the allowlist: a change applies from the next request, in every process.
  await evictFromCaches(changes, updated);
  return summarise(updated);
}

/**
 * Disables a live key (refused like a revoked one) or enables it again. Disabling twice keeps the first time.
 * Both directions evict the key from every cache: the authenticator remembers a refused key for a few seconds too.
 */
export async function setApiKeyDisabled(
  db: Database,
  changes: ChangeBus,
  input: { idOrPrefix: string; userId?: string; disabled: boolean },
  admin?: AuditActor,
): Promise<ApiKeySummary> {
  const key = await findLiveApiKey(db, input);
  const updated = await writeKeyChange(db, admin, input.disabled ? "key.disable" : "key.enable", key, async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ disabledAt: input.disabled ? (key.disabledAt ?? new Date()) : null })
      .where(and(eq(apiKeys.id, key.id), isNull(apiKeys.revokedAt)))
      .returning();
    return row;
  });
  if (updated === undefined) throw new NotFoundError(`No active key matches ${input.idOrPrefix.trim()}`);
  await evictFromCaches(changes, updated);
  return summarise(updated);
}

/** A key's own rate limits; undefined leaves one as it is, null falls back to the configured default. */
export interface ApiKeyRateLimitsInput {
  requestsPerMinute?: number | null;
  tokensPerMinute?: number | null;
  concurrentRequests?: number | null;
}

/**
 * Sets an account's own limits, shared by all its keys (null removes one: accounts have no configured default). Every
 * process drops the account's keys from its caches, so the new limits apply from their next request.
 */
export async function setAccountRateLimits(
  db: Database,
  changes: ChangeBus,
  input: { userId: string } & ApiKeyRateLimitsInput,
  actor: AuditActor,
): Promise<Required<ApiKeyRateLimitsInput>> {
  const limitColumns = {
    requestsPerMinute: users.requestsPerMinute,
    tokensPerMinute: users.tokensPerMinute,
    concurrentRequests: users.concurrentRequests,
  };
  const updated = await db.transaction(async (tx) => {
    const [before] = await tx
      .select({ ...limitColumns, email: users.email })
      .from(users)
      .where(eq(users.id, input.userId))
      .for("update");
    if (before === undefined) throw new NotFoundError(`No user with id ${input.userId}`);
    const [after] = await tx
      .update(users)
      .set(rateLimitChanges(input))
      .where(eq(users.id, input.userId))
      .returning(limitColumns);
    const { email, ...limitsBefore } = before;
    await recordAudit(tx, actor, {
      action: "account.rate-limits",
      target: { type: "user", id: input.userId, label: email },
      ...changedFields(limitsBefore, after!),
    });
    return after!;
  });
  await evictAccountKeysFromCaches(db, changes, input.userId);
  return updated;
}

/**
 * Sets a live key's rate limits. Every process drops the key from its caches, so the next request with it is counted
 * against the new limits.
 */
export async function setApiKeyRateLimits(
  db: Database,
  changes: ChangeBus,
  input: { idOrPrefix: string; userId?: string } & ApiKeyRateLimitsInput,
  admin?: AuditActor,
): Promise<ApiKey> {
  const key = await findLiveApiKey(db, input);
  const updated = await writeKeyChange(db, admin, "key.rate-limits", key, async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set(rateLimitChanges(input))
      .where(and(eq(apiKeys.id, key.id), isNull(apiKeys.revokedAt)))
      .returning();
    return row;
  });
  if (updated === undefined) throw new NotFoundError(`No active key matches ${input.idOrPrefix.trim()}`);
  await evictFromCaches(changes, updated);
  return updated;
}
