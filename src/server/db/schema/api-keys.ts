import { sql } from "drizzle-orm";
import { index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";

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
  },
  (table) => [index().on(table.userId), index().on(table.prefix)],
);
