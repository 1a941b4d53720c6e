import { sql } from "drizzle-orm";
import type { Transaction } from "~/server/db";
import { jsonParam } from "~/server/db/raw-rows";
import type { generations } from "~/server/db/schema";

type GenerationRow = typeof generations.$inferInsert;

const HOUR_MS = 3_600_000;

/** One `usage_hourly` slot's increments, in the column order of ROLLUP_COLUMNS. */
type RollupRow = [
  userId: string,
  apiKeyId: string | null,
  modelId: string,
  provider: string,
  hour: string,
  requests: number,
  errors: number,
  promptTokens: number,
  completionTokens: number,
  cachedTokens: number,
  cacheWriteTokens: number,
  reasoningTokens: number,
  costNano: bigint,
  latencyMsSum: number,
  firstTokenMsSum: number,
  firstTokenCount: number,
  providerCostNano: bigint,
];

const ROLLUP_COLUMNS = [
  ["user_id", "text"],
  ["api_key_id", "uuid"],
  ["model_id", "text"],
  ["provider", "text"],
  ["hour", "timestamptz"],
  ["requests", "integer"],
  ["errors", "integer"],
  ["prompt_tokens", "bigint"],
  ["completion_tokens", "bigint"],
  ["cached_tokens", "bigint"],
  ["cache_write_tokens", "bigint"],
  ["reasoning_tokens", "bigint"],
  ["cost_nano", "bigint"],
  ["latency_ms_sum", "bigint"],
  ["first_token_ms_sum", "bigint"],
  ["first_token_count", "integer"],
  ["provider_cost_nano", "bigint"],
] as const;
/** The columns after the slot's five: each is added to what the slot already holds. */
const SUMMED_COLUMNS = ROLLUP_COLUMNS.slice(5).map(([name]) => name);

const COLUMN_NAMES = ROLLUP_COLUMNS.map(([name]) => name).join(", ");
const VALUES = ROLLUP_COLUMNS.map(([, type], position) => `(slot->>${position})::${type}`).join(", ");
const UPDATES = SUMMED_COLUMNS.map((name) => `${name} = usage_hourly.${name} + excluded.${name}`).join(", ");

const BASIS_POINTS = 10_000n;

/**
 * What a call cost Tollgate: what the upstream said it charged where it says (OpenRouter), else the call's cost
 * without the markup applied to it (rounded down, so a margin is never overstated).
 */
export function providerCostNano(generation: GenerationRow, costNano: bigint): bigint {
  if (generation.upstreamCostNano !== null && generation.upstreamCostNano !== undefined)
    return generation.upstreamCostNano;
  const markup = BigInt(generation.markupBasisPoints ?? 0);
  return (costNano * BASIS_POINTS) / (BASIS_POINTS + markup);
}

/**
 * Sums generations into their `usage_hourly` slots (account, key, model, provider, UTC hour of the call's start).
 * Slots come out sorted, so that two batches adding to the same slots lock them in the same order.
 */
export function rollUpGenerations(
  generations: readonly { generation: GenerationRow; costNano: bigint }[],
): RollupRow[] {
  const slots = new Map<string, RollupRow>();
  for (const { generation, costNano } of generations) {
    const hour = new Date(Math.floor(generation.createdAt.getTime() / HOUR_MS) * HOUR_MS).toISOString();
    const apiKeyId = generation.apiKeyId ?? null;
    const slot = `${generation.userId}\u0000${hour}\u0000${generation.modelId}\u0000${generation.provider}\u0000${apiKeyId ?? ""}`;
    let row = slots.get(slot);
    if (row === undefined) {
      row = [
        generation.userId,
        apiKeyId,
        generation.modelId,
        generation.provider,
        hour,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0n,
        0,
        0,
        0,
        0n,
      ];
      slots.set(slot, row);
    }
    row[5] += 1;
    if (generation.httpStatus >= 400) row[6] += 1;
    row[7] += generation.promptTokens ?? 0;
    row[8] += generation.completionTokens ?? 0;
    row[9] += generation.cachedTokens ?? 0;
    row[10] += generation.cacheWriteTokens ?? 0;
    row[11] += generation.reasoningTokens ?? 0;
    row[12] += costNano;
    row[13] += generation.latencyMs;
    if (generation.timeToFirstTokenMs !== null && generation.timeToFirstTokenMs !== undefined) {
      row[14] += generation.timeToFirstTokenMs;
      row[15] += 1;
    }
    row[16] += providerCostNano(generation, costNano);
  }
  return [...slots.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/**
 * Adds freshly inserted generations to the hourly rollup, in the caller's transaction (the usage writer's, which
 * inserts those generations and debits their cost): the rollup never disagrees with the log or the ledger. One
 * statement, rows as JSON arrays read by position like the generations themselves.
 */
export async function addToUsageRollup(
  tx: Transaction,
  fresh: readonly { generation: GenerationRow; costNano: bigint }[],
): Promise<void> {
  const rows = rollUpGenerations(fresh);
  if (rows.length === 0) return;
  await tx.execute(sql`
    insert into usage_hourly (${sql.raw(COLUMN_NAMES)})
    select ${sql.raw(VALUES)}
    from jsonb_array_elements(${jsonParam(rows)}::jsonb) as slot
    on conflict (user_id, hour, model_id, provider, api_key_id) do update set ${sql.raw(UPDATES)}`);
}
