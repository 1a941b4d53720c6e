import { sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";

/** One account whose stored balance disagrees with its ledger. */
export interface BalanceMismatch {
  userId: string;
  email: string;
  balanceNano: bigint;
  ledgerNano: bigint;
  /** The running balance recorded on the account's newest ledger entry, null without entries. */
  lastBalanceAfterNano: bigint | null;
  /** What the balance row says calls in flight hold, and the sum of the open holds themselves. */
  heldNano: bigint;
  holdsNano: bigint;
}

export interface Reconciliation {
  accounts: number;
  entries: number;
  mismatches: BalanceMismatch[];
}

/**
 * Checks the ledger's invariants for every account in one statement (one snapshot): the stored balance equals the sum
 * of the account's ledger entries and the running balance written on its newest entry, and the amount the balance row
 * holds for calls in flight equals the sum of its open holds. An account without a balance row counts as zero.
 */
export async function reconcileBalances(db: Database): Promise<Reconciliation> {
  const rows = rowsOf<{
    user_id: string;
    email: string;
    balance_nano: string;
    ledger_nano: string;
    entries: string;
    last_balance_after_nano: string | null;
    held_nano: string;
    holds_nano: string;
  }>(
    await db.execute(sql`
      with sums as (
        select user_id, sum(amount_nano) as ledger_nano, count(*) as entries from ledger_entries group by user_id
      ),
      newest as (
        select distinct on (user_id) user_id, balance_after_nano from ledger_entries order by user_id, id desc
      ),
      holds as (
        select user_id, sum(amount_nano) as holds_nano from balance_holds group by user_id
      )
      select users.id as user_id, users.email,
             coalesce(balances.balance_nano, 0)::text as balance_nano,
             coalesce(sums.ledger_nano, 0)::text as ledger_nano,
             coalesce(sums.entries, 0)::text as entries,
             newest.balance_after_nano::text as last_balance_after_nano,
             coalesce(balances.held_nano, 0)::text as held_nano,
             coalesce(holds.holds_nano, 0)::text as holds_nano
      from users
      left join balances on balances.user_id = users.id
      left join sums on sums.user_id = users.id
      left join newest on newest.user_id = users.id
      left join holds on holds.user_id = users.id
      order by users.email`),
  );
  const mismatches: BalanceMismatch[] = [];
  let entries = 0;
  for (const row of rows) {
    entries += Number(row.entries);
    const balanceNano = BigInt(row.balance_nano);
    const ledgerNano = BigInt(row.ledger_nano);
    const lastBalanceAfterNano = row.last_balance_after_nano === null ? null : BigInt(row.last_balance_after_nano);
    const heldNano = BigInt(row.held_nano);
    const holdsNano = BigInt(row.holds_nano);
    if (
      balanceNano !== ledgerNano ||
      (lastBalanceAfterNano !== null && lastBalanceAfterNano !== ledgerNano) ||
      heldNano !== holdsNano
    ) {
      mismatches.push({
        userId: row.user_id,
        email: row.email,
        balanceNano,
        ledgerNano,
        lastBalanceAfterNano,
        heldNano,
        holdsNano,
      });
    }
  }
  return { accounts: rows.length, entries, mismatches };
}
