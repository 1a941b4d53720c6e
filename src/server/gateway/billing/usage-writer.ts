import { sql } from "drizzle-orm";
import type { Database, Transaction } from "~/server/db";
import { jsonParam, rowsOf } from "~/server/db/raw-rows";
import type { generations } from "~/server/db/schema";
import type { Logger } from "../logger";
import { lockBalances, postLedgerEntries, type LedgerEntryInput } from "./ledger";

const MAX_RETRY_DELAY_MS = 5_000;
/** `last_used_at` is a dashboard hint: written at most once a minute per key, not on every batch. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The generations columns this writer fills, with their SQL types. Rows go to PostgreSQL as one JSON parameter:
 * building a multi-row insert with the query builder costs far more CPU than the insert itself.
 */
const GENERATION_COLUMNS = {
  id: "text",
  user_id: "text",
  api_key_id: "uuid",
  model_id: "text",
  channel_id: "uuid",
  provider: "text",
  upstream_model: "text",
  upstream_id: "text",
  streamed: "boolean",
  cancelled: "boolean",
  finish_reason: "text",
  http_status: "integer",
  error_type: "text",
  prompt_tokens: "integer",
  completion_tokens: "integer",
  cached_tokens: "integer",
  cache_write_tokens: "integer",
  reasoning_tokens: "integer",
  billing_status: "billing_status",
  image_count: "integer",
  cost_nano: "bigint",
  upstream_cost_nano: "bigint",
  latency_ms: "integer",
  time_to_first_token_ms: "integer",
  created_at: "timestamptz",
} as const;
const GENERATION_COLUMN_NAMES = Object.keys(GENERATION_COLUMNS).join(", ");
const GENERATION_COLUMN_TYPES = Object.entries(GENERATION_COLUMNS)
  .map(([name, type]) => `${name} ${type}`)
  .join(", ");

function generationColumns(row: GenerationRow): Record<keyof typeof GENERATION_COLUMNS, unknown> {
  return {
    id: row.id,
    user_id: row.userId,
    api_key_id: row.apiKeyId ?? null,
    model_id: row.modelId,
    channel_id: row.channelId ?? null,
    provider: row.provider,
    upstream_model: row.upstreamModel,
    upstream_id: row.upstreamId ?? null,
    streamed: row.streamed,
    cancelled: row.cancelled ?? false,
    finish_reason: row.finishReason ?? null,
    http_status: row.httpStatus,
    error_type: row.errorType ?? null,
    prompt_tokens: row.promptTokens ?? 0,
    completion_tokens: row.completionTokens ?? 0,
    cached_tokens: row.cachedTokens ?? 0,
    cache_write_tokens: row.cacheWriteTokens ?? 0,
    reasoning_tokens: row.reasoningTokens ?? 0,
    billing_status: row.billingStatus ?? "void",
    image_count: row.imageCount ?? 0,
    cost_nano: row.costNano ?? 0n,
    upstream_cost_nano: row.upstreamCostNano ?? null,
    latency_ms: row.latencyMs,
    time_to_first_token_ms: row.timeToFirstTokenMs ?? null,
    created_at: row.createdAt.toISOString(),
  };
}

export type GenerationRow = typeof generations.$inferInsert;

/**
 * Releases the holds of settled calls (whichever of settlement and expiry deletes a hold releases it, never both),
 * adds each fresh generation's cost to its key's spend for the period the call started in (a call that began before
 * the key's current period does not count against it), and stamps `last_used_at`. One statement for the batch.
 */
