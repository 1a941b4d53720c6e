import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";

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
  /**
   * A router in front of other providers (OpenRouter): it serves every catalog model under its public id, and within
   * a priority tier its endpoints come after the models' native channels, as a fallback (routing/order-endpoints.ts).
   */
  aggregator: boolean().notNull().default(false),
  /** Whether the provider may retain prompts; `provider.data_collection: "deny"` keeps only channels that do not. */
  retainsData: boolean().notNull().default(true),
  /** Per-channel timeouts in milliseconds; null takes the configured default (`UPSTREAM_*_TIMEOUT_MS`). */
  connectTimeoutMs: integer(),
  /** Longest wait for the upstream's response headers: a failure here is retried on the next candidate. */
  firstByteTimeoutMs: integer(),
  /** Longest silence between two chunks of the upstream's body. */
  idleTimeoutMs: integer(),
  /** Longest a whole upstream call may take, headers to last byte. */
  totalTimeoutMs: integer(),
  /** The last `channel test` (CLI or admin): when, how long it took, the upstream status and the error, if any. */
  lastTestedAt: timestamp({ withTimezone: true }),
  lastTestLatencyMs: integer(),
  lastTestStatus: integer(),
  lastTestError: text(),
  createdAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
  updatedAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
});

/**
 * Live channel statistics, one row per channel, upstream model and minute, summed over every gateway process
 * (each adds what it saw since its last flush). Histograms are counts per logarithmic bin (see
 * src/server/gateway/routing/channel-stats.ts); rows older than a day are pruned.
 */
export const channelStatMinutes = pgTable(
  "channel_stat_minutes",
  {
    channelId: uuid()
      .notNull()
      .references(() => channels.id, { onDelete: "cascade" }),
    upstreamModel: text().notNull(),
    minute: timestamp({ withTimezone: true }).notNull(),
    /** Calls answered in full. */
    successes: integer().notNull().default(0),
    /** Failures that are the provider's: unreachable, timed out, 408/429/5xx, refused key, stream died. */
    providerErrors: integer().notNull().default(0),
    /** Failures caused by the request (400, 404, 413, 422): they count against the error rate, not the uptime. */
    requestErrors: integer().notNull().default(0),
    latencyHistogram: integer().array().notNull(),
    firstTokenHistogram: integer().array().notNull(),
    throughputHistogram: integer().array().notNull(),
    outputTokens: bigint({ mode: "number" }).notNull().default(0),
    updatedAt: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
  },
  (table) => [
    primaryKey({ columns: [table.channelId, table.upstreamModel, table.minute] }),
    index("channel_stat_minutes_updated_at_idx").on(table.updatedAt),
  ],
);
