import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import { apiKeys } from "./api-keys";
import { users } from "./users";

/** Current prepaid balance per user, in nano-USD. Changed only together with a ledger entry (billing/ledger.ts). */
export const balances = pgTable("balances", {
  userId: text()
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  balanceNano: bigint({ mode: "bigint" })
    .notNull()
    .default(sql`0`),
  /** Sum of the open holds (worst-case cost of calls in flight); admission needs balance − held ≥ the new hold. */
  heldNano: bigint({ mode: "bigint" })
    .notNull()
    .default(sql`0`),
  /** Set when a payment was disputed: shown to operators, who decide what happens next. */
  flaggedAt: timestamp({ withTimezone: true }),
  flagReason: text(),
  updatedAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
});

/**
 * One row per call in flight: the worst-case cost reserved before dispatch. Settlement deletes it and releases its
 * amount from `balances.held_nano` and `api_keys.held_nano`; a hold left behind by a crashed process is released
 * once it expires. The id is the generation id.
 */
export const balanceHolds = pgTable(
  "balance_holds",
  {
    id: text().primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    // The key whose spend limit the hold also counts against; null for a key without a limit.
    // Set null, not cascade: deleting a hold outside settlement would leave its amount held on the balance.
    apiKeyId: uuid().references(() => apiKeys.id, { onDelete: "set null" }),
    amountNano: bigint({ mode: "bigint" }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (table) => [index().on(table.expiresAt)],
);

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

/**
 * Stripe webhook events received, so a redelivery does nothing, and so operators see how each was handled: processed,
 * ignored (a type Tollgate does not act on), or failing (its last error, and how many deliveries tried).
 */
export const stripeEvents = pgTable(
  "stripe_events",
  {
    id: text().primaryKey(),
    type: text().notNull(),
    receivedAt: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
    processedAt: timestamp({ withTimezone: true }),
    /** Deliveries that ran its handler. */
    attempts: integer().notNull().default(0),
    /** The last attempt's error, cleared once one succeeds. */
    lastError: text(),
    /** Received but not acted on: no handler for its type. */
    ignored: boolean().notNull().default(false),
  },
  (table) => [index().on(table.receivedAt)],
);

/** The Stripe customer of each user: created on the first top-up, reused after. */
export const stripeCustomers = pgTable("stripe_customers", {
  userId: text()
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  customerId: text().notNull().unique(),
  /** Saved for auto top-up (Checkout with `setup_future_usage`). */
  defaultPaymentMethodId: text(),
  createdAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
});

export const topUpSource = pgEnum("top_up_source", ["checkout", "auto"]);
export const topUpStatus = pgEnum("top_up_status", ["pending", "paid", "failed", "expired"]);

/** Every top-up attempt: a Checkout Session or an off-session PaymentIntent. Credit comes only from the webhook. */
export const topUps = pgTable(
  "top_ups",
  {
    id: uuid().primaryKey().defaultRandom(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    source: topUpSource().notNull(),
    status: topUpStatus().notNull().default("pending"),
    amountNano: bigint({ mode: "bigint" }).notNull(),
    checkoutSessionId: text().unique(),
    paymentIntentId: text().unique(),
    failureMessage: text(),
    createdAt: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
    updatedAt: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
  },
  (table) => [index().on(table.userId, table.createdAt)],
);

/** "When my balance falls below X, add Y": charged off-session with the saved card. */
export const autoTopUpSettings = pgTable("auto_top_up_settings", {
  userId: text()
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  enabled: boolean().notNull().default(false),
  thresholdNano: bigint({ mode: "bigint" }).notNull(),
  amountNano: bigint({ mode: "bigint" }).notNull(),
  lastAttemptAt: timestamp({ withTimezone: true }),
  lastStatus: text(),
  lastError: text(),
  updatedAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
});

/** Codes an admin creates, worth an amount, redeemable once per user up to a limit and until an expiry. */
export const promoCodes = pgTable("promo_codes", {
  id: uuid().primaryKey().defaultRandom(),
  /** Stored upper-case; redemption is case-insensitive. */
  code: text().notNull().unique(),
  amountNano: bigint({ mode: "bigint" }).notNull(),
  maxRedemptions: integer(),
  redemptionCount: integer().notNull().default(0),
  expiresAt: timestamp({ withTimezone: true }),
  createdAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
});

export const promoRedemptions = pgTable(
  "promo_redemptions",
  {
    promoCodeId: uuid()
      .notNull()
      .references(() => promoCodes.id, { onDelete: "cascade" }),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    redeemedAt: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
  },
  (table) => [primaryKey({ columns: [table.promoCodeId, table.userId] })],
);
