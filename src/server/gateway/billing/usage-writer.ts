import { sql } from "drizzle-orm";
import type { Database, Transaction } from "~/server/db";
import { affectedRowsOf, jsonParam, rowsOf } from "~/server/db/raw-rows";
import type { generations } from "~/server/db/schema";
import type { Logger } from "../logger";
import { lockBalances, postLedgerEntries, type LedgerEntryInput } from "./ledger";
import { addToUsageRollup } from "./usage-rollup";

const MAX_RETRY_DELAY_MS = 5_000;
const DAY_MS = 86_400_000;

/** `last_used_at` is a dashboard hint: written at most once a minute per key, not on every batch. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The generations columns this writer fills, with their SQL types. Rows go to the database as one JSON parameter:
 * building a multi-row insert with the query builder costs far more CPU than the insert itself.
 */
const GENERATION_COLUMNS = {
  id: "text",
  request_id: "text",
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
  price_version_id: "bigint",
  markup_basis_points: "integer",
  attempts: "jsonb",
  latency_ms: "integer",
  time_to_first_token_ms: "integer",
  created_at: "timestamptz",
} as const;
const GENERATION_COLUMN_KEYS = Object.keys(GENERATION_COLUMNS) as (keyof typeof GENERATION_COLUMNS)[];
const GENERATION_COLUMN_NAMES = GENERATION_COLUMN_KEYS.join(", ");
/**
 * Each row travels as a JSON array in column order, read back by position: without the keys the parameter is a
 * third the size, and PGlite spends about a quarter less per row serialising and parsing it.
 */
const GENERATION_VALUES = GENERATION_COLUMN_KEYS.map(
  (name, position) => `(generation->>${position})::${GENERATION_COLUMNS[name]}`,
).join(", ");

/** A generation's values in GENERATION_COLUMNS order. */
function generationValues(row: GenerationRow): unknown[] {
  const columns = generationColumns(row);
  return GENERATION_COLUMN_KEYS.map((name) => columns[name]);
}

function generationColumns(row: GenerationRow): Record<keyof typeof GENERATION_COLUMNS, unknown> {
  return {
    id: row.id,
    request_id: row.requestId ?? null,
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
    price_version_id: row.priceVersionId ?? null,
    markup_basis_points: row.markupBasisPoints ?? null,
    attempts: row.attempts ?? null,
    latency_ms: row.latencyMs,
    time_to_first_token_ms: row.timeToFirstTokenMs ?? null,
    created_at: row.createdAt.toISOString(),
  };
}

export type GenerationRow = typeof generations.$inferInsert;

/** A batch held generations already stored: rolled back, to be written again in the way that tells which are new. */
class RowsAlreadyWrittenError extends Error {}

/**
 * Releases the holds of settled calls (whichever of settlement and expiry deletes a hold releases it, never both),
 * adds each fresh generation's cost to its key's spend for the period the call started in (`key_period_start`), and
 * stamps `last_used_at`, in one statement for the batch. A call that began in a newer period than the key's stored
 * one starts that period's spend; one that began in a period that has since ended does not count against the key.
 */
