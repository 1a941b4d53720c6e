import { eq } from "drizzle-orm";
import type { Database } from "~/server/db";
import { apiKeys, users } from "~/server/db/schema";
import { NO_RATE_LIMITS, type RateLimits } from "../limits/rate-limiter";
import type { ApiKeyRecord } from "./api-key-authenticator";

/**
 * A key by hash with its own and its account's rate limits; revoked and disabled keys too, so that their holder can be
 * told which (the authenticator decides, and checks expiry against its clock). One query, as for a live key. A key's
 * unset limit falls back to `keyDefaults` (the configured defaults); an account's unset limit means none.
 */
export async function findApiKeyByHash(
  db: Database,
  hash: string,
  keyDefaults: RateLimits = NO_RATE_LIMITS,
): Promise<ApiKeyRecord | null> {
  const [row] = await db
    .select({
      id: apiKeys.id,
      userId: apiKeys.userId,
      prefix: apiKeys.prefix,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      disabledAt: apiKeys.disabledAt,
      allowedModels: apiKeys.allowedModels,
      spendLimitNano: apiKeys.spendLimitNano,
      keyRequestsPerMinute: apiKeys.requestsPerMinute,
      keyTokensPerMinute: apiKeys.tokensPerMinute,
      keyConcurrentRequests: apiKeys.concurrentRequests,
      accountRequestsPerMinute: users.requestsPerMinute,
      accountTokensPerMinute: users.tokensPerMinute,
      accountConcurrentRequests: users.concurrentRequests,
      accountDisabledAt: users.disabledAt,
    })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(eq(apiKeys.hash, hash))
    .limit(1);
  if (!row) return null;
  return {
    apiKeyId: row.id,
    userId: row.userId,
    keyPrefix: row.prefix,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    disabledAt: row.disabledAt,
    accountDisabledAt: row.accountDisabledAt,
    allowedModels: row.allowedModels === null ? null : new Set(row.allowedModels),
    spendLimited: row.spendLimitNano !== null,
    rateLimits: {
      key: {
        requestsPerMinute: row.keyRequestsPerMinute ?? keyDefaults.requestsPerMinute,
        tokensPerMinute: row.keyTokensPerMinute ?? keyDefaults.tokensPerMinute,
        concurrentRequests: row.keyConcurrentRequests ?? keyDefaults.concurrentRequests,
      },
      account: {
        requestsPerMinute: row.accountRequestsPerMinute,
        tokensPerMinute: row.accountTokensPerMinute,
        concurrentRequests: row.accountConcurrentRequests,
      },
    },
  };
}
