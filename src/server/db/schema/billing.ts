import { sql } from "drizzle-orm";
import { bigint, bigserial, index, pgEnum, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";
import { users } from "./users";

/** Current prepaid balance per user, in nano-USD. Changed only together with a ledger entry (billing/ledger.ts). */
export const balances = pgTable("balances", {
  userId: text()
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  balanceNano: bigint({ mode: "bigint" })
    .notNull()
    .default(sql`0`),
  updatedAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
});

export const ledgerKind = pgEnum("ledger_kind", ["topup", "usage", "refund", "dispute", "adjustment", "promo"]);

/**
 * Append-only money movements. `(kind, external_id)` is unique so that replaying a webhook or re-settling a
 * generation is a no-op. The balance always equals the sum of `amount_nano` for the user.
 */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: bigserial({ mode: "bigint" }).primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: ledgerKind().notNull(),
    /** Stripe id, generation id, or a generated id for manual entries. */
    externalId: text().notNull(),
    /** Signed: credits are positive, debits negative. */
    amountNano: bigint({ mode: "bigint" }).notNull(),
    balanceAfterNano: bigint({ mode: "bigint" }).notNull(),
    note: text(),
    createdAt: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
  },
  (table) => [unique().on(table.kind, table.externalId), index().on(table.userId, table.id)],
);

/** Stripe webhook events already seen, so a redelivery does nothing. */
export const stripeEvents = pgTable("stripe_events", {
  id: text().primaryKey(),
  type: text().notNull(),
  receivedAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
  processedAt: timestamp({ withTimezone: true }),
});