async function releaseHoldsAndCountKeySpend(
  tx: Transaction,
  batch: Settlement[],
  fresh: Settlement[],
  lastUsedKeyIds: string[],
  holdsInDatabase: boolean,
): Promise<void> {
  // Every spend-limit period (UTC day, ISO week, month) is made of whole UTC days, so calls of one key on one UTC day
  // always count in the same period: summed here, the statement sees a row per key and day rather than per call.
  const spentByKeyAndDay = new Map<string, { key_id: string; started_at: string; cost: bigint }>();
  for (const { generation, costNano } of fresh) {
    if (costNano <= 0n || typeof generation.apiKeyId !== "string") continue;
    const day = Math.floor(generation.createdAt.getTime() / DAY_MS);
    const slot = `${generation.apiKeyId} ${day}`;
    const spent = spentByKeyAndDay.get(slot);
    if (spent === undefined) {
      spentByKeyAndDay.set(slot, {
        key_id: generation.apiKeyId,
        started_at: generation.createdAt.toISOString(),
        cost: costNano,
      });
    } else spent.cost += costNano;
  }
  const spend = jsonParam([...spentByKeyAndDay.values()]);
  // Holds kept in the process (PGlite) have no rows to release: the statement then leaves that half out rather than
  // have PGlite plan it for nothing.
  const holds = holdsInDatabase
    ? {
        released: sql`
          released as (
            delete from balance_holds
            where id in (select jsonb_array_elements_text(${jsonParam(batch.map(({ generation }) => generation.id))}::jsonb))
            returning user_id, api_key_id, amount_nano
          ), by_user as (
            select user_id, sum(amount_nano) as amount from released group by user_id
          ), by_key as (
            select api_key_id as key_id, sum(amount_nano) as amount from released where api_key_id is not null
            group by api_key_id
          ), balances_released as (
            update balances set held_nano = balances.held_nano - by_user.amount
            from by_user where balances.user_id = by_user.user_id
            returning 1
          ),`,
        touched: sql`select key_id from by_key union`,
        held: sql`held_nano = api_keys.held_nano - coalesce(by_key.amount, 0),`,
        join: sql`left join by_key on by_key.key_id = touched.key_id`,
      }
    : { released: sql``, touched: sql``, held: sql``, join: sql`` };
  await tx.execute(sql`
    with ${holds.released} spent as (
      select spent.key_id, spent.cost, key_period_start(api_keys.limit_reset, spent.started_at) as period
      from jsonb_to_recordset(${spend}::jsonb) as spent(key_id uuid, started_at timestamptz, cost bigint)
      join api_keys on api_keys.id = spent.key_id
    ), latest as (
      select key_id, max(period) as period from spent group by key_id
    ), spent_by_key as (
      select spent.key_id, latest.period, sum(spent.cost) as cost
      from spent join latest on latest.key_id = spent.key_id
      where spent.period is not distinct from latest.period
      group by spent.key_id, latest.period
    ), used as (
      select jsonb_array_elements_text(${jsonParam(lastUsedKeyIds)}::jsonb)::uuid as key_id
    ), touched as (
      ${holds.touched} select key_id from spent_by_key union select key_id from used
    )
    update api_keys set
      ${holds.held}
      period_spend_nano = case
        when spent_by_key.key_id is null then api_keys.period_spend_nano
        when spent_by_key.period is not distinct from api_keys.period_started_at
          then api_keys.period_spend_nano + spent_by_key.cost
        when spent_by_key.period is null or api_keys.period_started_at is null
          or spent_by_key.period > api_keys.period_started_at then spent_by_key.cost
        else api_keys.period_spend_nano
      end,
      period_started_at = case
        when spent_by_key.key_id is null then api_keys.period_started_at
        when spent_by_key.period is null or api_keys.period_started_at is null
          or spent_by_key.period > api_keys.period_started_at then spent_by_key.period
        else api_keys.period_started_at
      end,
      last_used_at = case when used.key_id is not null then now() else api_keys.last_used_at end
    from touched
      ${holds.join}
      left join spent_by_key on spent_by_key.key_id = touched.key_id
      left join used on used.key_id = touched.key_id
    where api_keys.id = touched.key_id`);
}

/** The costs of calls admitted under balance leases leave their leases as they leave the balances (drizzle/0011). */
async function takeCostsFromLeases(
  tx: Transaction,
  fresh: Settlement[],
  leaseOf: ((generationId: string) => string | undefined) | undefined,
): Promise<void> {
  if (leaseOf === undefined) return;
  const costs: { lease_id: string; cost: bigint }[] = [];
  for (const { generation, costNano } of fresh) {
    const leaseId = costNano > 0n ? leaseOf(generation.id) : undefined;
    if (leaseId !== undefined) costs.push({ lease_id: leaseId, cost: costNano });
  }
  if (costs.length > 0) await tx.execute(sql`select take_from_balance_leases(${jsonParam(costs)}::jsonb)`);
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
  /** Nano-USD queued for `userId` but not yet written: /v1/credits subtracts it from the committed balance. */
  pendingDebitNano(userId: string): bigint;
  /** A generation still queued (not yet written), so it can be shown before the next batch commits. */
  pendingGeneration(id: string): GenerationRow | null;
  /** Settled calls waiting to be written (a gauge for operators: it grows while the database falls behind). */
  queuedSettlements(): number;
  /**
   * Undefined while the queue has room; otherwise a promise that resolves once written batches bring it back under
   * its bound, or after `maxBackpressureWaitMs`. New calls wait on it before they are admitted, so a database slower
   * than the traffic slows admission instead of growing the queue without end. A writer whose batches are failing
   * makes nobody wait: calls go on (their settlements stay queued and counted against balances) as they did before.
   */
  backpressure(): Promise<void> | undefined;
  /** Writes everything queued so far; resolves when it is committed. */
  flush(): Promise<void>;
  /**
   * Resolves once every settlement queued at the time of the call is committed, however many arrive meanwhile (under
   * steady traffic the queue is never empty, so waiting for that could take forever); rejects if a write fails.
   */
  writeQueued(): Promise<void>;
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
  /** How many settlements may wait before new calls wait for the writer (`backpressure`). Default 5 batches. */
  maxBacklog?: number;
  /**
   * The longest a call waits for room (default 2 s): a batch stuck on a lock must slow calls down, not hang them.
   */
  maxBackpressureWaitMs?: number;
  /** Told the committed balances after each batch (auto top-up checks them against users' thresholds). */
  onBalancesWritten?: (balances: Map<string, bigint>) => void;
  /**
   * Told, synchronously after each commit, which settlements it wrote and the balances they left: in-process holds
   * are released here, in the same turn as the balances they were checked against change.
   */
  onBatchWritten?: (written: WrittenBatch) => void;
  /** Whether balance holds are rows to release (PostgreSQL) or kept in the process (PGlite). Default true. */
  holdsInDatabase?: boolean;
  /**
   * The balance lease a call was admitted under (billing/leased-balance-holds.ts): its cost is taken out of the lease
   * in the transaction that debits it. Undefined for a call with a hold of its own.
   */
  leaseOf?: (generationId: string) => string | undefined;
}

