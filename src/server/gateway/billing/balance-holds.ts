import { sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";
import type { Clock } from "../deps";

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
  amountNano: bigint;
}

/**
 * Admission control: before a call is dispatched its worst-case cost is reserved in PostgreSQL with one conditional
 * update (the `place_balance_hold` function, drizzle/0004), so no number of concurrent calls or gateway processes
 * can spend more than the balance or a key's limit. Settlement releases the hold in the usage writer's batch.
 */
export interface BalanceHolds {
  place(request: HoldRequest): Promise<HoldOutcome>;
  /** Releases holds whose process died before settling them; returns how many. */
  releaseExpired(): Promise<number>;
}

export function createBalanceHolds(options: { db: Database; clock: Clock; ttlMs: number }): BalanceHolds {
  const { db, clock, ttlMs } = options;
  return {
    async place(request) {
      const now = clock();
      const [row] = rowsOf<{
        outcome: string;
        available_nano: string | null;
        key_limit_nano: string | null;
        key_spent_nano: string | null;
        key_period_start: string | Date | null;
        key_limit_reset: KeyLimitReset | null;
      }>(
        await db.execute(sql`
          select outcome, available_nano::text, key_limit_nano::text, key_spent_nano::text, key_period_start,
            key_limit_reset
          from place_balance_hold(${request.holdId}, ${request.userId}, ${request.apiKeyId}::uuid,
            ${request.amountNano.toString()}::bigint, ${new Date(now).toISOString()}::timestamptz,
            ${new Date(now + ttlMs).toISOString()}::timestamptz)`),
      );
      switch (row?.outcome) {
        case "held":
          return { kind: "held" };
        case "insufficient_credits":
          return { kind: "insufficient_credits", availableNano: BigInt(row.available_nano ?? "0") };
        case "key_limit_exceeded":
          return {
            kind: "key_limit_exceeded",
            limitNano: BigInt(row.key_limit_nano ?? "0"),
            committedNano: BigInt(row.key_spent_nano ?? "0"),
            resetsAt:
              row.key_period_start === null || row.key_limit_reset === null
                ? null
                : nextPeriodStart(new Date(row.key_period_start), row.key_limit_reset),
          };
        case "key_inactive":
          return { kind: "key_inactive" };
        default:
          throw new Error(`place_balance_hold answered ${JSON.stringify(row?.outcome)}`);
      }
    },
    async releaseExpired() {
      const [row] = rowsOf<{ released: number }>(
        await db.execute(
          sql`select release_expired_balance_holds(${new Date(clock()).toISOString()}::timestamptz) as released`,
        ),
      );
      return Number(row?.released ?? 0);
    },
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

/** Start of the UTC period containing `now` (day, ISO week from Monday, month); the same rule as the SQL function. */
export function currentPeriodStart(now: Date, reset: KeyLimitReset): Date {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  if (reset === "weekly") start.setUTCDate(start.getUTCDate() - ((start.getUTCDay() + 6) % 7));
  else if (reset === "monthly") start.setUTCDate(1);
  return start;
}
