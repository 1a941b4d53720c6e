import { and, eq, isNull } from "drizzle-orm";
import type { Database } from "~/server/db";
import { apiKeys } from "~/server/db/schema";
import type { ApiKeyRecord } from "./api-key-authenticator";

/** A live key: neither revoked nor disabled (expiry is checked by the authenticator against its clock). */
export async function findApiKeyByHash(db: Database, hash: string): Promise<ApiKeyRecord | null> {
  const [row] = await db
    .select({
      id: apiKeys.id,
      userId: apiKeys.userId,
      prefix: apiKeys.prefix,
      expiresAt: apiKeys.expiresAt,
      allowedModels: apiKeys.allowedModels,
    })
    .from(apiKeys)
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt), isNull(apiKeys.disabledAt)))
    .limit(1);
  if (!row) return null;
  return {
    apiKeyId: row.id,
    userId: row.userId,
    keyPrefix: row.prefix,
    expiresAt: row.expiresAt,
    allowedModels: row.allowedModels === null ? null : new Set(row.allowedModels),
  };
}
