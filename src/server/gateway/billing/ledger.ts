import { eq, inArray, sql } from "drizzle-orm";
import type { Database, Transaction } from "~/server/db";
import { balances, ledgerEntries } from "~/server/db/schema";

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
 */
export async function postLedgerEntries(tx: Transaction, entries: LedgerEntryInput[]): Promise<LedgerPostResult> {
  const result: LedgerPostResult = { posted: [], balances: new Map() };
  if (entries.length === 0) return result;

  const userIds = [...new Set(entries.map((entry) => entry.userId))].sort();
  await tx
    .insert(balances)
    .values(userIds.map((userId) => ({ userId })))
    .onConflictDoNothing();
  const locked = await tx
    .select({ userId: balances.userId, balanceNano: balances.balanceNano })
    .from(balances)
    .where(inArray(balances.userId, userIds))
    .orderBy(balances.userId)
    .for("update");
  for (const row of locked) result.balances.set(row.userId, row.balanceNano);

  const existing = await tx
    .select({ kind: ledgerEntries.kind, externalId: ledgerEntries.externalId })
    .from(ledgerEntries)
    .where(
      inArray(
        ledgerEntries.externalId,
        entries.map((entry) => entry.externalId),
      ),
    );
  const seen = new Set(existing.map((row) => `${row.kind}\u0000${row.externalId}`));

  for (const entry of entries) {
    const identity = `${entry.kind}\u0000${entry.externalId}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const balanceAfterNano = (result.balances.get(entry.userId) ?? 0n) + entry.amountNano;
    result.balances.set(entry.userId, balanceAfterNano);
    result.posted.push({ ...entry, balanceAfterNano });
  }
  if (result.posted.length === 0) return result;

  await tx.insert(ledgerEntries).values(
    result.posted.map((entry) => ({
      userId: entry.userId,
      kind: entry.kind,
      externalId: entry.externalId,
      amountNano: entry.amountNano,
      balanceAfterNano: entry.balanceAfterNano,
      note: entry.note ?? null,
    })),
  );
  for (const userId of new Set(result.posted.map((entry) => entry.userId))) {
    await tx
      .update(balances)
      .set({ balanceNano: result.balances.get(userId) ?? 0n, updatedAt: sql`now()` })
      .where(eq(balances.userId, userId));
  }
  return result;
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