async function releaseHoldsAndCountKeySpend(
  tx: Transaction,
  batch: Settlement[],
  fresh: Settlement[],
  lastUsedKeyIds: string[],
): Promise<void> {
  const holdIds = jsonParam(batch.map((settlement) => settlement.generation.id));
  const spend = jsonParam(
    fresh
      .filter((settlement) => settlement.costNano > 0n && typeof settlement.generation.apiKeyId === "string")
      .map((settlement) => ({
        key_id: settlement.generation.apiKeyId,
        started_at: settlement.generation.createdAt.toISOString(),
        cost: settlement.costNano,
      })),
  );
  await tx.execute(sql`
    with released as (
      delete from balance_holds where id in (select jsonb_array_elements_text(${holdIds}::jsonb))
      returning user_id, api_key_id, amount_nano
    ), by_user as (
      select user_id, sum(amount_nano) as amount from released group by user_id
    ), by_key as (
      select api_key_id as key_id, sum(amount_nano) as amount from released where api_key_id is not null
      group by api_key_id
    ), spent as (
      select key_id, started_at, cost
      from jsonb_to_recordset(${spend}::jsonb) as spent(key_id uuid, started_at timestamptz, cost bigint)
    ), used as (
      select jsonb_array_elements_text(${jsonParam(lastUsedKeyIds)}::jsonb)::uuid as key_id
    ), balances_released as (
      update balances set held_nano = balances.held_nano - by_user.amount
      from by_user where balances.user_id = by_user.user_id
      returning 1
    )
    update api_keys set
      held_nano = api_keys.held_nano - coalesce((select amount from by_key where by_key.key_id = api_keys.id), 0),
      period_spend_nano = api_keys.period_spend_nano + coalesce((
        select sum(spent.cost) from spent
        where spent.key_id = api_keys.id
          and (api_keys.period_started_at is null or spent.started_at >= api_keys.period_started_at)
      ), 0),
      last_used_at = case when api_keys.id in (select key_id from used) then now() else api_keys.last_used_at end
    where api_keys.id in (select key_id from by_key union select key_id from spent union select key_id from used)`);
}

/**
 * Everything one finished /v1 call must persist: its generation row, its debit when it cost anything, and the
 * release of its balance hold (the hold's id is the generation id).
 */
export interface Settlement {
  generation: GenerationRow;
  costNano: bigint;
}

export interface UsageWriter {
  enqueue(settlement: Settlement): void;
  /** Nano-USD queued for `userId` but not yet written: the balance gate subtracts it. */
  pendingDebitNano(userId: string): bigint;
  /** A generation still queued (not yet written), so it can be shown before the next batch commits. */
  pendingGeneration(id: string): GenerationRow | null;
  /** Writes everything queued so far; resolves when it is committed. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

export interface UsageWriterOptions {
  db: Database;
  logger: Logger;
  /** Group-commit window. */
  flushIntervalMs?: number;
  /** A batch this large is written without waiting for the window. */
  maxBatchSize?: number;
  /** Told the committed balances after each batch, so caches need not re-read them. */
  onBalancesWritten?: (balances: Map<string, bigint>) => void;
}

/**
 * Batches usage rows and debits into one transaction per window (group commit), so the /v1 hot path never waits on
 * a database round trip. A failed batch stays queued and is retried on the next tick; the ledger's unique
 * `(kind, external_id)` makes a retried debit a no-op.
 */
