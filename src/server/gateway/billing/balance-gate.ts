import type { Clock } from "../deps";

export interface BalanceGate {
  /** Balance minus debits not yet written, from a short-lived cache. */
  availableNano(userId: string): Promise<bigint>;
  /** Replaces cached balances with values just committed. */
  remember(balances: Map<string, bigint>): void;
  /** Drops a user's cached balance (a credit arrived from elsewhere). */
  forget(userId: string): void;
}

export interface BalanceGateOptions {
  readBalanceNano(userId: string): Promise<bigint>;
  pendingDebitNano(userId: string): bigint;
  clock: Clock;
  /** How long a balance read from the database is trusted. */
  ttlMs?: number;
}

/**
 * Admission check for /v1 without a database round trip per call: the committed balance is cached briefly and the
 * usage writer's not-yet-committed debits are subtracted. Exact holds that cannot be raced are a later layer.
 */
export function createBalanceGate(options: BalanceGateOptions): BalanceGate {
  const ttlMs = options.ttlMs ?? 2_000;
  const cache = new Map<string, { balanceNano: bigint; readAt: number }>();
  return {
    async availableNano(userId) {
      const now = options.clock();
      let entry = cache.get(userId);
      if (entry === undefined || now - entry.readAt > ttlMs) {
        entry = { balanceNano: await options.readBalanceNano(userId), readAt: now };
        cache.set(userId, entry);
      }
      return entry.balanceNano - options.pendingDebitNano(userId);
    },
    remember(balances) {
      const now = options.clock();
      for (const [userId, balanceNano] of balances) cache.set(userId, { balanceNano, readAt: now });
    },
    forget(userId) {
      cache.delete(userId);
    },
  };
}
