import type postgres from "postgres";
import type { HoldStatements, KeyLimitReset, PlacedHoldRow } from "~/server/gateway/billing/balance-holds";
import type { LeaseStatements } from "~/server/gateway/billing/lease-statements";

/**
 * The balance-hold statements on a postgres.js client, as prepared statements: the hold is the one query every /v1
 * call makes, and going through the query builder would cost more CPU than PostgreSQL spends running it.
 */
export function createHoldStatements(sql: postgres.Sql): HoldStatements {
  return {
    async placeHold(input) {
      const [row] = await sql<
        {
          outcome: string;
          available_nano: bigint | null;
          key_limit_nano: bigint | null;
          key_spent_nano: bigint | null;
          key_period_start: Date | null;
          key_limit_reset: KeyLimitReset | null;
        }[]
      >`
        select outcome, available_nano, key_limit_nano, key_spent_nano, key_period_start, key_limit_reset
        from place_balance_hold(${input.holdId}, ${input.userId}, ${input.apiKeyId}::uuid,
          ${input.amountNano.toString()}::bigint, ${input.now}::timestamptz, ${input.expiresAt}::timestamptz)`;
      if (row === undefined) return undefined;
      const placed: PlacedHoldRow = {
        outcome: row.outcome,
        availableNano: row.available_nano,
        keyLimitNano: row.key_limit_nano,
        keySpentNano: row.key_spent_nano,
        keyPeriodStart: row.key_period_start,
        keyLimitReset: row.key_limit_reset,
      };
      return placed;
    },
    async settleHold(holdId, costNano) {
      await sql`select settle_balance_hold(${holdId}, ${costNano.toString()}::bigint)`;
    },
    async releaseExpiredHolds(now) {
      const [row] = await sql<{ released: number }[]>`
        select release_expired_balance_holds(${now}::timestamptz) as released`;
      return Number(row?.released ?? 0);
    },
    async heldNano(userId) {
      const [row] = await sql<{ held: bigint }[]>`select held_nano as held from balances where user_id = ${userId}`;
      return row?.held ?? 0n;
    },
    async keyHeldNano(apiKeyId) {
      const [row] = await sql<{ held: bigint }[]>`select held_nano as held from api_keys where id = ${apiKeyId}`;
      return row?.held ?? 0n;
    },
  };
}

/**
 * The balance-lease statements (drizzle/0011) on a postgres.js client, prepared like the hold statements. Times go as
 * ISO text: this client is drizzle's, which passes Date parameters through unserialised.
 */
export function createLeaseStatements(sql: postgres.Sql): LeaseStatements {
  return {
    async leaseBalance(input) {
      const [row] = await sql<
        { granted_nano: bigint; lease_nano: bigint; available_nano: bigint; others_leased_nano: bigint }[]
      >`
        select granted_nano, lease_nano, available_nano, others_leased_nano
        from lease_balance(${input.leaseId}, ${input.userId}, ${input.minNano.toString()}::bigint,
          ${input.wantNano.toString()}::bigint, ${input.sharePerMille}::integer,
          ${input.now.toISOString()}::timestamptz, ${input.expiresAt.toISOString()}::timestamptz)`;
      if (row === undefined) throw new Error("lease_balance answered no row");
      return {
        grantedNano: row.granted_nano,
        leaseNano: row.lease_nano,
        availableNano: row.available_nano,
        othersLeasedNano: row.others_leased_nano,
      };
    },
    async returnLease(leaseId, amountNano) {
      const [row] = await sql<{ returned: bigint }[]>`
        select return_balance_lease(${leaseId}, ${amountNano.toString()}::bigint) as returned`;
      return row?.returned ?? 0n;
    },
    async renewLeases(leaseIds, expiresAt) {
      const rows = await sql<{ id: string }[]>`
        update balance_holds set expires_at = ${expiresAt.toISOString()}::timestamptz
        where id = any(${sql.array([...leaseIds])}::text[]) returning id`;
      return new Set(rows.map((row) => row.id));
    },
    async callHeldNano(userId) {
      const [row] = await sql<{ held: bigint }[]>`
        select coalesce(sum(amount_nano), 0)::bigint as held from balance_holds
        where user_id = ${userId} and id not like 'lease:%'`;
      return row?.held ?? 0n;
    },
  };
}
