import { and, desc, eq, isNull, or } from "drizzle-orm";
import type { Database } from "~/server/db";
import { apiKeys } from "~/server/db/schema";
import type { ChangeBus } from "~/server/changes";
import { generateApiKey } from "~/server/gateway/keys/api-key-format";
import { NotFoundError } from "./users";

export type ApiKey = typeof apiKeys.$inferSelect;
/** What may be shown about a key: never its hash. */
export type ApiKeySummary = Omit<ApiKey, "hash">;

function summarise(key: ApiKey): ApiKeySummary {
  const { hash: _hash, ...summary } = key;
  return summary;
}

/** What a key's owner is shown about it: neither the hash nor internal ownership fields. */
export function describeApiKey(key: ApiKeySummary) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
    allowedModels: key.allowedModels,
  };
}

/** Creates a key; the plaintext is returned here once and never stored. */
export async function createApiKey(
  db: Database,
  input: { userId: string; name: string; expiresAt?: Date | null; allowedModels?: string[] | null },
): Promise<{ key: ApiKeySummary; plaintext: string }> {
  const generated = generateApiKey();
  const [key] = await db
    .insert(apiKeys)
    .values({
      userId: input.userId,
      name: input.name.trim(),
      hash: generated.hash,
      prefix: generated.prefix,
      expiresAt: input.expiresAt ?? null,
      allowedModels:
        input.allowedModels === undefined || input.allowedModels === null ? null : [...new Set(input.allowedModels)],
    })
    .returning();
  if (key === undefined) throw new Error("key insert returned nothing");
  return { key: summarise(key), plaintext: generated.plaintext };
}

export async function listApiKeys(db: Database, userId: string): Promise<ApiKeySummary[]> {
  const keys = await db.select().from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(desc(apiKeys.createdAt));
  return keys.map(summarise);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Revokes a live key by id or display prefix, optionally only among one user's keys. Every gateway instance drops
 * the key from its cache, so the next request with it is refused.
 */
export async function revokeApiKey(
  db: Database,
  changes: ChangeBus,
  input: { idOrPrefix: string; userId?: string },
): Promise<ApiKeySummary> {
  const ref = input.idOrPrefix.trim();
  const match = UUID.test(ref) ? or(eq(apiKeys.id, ref), eq(apiKeys.prefix, ref)) : eq(apiKeys.prefix, ref);
  const owner = input.userId === undefined ? undefined : eq(apiKeys.userId, input.userId);
  const candidates = await db
    .select()
    .from(apiKeys)
    .where(and(match, owner, isNull(apiKeys.revokedAt)));
  if (candidates.length === 0) throw new NotFoundError(`No active key matches ${ref}`);
  if (candidates.length > 1) throw new NotFoundError(`${candidates.length} keys match ${ref}; use the key id`);
  const [revoked] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, candidates[0]!.id), isNull(apiKeys.revokedAt)))
    .returning();
  if (revoked === undefined) throw new NotFoundError(`No active key matches ${ref}`);
  await changes.publish({ topic: "api-key-revoked", hash: revoked.hash });
  return summarise(revoked);
}
