import { sql } from "drizzle-orm";
import { bigint, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";

/** When a key's spend limit starts over: at 00:00 UTC each day, each Monday, or on the 1st of each month. */
export const keyLimitReset = pgEnum("key_limit_reset", ["daily", "weekly", "monthly"]);

/**
 * What a key is for: `api` keys are the customer's own (listed, created and revoked on the keys page); the one
 * `playground` key per account is the dashboard's, which the playground calls /v1 with. Its plaintext is never stored
 * nor shown: the server derives it again when needed (services/playground-key.ts).
 */
export const apiKeyPurpose = pgEnum("api_key_purpose", ["api", "playground"]);
export type ApiKeyPurpose = (typeof apiKeyPurpose.enumValues)[number];

/** Bearer keys for /v1. Only the SHA-256 of the key is stored; `prefix` is what people see in lists. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid().primaryKey().defaultRandom(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text().notNull(),
    /** Hex SHA-256 of the whole plaintext key. */
    hash: text().notNull().unique(),
    /** `sk-gw-` plus the first 8 hex digits: enough to recognise a key, useless to an attacker. */
    prefix: text().notNull(),
    createdAt: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
    lastUsedAt: timestamp({ withTimezone: true }),
    expiresAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
    /** Public model ids this key may call; null allows every model. */
    allowedModels: text().array(),
    /** A disabled key is refused like a revoked one, but can be enabled again. */
    disabledAt: timestamp({ withTimezone: true }),
    /** Most this key may spend (nano-USD) per reset period, or in total without one; null for no limit. */
    spendLimitNano: bigint({ mode: "bigint" }),
    limitReset: keyLimitReset(),
    /** Spent in the current period (since `period_started_at`); settled calls only. */
    periodSpendNano: bigint({ mode: "bigint" })
      .notNull()
      .default(sql`0`),
    periodStartedAt: timestamp({ withTimezone: true }),
    /** Worst-case cost of this key's calls in flight, kept for keys with a spend limit (see balance_holds). */
    heldNano: bigint({ mode: "bigint" })
      .notNull()
      .default(sql`0`),
    /** Rate limits of this key; null takes the configured default (which may be none). */
    requestsPerMinute: integer(),
    tokensPerMinute: integer(),
    concurrentRequests: integer(),
    purpose: apiKeyPurpose().notNull().default("api"),
  },
  (table) => [
    index().on(table.userId),
    index().on(table.prefix),
    uniqueIndex("api_keys_one_playground_key_per_user")
      .on(table.userId)
      .where(sql`${table.purpose} = 'playground' and ${table.revokedAt} is null`),
  ],
);