export function createUsageWriter(options: UsageWriterOptions): UsageWriter {
  const { db, logger } = options;
  const flushIntervalMs = options.flushIntervalMs ?? 100;
  const maxBatchSize = options.maxBatchSize ?? 1000;
  let queue: Settlement[] = [];
  const pendingByUser = new Map<string, bigint>();
  let timer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const lastUsedWritten = new Map<string, number>();
  let consecutiveFailures = 0;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  function schedule(): void {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush().catch(() => {});
    }, flushIntervalMs);
    timer.unref();
  }

  async function writeBatch(batch: Settlement[]): Promise<void> {
    const rows = jsonParam(batch.map((settlement) => generationColumns(settlement.generation)));
    const now = Date.now();
    const keyIds = [...new Set(batch.map((settlement) => settlement.generation.apiKeyId))].filter(
      (id): id is string => typeof id === "string" && now - (lastUsedWritten.get(id) ?? 0) >= LAST_USED_RESOLUTION_MS,
    );
    const written = await db.transaction(async (tx) => {
      // Every balance this batch touches is locked first, in user order: holds are placed and released under the
      // same locks (balances before api_keys), so concurrent batches and hold placements cannot deadlock.
      await lockBalances(tx, [...new Set(batch.map((settlement) => settlement.generation.userId))]);
      const inserted = rowsOf<{ id: string }>(
        await tx.execute(sql`
          insert into generations (${sql.raw(GENERATION_COLUMN_NAMES)})
          select ${sql.raw(GENERATION_COLUMN_NAMES)}
          from jsonb_to_recordset(${rows}::jsonb) as generation(${sql.raw(GENERATION_COLUMN_TYPES)})
          on conflict (id) do nothing
          returning id`),
      );
      // A usage debit is written in the same transaction as its generation row, so only generations inserted just
      // now can lack one: a retried settlement finds its row and debits nothing.
      const insertedIds = new Set(inserted.map((row) => row.id));
      const fresh = batch.filter((settlement) => insertedIds.has(settlement.generation.id));
      const debits: LedgerEntryInput[] = fresh
        .filter((settlement) => settlement.costNano > 0n)
        .map((settlement) => ({
          userId: settlement.generation.userId,
          kind: "usage",
          externalId: settlement.generation.id,
          amountNano: -settlement.costNano,
        }));
      const ledger = await postLedgerEntries(tx, debits, { knownNew: true });
      await releaseHoldsAndCountKeySpend(tx, batch, fresh, keyIds);
      return ledger.balances;
    });
    for (const id of keyIds) lastUsedWritten.set(id, now);
    for (const settlement of batch) {
      const userId = settlement.generation.userId;
      const remaining = (pendingByUser.get(userId) ?? 0n) - settlement.costNano;
      if (remaining > 0n) pendingByUser.set(userId, remaining);
      else pendingByUser.delete(userId);
    }
    options.onBalancesWritten?.(written);
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatchSize);
      try {
        await writeBatch(batch);
        queue = queue.slice(batch.length);
        consecutiveFailures = 0;
        continue;
      } catch (error) {
        if (batch.length === 1) return retryLater(error, batch.length);
      }
      // One bad settlement must not hold back the others: write this batch one by one, keep what still fails.
      const stuck: Settlement[] = [];
      let lastError: unknown;
      for (const settlement of batch) {
        try {
          await writeBatch([settlement]);
        } catch (error) {
          stuck.push(settlement);
          lastError = error;
        }
      }
      queue = [...stuck, ...queue.slice(batch.length)];
      if (stuck.length > 0) return retryLater(lastError, stuck.length);
    }
  }

  /** Leaves failed settlements queued (still counted against the balance) and retries with a growing delay. */
  function retryLater(error: unknown, failed: number): never {
    consecutiveFailures += 1;
    const delayMs = Math.min(MAX_RETRY_DELAY_MS, flushIntervalMs * 2 ** consecutiveFailures);
    logger.error("usage write failed; will retry", { error, failed, queued: queue.length, retryInMs: delayMs });
    if (retryTimer === undefined) {
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        void flush().catch(() => {});
      }, delayMs);
      retryTimer.unref();
    }
    throw error instanceof Error ? error : new Error(String(error));
  }

  function flush(): Promise<void> {
    // One batch at a time keeps ledger order stable; a caller arriving meanwhile waits for a fresh pass.
    const next = writing.catch(() => {}).then(drain);
    writing = next;
    return next;
  }

  return {
    enqueue(settlement) {
      // Calls that finish during shutdown are still queued: close() drains until the queue is empty.
      queue.push(settlement);
      const userId = settlement.generation.userId;
      pendingByUser.set(userId, (pendingByUser.get(userId) ?? 0n) + settlement.costNano);
      if (queue.length >= maxBatchSize || closed) void flush().catch(() => {});
      else schedule();
    },
    pendingDebitNano: (userId) => pendingByUser.get(userId) ?? 0n,
    pendingGeneration(id) {
      // The queue holds at most one window of calls: a scan is cheap, and this is not on the hot path.
      for (let index = queue.length - 1; index >= 0; index--) {
        const generation = queue[index]!.generation;
        if (generation.id === id) return generation;
      }
      return null;
    },
    flush,
    async close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(retryTimer);
      timer = retryTimer = undefined;
      await flush();
    },
  };
}
