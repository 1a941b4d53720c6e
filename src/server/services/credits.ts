import { randomUUID } from "node:crypto";
import type { Database } from "~/server/db";
import type { ChangeBus } from "~/server/changes";
import { postLedgerEntriesNow, readBalanceNano, type LedgerKind } from "~/server/gateway/billing/ledger";

/** Adds (or, with a negative amount, removes) credit through the ledger and tells gateways to re-read the balance. */
export async function addCredits(
  db: Database,
  changes: ChangeBus,
  input: { userId: string; amountNano: bigint; kind?: LedgerKind; externalId?: string; note?: string | null },
): Promise<{ balanceNano: bigint; posted: boolean }> {
  const result = await postLedgerEntriesNow(db, [
    {
      userId: input.userId,
      kind: input.kind ?? "adjustment",
      externalId: input.externalId ?? `manual-${randomUUID()}`,
      amountNano: input.amountNano,
      note: input.note ?? null,
    },
  ]);
  await changes.publish({ topic: "balance-changed", userId: input.userId });
  return { balanceNano: result.balances.get(input.userId) ?? 0n, posted: result.posted.length > 0 };
}

export function getBalanceNano(db: Database, userId: string): Promise<bigint> {
  return readBalanceNano(db, userId);
}
