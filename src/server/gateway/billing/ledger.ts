import { eq, sql } from "drizzle-orm";
import type { Database, Transaction } from "~/server/db";
import { jsonParam, rowsOf } from "~/server/db/raw-rows";
import { balances, type ledgerEntries } from "~/server/db/schema";

export type LedgerKind = (typeof ledgerEntries.$inferInsert)["kind"];

export interface LedgerEntryInput {
  userId: string;
  kind: LedgerKind;
  /** Idempotency key within `kind`: a Stripe id, a generation id, or a generated id for manual entries. */
  externalId: string;
  /** Signed nano-USD: credits positive, debits negative. */
  amountNano: bigint;
  note?: string | null;
}

export interface LedgerPostResult {
  /** Entries actually written; replays of an existing `(kind, externalId)` are skipped. */
  posted: (LedgerEntryInput & { balanceAfterNano: bigint })[];
  /** Balance of every user touched, after the entries. */
  balances: Map<string, bigint>;
}

/**
 * The only way a balance changes. Locks the users' balance rows (in a stable order, so concurrent batches cannot
 * deadlock), skips entries already posted, appends the rest with the running balance and updates the balances, all
 * inside the caller's transaction. Because every writer takes the same row locks first, the replay check cannot race.
 * `knownNew` skips that check for callers that already know the entries are new (the unique index still guards);
 * `lockedBalances` skips the locking for a caller that has just locked (with `lockBalances`) every user involved.
 */
export async function postLedgerEntries(
  tx: Transaction,
  entries: LedgerEntryInput[],
  options: { knownNew?: boolean; lockedBalances?: ReadonlyMap<string, bigint> } = {},
): Promise<LedgerPostResult> {
  const result: LedgerPostResult = { posted: [], balances: new Map() };
  if (entries.length === 0) return result;

  result.balances =
    options.lockedBalances !== undefined
      ? new Map(options.lockedBalances)
      : await lockBalances(
          tx,
          entries.map((entry) => entry.userId),
        );

  const seen = new Set<string>();
  if (options.knownNew !== true) {
    const externalIds = jsonParam(entries.map((entry) => entry.externalId));
    const existing = rowsOf<{ kind: string; external_id: string }>(
      await tx.execute(sql`
        select kind::text as kind, external_id from ledger_entries
        where external_id in (select jsonb_array_elements_text(${externalIds}::jsonb))`),
    );
    for (const row of existing) seen.add(`${row.kind}\u0000${row.external_id}`);
  }

  for (const entry of entries) {
    const identity = `${entry.kind}\u0000${entry.externalId}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const balanceAfterNano = (result.balances.get(entry.userId) ?? 0n) + entry.amountNano;
    result.balances.set(entry.userId, balanceAfterNano);
    result.posted.push({ ...entry, balanceAfterNano });
  }
  if (result.posted.length === 0) return result;

  // Arrays read by position rather than objects: PGlite's cost grows with the parameter's size (see the usage writer).
  const rows = jsonParam(
    result.posted.map((entry) => [
      entry.userId,
      entry.kind,
      entry.externalId,
      entry.amountNano,
      entry.balanceAfterNano,
      entry.note ?? null,
    ]),
  );
  const touched = jsonParam(
    [...new Set(result.posted.map((entry) => entry.userId))].map((userId) => ({
      user_id: userId,
      balance_nano: result.balances.get(userId) ?? 0n,
    })),
  );
  // One statement appends the entries and sets the balances; the rows are locked above, so writing the computed
  // balance is as safe as an increment.
  await tx.execute(sql`
    with appended as (
      insert into ledger_entries (user_id, kind, external_id, amount_nano, balance_after_nano, note)
      select entry->>0, (entry->>1)::ledger_kind, entry->>2, (entry->>3)::bigint, (entry->>4)::bigint, entry->>5
      from jsonb_array_elements(${rows}::jsonb) as entry
    )
    update balances set balance_nano = touched.balance_nano, updated_at = now()
    from jsonb_to_recordset(${touched}::jsonb) as touched(user_id text, balance_nano bigint)
    where balances.user_id = touched.user_id`);
  return result;
}

/**
 * Creates missing balance rows and locks all of them, in user order so concurrent writers cannot deadlock; the no-op
 * update is what takes the lock and returns the current balance in the same statement. Locking again within the
 * same transaction is free.
 */
export async function lockBalances(tx: Transaction, userIds: string[]): Promise<Map<string, bigint>> {
  const balancesByUser = new Map<string, bigint>();
  if (userIds.length === 0) return balancesByUser;
  const sorted = jsonParam([...new Set(userIds)].sort());
  const locked = rowsOf<{ user_id: string; balance_nano: string }>(
    await tx.execute(sql`
      insert into balances (user_id)
      select user_id from jsonb_array_elements_text(${sorted}::jsonb) as ids(user_id) order by user_id
      on conflict (user_id) do update set user_id = excluded.user_id
      returning user_id, balance_nano::text as balance_nano`),
  );
  for (const row of locked) balancesByUser.set(row.user_id, BigInt(row.balance_nano));
  return balancesByUser;
}

/** Posts entries in their own transaction. */
export function postLedgerEntriesNow(db: Database, entries: LedgerEntryInput[]): Promise<LedgerPostResult> {
  return db.transaction((tx) => postLedgerEntries(tx, entries));
}

export async function readBalanceNano(db: Database | Transaction, userId: string): Promise<bigint> {
  const [row] = await db
    .select({ balanceNano: balances.balanceNano })
    .from(balances)
    .where(eq(balances.userId, userId));
  return row?.balanceNano ?? 0n;
}