export interface WrittenBatch {
  settlements: readonly Settlement[];
  /** Generation ids inserted by this batch (a retried settlement's row may already have existed). */
  fresh: ReadonlySet<string>;
  /** Balance of every user in the batch, after it. */
  balances: ReadonlyMap<string, bigint>;
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
  const maxBacklog = options.maxBacklog ?? 5 * maxBatchSize;
  const maxBackpressureWaitMs = options.maxBackpressureWaitMs ?? 2_000;
  const holdsInDatabase = options.holdsInDatabase ?? true;
  let queue: Settlement[] = [];
  const pendingByUser = new Map<string, bigint>();
  let timer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const lastUsedWritten = new Map<string, number>();
  let consecutiveFailures = 0;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;
  const waitingForRoom = new Set<() => void>();
  /** Told after each write attempt: with no argument when batches were written, with the error when one failed. */
  const watchingWrites = new Set<(error?: unknown) => void>();

  function tellWatchers(error?: unknown): void {
    for (const watcher of [...watchingWrites]) watcher(error);
  }

  const hasRoom = () => queue.length < maxBacklog || consecutiveFailures > 0 || closed;

  function letWaitersIn(): void {
    if (waitingForRoom.size === 0 || !hasRoom()) return;
    const waiting = [...waitingForRoom];
    waitingForRoom.clear();
    for (const admit of waiting) admit();
  }

