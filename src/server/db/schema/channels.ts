import { sql } from "drizzle-orm";
import { boolean, integer, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const channelKind = pgEnum("channel_kind", ["openai", "anthropic", "gemini", "openai-compatible", "demo"]);

/** An upstream account: which API to call, where, and with which (encrypted) secret. */
export const channels = pgTable("channels", {
  id: uuid().primaryKey().defaultRandom(),
  name: text().notNull().unique(),
  kind: channelKind().notNull(),
  /** Provider slug shown to clients and used for provider preferences: openai, anthropic, google, deepseek, … */
  provider: text().notNull(),
  baseUrl: text().notNull(),
  /** AES-256-GCM ciphertext of the upstream key (see src/server/crypto/secret-box.ts); null for keyless upstreams. */
  encryptedSecret: text(),
  enabled: boolean().notNull().default(true),
  /** Higher tiers are tried first. */
  priority: integer().notNull().default(0),
  /** Relative share of traffic within a priority tier. */
  weight: integer().notNull().default(1),
  /** Set when the upstream refused the channel's key (401/403): routing skips it until an operator fixes it. */
  brokenAt: timestamp({ withTimezone: true }),
  brokenReason: text(),
  /** Whether the provider may retain prompts; `provider.data_collection: "deny"` keeps only channels that do not. */
  retainsData: boolean().notNull().default(true),
  createdAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
  updatedAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
});
