import { eq, sql } from "drizzle-orm";
import { expect } from "vitest";
import type { Database } from "~/server/db";
import { balances, generations, ledgerEntries } from "~/server/db/schema";

export async function balanceOf(db: Database, userId: string): Promise<bigint> {
  const [row] = await db.select().from(balances).where(eq(balances.userId, userId));
  return row?.balanceNano ?? 0n;
}

export async function ledgerOf(db: Database, userId: string) {
  return db.select().from(ledgerEntries).where(eq(ledgerEntries.userId, userId)).orderBy(ledgerEntries.id);
}

export async function generationsOf(db: Database, userId: string) {
  return db.select().from(generations).where(eq(generations.userId, userId)).orderBy(generations.createdAt);
}

/** The invariant the whole billing design rests on: a balance is the sum of its ledger, entry by entry. */
export async function expectLedgerConsistent(db: Database, userId: string): Promise<void> {
  const entries = await ledgerOf(db, userId);
  let running = 0n;
  for (const entry of entries) {
    running += entry.amountNano;
    expect(entry.balanceAfterNano).toBe(running);
  }
  const [sum] = await db
    .select({ total: sql<string>`coalesce(sum(${ledgerEntries.amountNano}), 0)::text` })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.userId, userId));
  expect(BigInt(sum?.total ?? "0")).toBe(running);
  expect(await balanceOf(db, userId)).toBe(running);
}
