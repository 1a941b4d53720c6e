import { and, desc, eq, gte, ilike, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "~/server/db";
import { containsPattern } from "~/server/db/like-pattern";
import { ledgerEntries, ledgerKind, stripeEvents, users } from "~/server/db/schema";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";

/** What an operator can narrow the ledger by. */
export const ledgerFilterSchema = z.object({
  kind: z.enum(ledgerKind.enumValues).nullish(),
  /** Part of the account's email. */
  email: z.string().trim().min(1).max(320).nullish(),
  from: z.date().nullish(),
  to: z.date().nullish(),
});
export type LedgerFilter = z.input<typeof ledgerFilterSchema>;

/** Every account's ledger entries, newest first, filtered; the cursor is the last entry's id. */
export async function searchLedger(db: Database, input: LedgerFilter, page: { cursor: bigint | null; limit: number }) {
  const filter = ledgerFilterSchema.parse(input);
  const conditions: (SQL | undefined)[] = [
    filter.kind == null ? undefined : eq(ledgerEntries.kind, filter.kind),
    filter.email == null ? undefined : ilike(users.email, containsPattern(filter.email)),
    filter.from == null ? undefined : gte(ledgerEntries.createdAt, filter.from),
    filter.to == null ? undefined : lt(ledgerEntries.createdAt, filter.to),
    page.cursor === null ? undefined : lt(ledgerEntries.id, page.cursor),
  ];
  const rows = await db
    .select({ entry: ledgerEntries, email: users.email })
    .from(ledgerEntries)
    .innerJoin(users, eq(users.id, ledgerEntries.userId))
    .where(and(...conditions))
    .orderBy(desc(ledgerEntries.id))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit).map(({ entry, email }) => ({
    id: entry.id.toString(),
    userId: entry.userId,
    email,
    kind: entry.kind,
    externalId: entry.externalId,
    amountUsd: formatNanoAsUsd(entry.amountNano),
    balanceAfterUsd: formatNanoAsUsd(entry.balanceAfterNano),
    note: entry.note,
    createdAt: entry.createdAt,
  }));
  return { items, nextCursor: rows.length > page.limit ? (items.at(-1)?.id ?? null) : null };
}

/** Stripe's webhook events as received, newest first, with how each was handled. */
export async function listStripeEvents(db: Database, limit: number) {
  const rows = await db.select().from(stripeEvents).orderBy(desc(stripeEvents.receivedAt)).limit(limit);
  return rows.map((event) => ({
    ...event,
    outcome: event.ignored
      ? ("ignored" as const)
      : event.processedAt !== null
        ? ("processed" as const)
        : event.lastError !== null
          ? ("failing" as const)
          : ("in progress" as const),
  }));
}
