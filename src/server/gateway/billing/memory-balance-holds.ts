import type { Clock } from "../clock";
import {
  currentPeriodStart,
  nextPeriodStart,
  type BalanceHolds,
  type HoldOutcome,
  type KeyLimitReset,
} from "./balance-holds";
import type { WrittenBatch } from "./usage-writer";

const SETTLED: Promise<void> = Promise.resolve();

/** What admission needs of a key, as stored. */
export interface KeyLimitState {
  /** False once revoked or disabled. */
  active: boolean;
  expiresAt: Date | null;
  spendLimitNano: bigint | null;
  limitReset: KeyLimitReset | null;
  periodSpendNano: bigint;
  periodStartedAt: Date | null;
}

export interface MemoryBalanceHoldsOptions {
  readBalanceNano(userId: string): Promise<bigint>;
  readKey(apiKeyId: string): Promise<KeyLimitState | null>;
  clock: Clock;
}

export interface MemoryBalanceHolds extends BalanceHolds {
  /** Releases the holds of the settlements a usage batch wrote and takes the balances it left (usage writer hook). */
  onBatchWritten(written: WrittenBatch): void;
  /** A balance changed outside the usage writer (a top-up, a promo, an adjustment): re-read it before trusting it. */
  forgetBalance(userId: string): void;
  /** A key's limit or state changed: re-read it. */
  forgetKey(apiKeyId: string): void;
}

/**
 * Balance holds kept in this process, for the embedded database. PGlite is opened by one process only, so that
 * process sees every call and every balance change, and can admit calls exactly without a query per call (a
 * query costs PGlite more CPU than the rest of a call). The rules are those of `place_balance_hold` (drizzle/0004):
 * balance − held ≥ hold; for a key with a limit, spend in the current UTC period + the key's holds + hold ≤ limit.
 *
 * Balances and keys are read from the database once and then kept current: the usage writer hands over the balances
 * each batch leaves (and the batch's holds are released in the same turn), other ledger writers publish a change that
 * makes the balance be read again. A read that overlaps a change is discarded and repeated, so a stale balance is
 * never installed over a newer one.
 */
