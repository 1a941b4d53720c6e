import { desc, eq, sql } from "drizzle-orm";
import type { Database, Queryable } from "~/server/db";
import { endpointPriceVersions, generations } from "~/server/db/schema";
import { computeCostNano, type TokenPrices } from "~/server/gateway/billing/compute-cost";
import type { AuditActor } from "./audit-actor";

export type PriceVersion = typeof endpointPriceVersions.$inferSelect;

/**
 * Names the actor on the price versions that the trigger on `model_endpoints` writes in this transaction (it reads
 * `tollgate.actor`, local to the transaction); without it a version says `system`.
 */
export async function attributePriceChanges(tx: Queryable, actor: AuditActor): Promise<void> {
  await tx.execute(sql`select set_config('tollgate.actor', ${actor.label}, true)`);
}

/** An endpoint's prices over time, newest first: who set each and from when. */
export async function listPriceVersions(db: Database, endpointId: string, limit = 100): Promise<PriceVersion[]> {
  return db
    .select()
    .from(endpointPriceVersions)
    .where(eq(endpointPriceVersions.endpointId, endpointId))
    .orderBy(desc(endpointPriceVersions.id))
    .limit(limit);
}

export interface CostExplanation {
  generationId: string;
  /** The version the call was billed at; null for calls from before versions were recorded. */
  version: PriceVersion | null;
  markupBasisPoints: number | null;
  /** What the stored tokens cost at that version and markup: equal to `billedNano` for every versioned call. */
  recomputedNano: bigint | null;
  billedNano: bigint;
}

/**
 * Recomputes a past call's cost from its stored token counts and the price version it names: the answer to "why did
 * this call cost that?", which must hold however often the endpoint was repriced since. A call that produced nothing
 * billable (`void`) cost nothing at any price.
 */
export async function explainGenerationCost(db: Database, generationId: string): Promise<CostExplanation | null> {
  const [row] = await db
    .select({ generation: generations, version: endpointPriceVersions })
    .from(generations)
    .leftJoin(endpointPriceVersions, eq(endpointPriceVersions.id, generations.priceVersionId))
    .where(eq(generations.id, generationId))
    .limit(1);
  if (row === undefined) return null;
  const { generation, version } = row;
  const explanation = {
    generationId,
    version,
    markupBasisPoints: generation.markupBasisPoints,
    billedNano: generation.costNano,
  };
  if (version === null || generation.markupBasisPoints === null) return { ...explanation, recomputedNano: null };
  if (generation.billingStatus === "void") return { ...explanation, recomputedNano: 0n };
  const prices: TokenPrices = { ...version, markupBasisPoints: BigInt(generation.markupBasisPoints) };
  const recomputedNano = computeCostNano(
    {
      promptTokens: generation.promptTokens,
      completionTokens: generation.completionTokens,
      cachedTokens: generation.cachedTokens,
      cacheWriteTokens: generation.cacheWriteTokens,
      reasoningTokens: generation.reasoningTokens,
    },
    prices,
    { imageCount: generation.imageCount },
  );
  return { ...explanation, recomputedNano };
}
