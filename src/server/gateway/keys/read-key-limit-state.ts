import { eq } from "drizzle-orm";
import type { Database } from "~/server/db";
import { apiKeys } from "~/server/db/schema";
import type { KeyLimitState } from "../billing/memory-balance-holds";

/** A key's state and spend limit as stored, for in-process admission; null when the key does not exist. */
export async function readKeyLimitState(db: Database, apiKeyId: string): Promise<KeyLimitState | null> {
  const [row] = await db
    .select({
      revokedAt: apiKeys.revokedAt,
      disabledAt: apiKeys.disabledAt,
      expiresAt: apiKeys.expiresAt,
      spendLimitNano: apiKeys.spendLimitNano,
      limitReset: apiKeys.limitReset,
      periodSpendNano: apiKeys.periodSpendNano,
      periodStartedAt: apiKeys.periodStartedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.id, apiKeyId))
    .limit(1);
  if (row === undefined) return null;
  return {
    active: row.revokedAt === null && row.disabledAt === null,
    expiresAt: row.expiresAt,
    spendLimitNano: row.spendLimitNano,
    limitReset: row.limitReset,
    periodSpendNano: row.periodSpendNano,
    periodStartedAt: row.periodStartedAt,
  };
}