export function createMemoryBalanceHolds(options: MemoryBalanceHoldsOptions): MemoryBalanceHolds {
  const { clock } = options;
  const holds = new Map<string, { userId: string; apiKeyId: string | null; amountNano: bigint }>();
  const heldByUser = new Map<string, bigint>();
  const heldByKey = new Map<string, bigint>();
  const balances = new Map<string, bigint>();
  const keys = new Map<string, KeyLimitState | null>();
  // Bumped on every change to a cached value; a read that started before a bump is stale.
  const balanceEpochs = new Map<string, number>();
  const keyEpochs = new Map<string, number>();

  const add = (map: Map<string, bigint>, id: string, amount: bigint) => {
    const next = (map.get(id) ?? 0n) + amount;
    if (next === 0n) map.delete(id);
    else map.set(id, next);
  };
  const bump = (epochs: Map<string, number>, id: string) => epochs.set(id, (epochs.get(id) ?? 0) + 1);

  // Concurrent calls waiting for the same value share one read.
  const reading = new Map<string, Promise<void>>();

  async function load<T>(
    cache: Map<string, T>,
    epochs: Map<string, number>,
    id: string,
    read: (id: string) => Promise<T>,
  ): Promise<void> {
    while (!cache.has(id)) {
      const readKey = `${cache === balances ? "balance" : "key"}:${id}`;
      let pending = reading.get(readKey);
      if (pending === undefined) {
        const epoch = epochs.get(id) ?? 0;
        pending = read(id)
          .then((value) => {
            if ((epochs.get(id) ?? 0) === epoch && !cache.has(id)) cache.set(id, value);
          })
          .finally(() => reading.delete(readKey));
        reading.set(readKey, pending);
      }
      await pending;
    }
  }

  const forgetKey = (apiKeyId: string) => {
    bump(keyEpochs, apiKeyId);
    keys.delete(apiKeyId);
  };

  return {
    async place(request): Promise<HoldOutcome> {
      // Everything is loaded first; the decision below runs without yielding, so no other call can interleave.
      await Promise.all([
        load(balances, balanceEpochs, request.userId, (userId) => options.readBalanceNano(userId)),
        request.apiKeyId === null
          ? null
          : load(keys, keyEpochs, request.apiKeyId, (apiKeyId) => options.readKey(apiKeyId)),
      ]);
      const availableNano = (balances.get(request.userId) ?? 0n) - (heldByUser.get(request.userId) ?? 0n);
      if (availableNano < request.amountNano) return { kind: "insufficient_credits", availableNano };

      if (request.apiKeyId !== null) {
        const now = new Date(clock());
        const key = keys.get(request.apiKeyId) ?? null;
        if (key === null || !key.active || (key.expiresAt !== null && key.expiresAt <= now)) {
          return { kind: "key_inactive" };
        }
        if (key.spendLimitNano !== null) {
          const periodStart = currentPeriodStart(key.limitReset, now);
          const spentNano =
            (key.periodStartedAt?.getTime() ?? null) === (periodStart?.getTime() ?? null) ? key.periodSpendNano : 0n;
          const committedNano = spentNano + (heldByKey.get(request.apiKeyId) ?? 0n);
          if (committedNano + request.amountNano > key.spendLimitNano) {
            return {
              kind: "key_limit_exceeded",
              limitNano: key.spendLimitNano,
              committedNano,
              resetsAt:
                periodStart === null || key.limitReset === null ? null : nextPeriodStart(periodStart, key.limitReset),
            };
          }
        }
        add(heldByKey, request.apiKeyId, request.amountNano);
      }
      add(heldByUser, request.userId, request.amountNano);
      holds.set(request.holdId, { userId: request.userId, apiKeyId: request.apiKeyId, amountNano: request.amountNano });
      return { kind: "held" };
    },

    settle(holdId, costNano) {
      // The hold becomes the call's cost until the batch that debits it is written (onBatchWritten releases it in
      // the same turn as it installs the debited balance), so admission counts every answered call exactly once.
      const hold = holds.get(holdId);
      const settledNano = costNano > 0n ? costNano : 0n;
      if (hold !== undefined && settledNano < hold.amountNano) {
        const releasedNano = hold.amountNano - settledNano;
        hold.amountNano = settledNano;
        add(heldByUser, hold.userId, -releasedNano);
        if (hold.apiKeyId !== null) add(heldByKey, hold.apiKeyId, -releasedNano);
      }
      return SETTLED;
    },

    // A hold lives in this process only: it cannot outlive the process that would settle it.
    releaseExpired: () => Promise.resolve(0),

    heldNano: (userId) => Promise.resolve(heldByUser.get(userId) ?? 0n),

    keyHeldNano: (apiKeyId) => Promise.resolve(heldByKey.get(apiKeyId) ?? 0n),

    onBatchWritten(written) {
      for (const settlement of written.settlements) {
        const hold = holds.get(settlement.generation.id);
        if (hold === undefined) continue;
        holds.delete(settlement.generation.id);
        add(heldByUser, hold.userId, -hold.amountNano);
        if (hold.apiKeyId !== null) add(heldByKey, hold.apiKeyId, -hold.amountNano);
      }
      for (const [userId, balanceNano] of written.balances) {
        bump(balanceEpochs, userId);
        balances.set(userId, balanceNano);
      }
      // The batch moved its keys' period spend by the rules in SQL (usage-writer.ts): a key with a limit is read back
      // when next needed; for one without, the spend decides nothing.
      for (const settlement of written.settlements) {
        const apiKeyId = settlement.generation.apiKeyId;
        if (typeof apiKeyId !== "string" || settlement.costNano === 0n) continue;
        const cached = keys.get(apiKeyId);
        if (cached === undefined || cached === null || cached.spendLimitNano !== null) forgetKey(apiKeyId);
      }
    },

    forgetBalance(userId) {
      bump(balanceEpochs, userId);
      balances.delete(userId);
    },

    forgetKey,
  };
}