  function schedule(): void {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush().catch(() => {});
    }, flushIntervalMs);
    timer.unref();
  }

  async function writeBatch(batch: Settlement[]): Promise<void> {
    const rows = jsonParam(batch.map((settlement) => generationValues(settlement.generation)));
    const now = Date.now();
    const keyIds = [...new Set(batch.map((settlement) => settlement.generation.apiKeyId))].filter(
      (id): id is string => typeof id === "string" && now - (lastUsedWritten.get(id) ?? 0) >= LAST_USED_RESOLUTION_MS,
    );
    // Generation ids are new for every call, so a batch normally inserts all its rows: counting them spares
    // RETURNING, which costs PGlite a third as much again as the insert. A batch that finds some rows already there
    // (a settlement written again after a failure) is rolled back and written again, asking which rows are new.
    const commit = (countOnly: boolean) =>
      db.transaction(async (tx) => {
        const insert = sql`
          insert into generations (${sql.raw(GENERATION_COLUMN_NAMES)})
          select ${sql.raw(GENERATION_VALUES)}
          from jsonb_array_elements(${rows}::jsonb) as generation
          on conflict (id) do nothing`;
        let insertedIds: Set<string>;
        if (countOnly) {
          if (affectedRowsOf(await tx.execute(insert)) !== batch.length) throw new RowsAlreadyWrittenError();
          insertedIds = new Set(batch.map(({ generation }) => generation.id));
        } else {
          const inserted = rowsOf<{ id: string }>(await tx.execute(sql`${insert} returning id`));
          insertedIds = new Set(inserted.map((row) => row.id));
        }
        // A usage debit is written in the same transaction as its generation row, so only generations inserted just
        // now can lack one: a retried settlement finds its row and debits nothing.
        // The balances are locked only now, in user order, and held until commit: admission (balance holds) waits on
        // these rows, so the bulk insert above runs before them. Holds and settlements lock balances before api_keys,
        // so they cannot deadlock.
        const locked = await lockBalances(tx, [...new Set(batch.map((settlement) => settlement.generation.userId))]);
        const fresh = batch.filter((settlement) => insertedIds.has(settlement.generation.id));
        const debits: LedgerEntryInput[] = fresh
          .filter((settlement) => settlement.costNano > 0n)
          .map((settlement) => ({
            userId: settlement.generation.userId,
            kind: "usage",
            externalId: settlement.generation.id,
            amountNano: -settlement.costNano,
          }));
        const ledger = await postLedgerEntries(tx, debits, { knownNew: true, lockedBalances: locked });
        await releaseHoldsAndCountKeySpend(tx, batch, fresh, keyIds, holdsInDatabase);
        await takeCostsFromLeases(tx, fresh, options.leaseOf);
        // Activity charts read the hourly rollup: it takes exactly the generations (and costs) this batch inserted.
        await addToUsageRollup(tx, fresh);
        // Without debits the ledger reports nothing: the balances locked above are the batch's balances then.
        return { balances: debits.length > 0 ? ledger.balances : locked, fresh: insertedIds };
      });
    const written = await commit(true).catch((error: unknown) => {
      if (error instanceof RowsAlreadyWrittenError) return commit(false);
      throw error;
    });
    for (const id of keyIds) lastUsedWritten.set(id, now);
    for (const settlement of batch) {
      const userId = settlement.generation.userId;
      const remaining = (pendingByUser.get(userId) ?? 0n) - settlement.costNano;
      if (remaining > 0n) pendingByUser.set(userId, remaining);
      else pendingByUser.delete(userId);
    }
    options.onBatchWritten?.({ settlements: batch, fresh: written.fresh, balances: written.balances });
    options.onBalancesWritten?.(written.balances);
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatchSize);
      try {
        await writeBatch(batch);
        queue = queue.slice(batch.length);
        consecutiveFailures = 0;
        letWaitersIn();
        tellWatchers();
        continue;
      } catch (error) {
        if (batch.length === 1) {
          tellWatchers(error);
          return retryLater(error, batch.length);
        }
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
      letWaitersIn();
      if (stuck.length > 0) {
        tellWatchers(lastError);
        return retryLater(lastError, stuck.length);
      }
      tellWatchers();
    }
  }

  /** Leaves failed settlements queued (still counted against the balance) and retries with a growing delay. */
  function retryLater(error: unknown, failed: number): never {
    consecutiveFailures += 1;
    letWaitersIn();
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
    queuedSettlements: () => queue.length,
    backpressure() {
      if (hasRoom()) return undefined;
      return new Promise<void>((resolve) => {
        const admit = () => {
          clearTimeout(deadline);
          waitingForRoom.delete(admit);
          resolve();
        };
        const deadline = setTimeout(admit, maxBackpressureWaitMs);
        deadline.unref();
        waitingForRoom.add(admit);
      });
    },
    pendingGeneration(id) {
      // The queue holds at most one window of calls: a scan is cheap, and this is not on the hot path.
      for (let index = queue.length - 1; index >= 0; index--) {
        const generation = queue[index]!.generation;
        if (generation.id === id) return generation;
      }
      return null;
    },
    flush,
    writeQueued() {
      // The batch being written is still in the queue until it commits, so it is among these.
      const waiting = new Set(queue);
      if (waiting.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const watcher = (error?: unknown) => {
          if (error !== undefined) {
            watchingWrites.delete(watcher);
            reject(error instanceof Error ? error : new Error("the usage writer could not write", { cause: error }));
          } else if (!queue.some((settlement) => waiting.has(settlement))) {
            watchingWrites.delete(watcher);
            resolve();
          }
        };
        watchingWrites.add(watcher);
        void flush().catch(() => {});
      });
    },
    async close() {
      closed = true;
      letWaitersIn();
      clearTimeout(timer);
      clearTimeout(retryTimer);
      timer = retryTimer = undefined;
      await flush();
    },
  };
}
