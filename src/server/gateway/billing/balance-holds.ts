import type { Clock } from "../clock";

export type KeyLimitReset = "daily" | "weekly" | "monthly";

export type HoldOutcome =
  | { kind: "held" }
  | { kind: "insufficient_credits"; availableNano: bigint }
  | {
      kind: "key_limit_exceeded";
      limitNano: bigint;
      /** Settled spend in the current period plus the key's other holds. */
      committedNano: bigint;
      /** When the key may spend again; null when its limit never resets. */
      resetsAt: Date | null;
    }
  /** Revoked, disabled or expired since the authenticator cached it. */
  | { kind: "key_inactive" };

export interface HoldRequest {
  /** The generation id: settlement releases the hold by it. */
  holdId: string;
  userId: string;
  apiKeyId: string | null;
  /** The key has a spend limit (its holds count against it too). */
  keyHasSpendLimit: boolean;
  amountNano: bigint;
}

/**
 * Admission control: before a call is dispatched its worst-case cost is reserved, so no number of concurrent calls
 * can spend more than the balance or a key's limit. On PostgreSQL (below) the hold is one conditional update in the
 * database (the `place_balance_hold` function, drizzle/0004), which makes it hold across gateway processes. When the
 * call ends, before the client has the whole answer, `settle` shrinks the hold to what the call cost (nothing, for a
 * call that failed): a client that waits for each answer is then never refused for the worst case of calls already
 * answered. The usage writer's batch releases the rest in the transaction that debits the cost. On the embedded
 * database, which one process owns, holds are kept in that process (memory-balance-holds.ts).
 */
export interface BalanceHolds {
  place(request: HoldRequest): Promise<HoldOutcome>;
  /**
   * The call holding `holdId` ended and cost `costNano` (queued for the usage writer): the hold becomes that cost.
   * Resolves once admission sees it. Never rejects: a failure leaves the hold to the batch that writes the debit.
   */
  settle(holdId: string, costNano: bigint): Promise<void>;
  /** Releases holds whose process died before settling them; returns how many. */
  releaseExpired(): Promise<number>;
  /** What the account's calls in flight hold. */
  heldNano(userId: string): Promise<bigint>;
  /** What the key's calls in flight hold. */
  keyHeldNano(apiKeyId: string): Promise<bigint>;
}

/** What `place_balance_hold` (drizzle/0004) answers. */
export interface PlacedHoldRow {
  outcome: string;
  availableNano: bigint | null;
  keyLimitNano: bigint | null;
  keySpentNano: bigint | null;
  keyPeriodStart: Date | null;
  keyLimitReset: KeyLimitReset | null;
}

/**
 * The hold statements, run by the database layer (src/server/db/hold-statements.ts) on connections that do not wait
 * for disk flushes. One statement per call, prepared once: the hold is the one query on the /v1 hot path.
 */
export interface HoldStatements {
  placeHold(input: HoldRequest & { now: Date; expiresAt: Date }): Promise<PlacedHoldRow | undefined>;
  /** `settle_balance_hold` (drizzle/0008): the hold shrinks to the call's cost. */
  settleHold(holdId: string, costNano: bigint): Promise<void>;
  releaseExpiredHolds(now: Date): Promise<number>;
  heldNano(userId: string): Promise<bigint>;
  keyHeldNano(apiKeyId: string): Promise<bigint>;
}

export function createDatabaseBalanceHolds(options: {
  statements: HoldStatements;
  clock: Clock;
  ttlMs: number;
  /** Told when a settlement could not shrink its hold (the batch that writes the debit still releases it). */
  onSettleError?: (error: unknown) => void;
}): BalanceHolds {
  const { statements, clock, ttlMs } = options;
  return {
    settle: (holdId, costNano) =>
      statements.settleHold(holdId, costNano).catch((error: unknown) => options.onSettleError?.(error)),
    async place(request) {
      const now = clock();
      const row = await statements.placeHold({ ...request, now: new Date(now), expiresAt: new Date(now + ttlMs) });
      switch (row?.outcome) {
        case "held":
          return { kind: "held" };
        case "insufficient_credits":
          return { kind: "insufficient_credits", availableNano: row.availableNano ?? 0n };
        case "key_limit_exceeded":
          return {
            kind: "key_limit_exceeded",
            limitNano: row.keyLimitNano ?? 0n,
            committedNano: row.keySpentNano ?? 0n,
            resetsAt:
              row.keyPeriodStart === null || row.keyLimitReset === null
                ? null
                : nextPeriodStart(row.keyPeriodStart, row.keyLimitReset),
          };
        case "key_inactive":
          return { kind: "key_inactive" };
        default:
          throw new Error(`place_balance_hold answered ${JSON.stringify(row?.outcome)}`);
      }
    },
    releaseExpired: () => statements.releaseExpiredHolds(new Date(clock())),
    heldNano: (userId) => statements.heldNano(userId),
    keyHeldNano: (apiKeyId) => statements.keyHeldNano(apiKeyId),
  };
}

/** When a key's current period ends (UTC), for telling a client when it may spend again. */
export function nextPeriodStart(periodStart: Date, reset: KeyLimitReset): Date {
  const next = new Date(periodStart);
  if (reset === "daily") next.setUTCDate(next.getUTCDate() + 1);
  else if (reset === "weekly") next.setUTCDate(next.getUTCDate() + 7);
  else next.setUTCMonth(next.getUTCMonth() + 1);
  return next;
}

const DAY_MS = 86_400_000;

/**
 * Start of the spend period that contains `now`, in UTC: midnight, Monday midnight (ISO week) or the 1st of the
 * month; null for a limit that never resets. The same arithmetic as `key_period_start` (drizzle/0004), so in-process
 * admission and the dashboard agree with the database on which period a call counts in.
 */
export function currentPeriodStart(reset: KeyLimitReset | null, now: Date): Date | null {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  switch (reset) {
    case null:
      return null;
    case "daily":
      return new Date(midnight);
    case "weekly":
      // getUTCDay() is 0 on Sunday; ISO weeks start on Monday.
      return new Date(midnight - ((now.getUTCDay() + 6) % 7) * DAY_MS);
    case "monthly":
      return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  }
}
