import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** One upstream attempt of a generation, as listed by GET /v1/generation. */
export interface GenerationAttempt {
  channelId: string;
  channelName: string;
  provider: string;
  upstreamModel: string;
  /** HTTP status the attempt ended with (the upstream's, or the gateway's for a timeout or a refused connection). */
  status: number;
  latencyMs: number;
  /** Null for the attempt that answered. */
  errorType: string | null;
}

/**
 * How a generation's cost was found: from the upstream's reported usage (`exact`), from counting what was sent and
 * received because the upstream reported none (`estimated`), or nothing was produced and nothing is billed (`void`).
 */
export const billingStatus = pgEnum("billing_status", ["exact", "estimated", "void"]);

/**
 * One row per /v1 generation: what was asked, who served it, what it used and cost. An append-only log written only
 * by the usage writer, from the authenticated key and the catalog, so its user, key and channel ids carry no foreign
 * keys: their per-row checks were a third of the cost of writing the log on PGlite, and took a share lock on the
 * user's and key's rows for every call on PostgreSQL. Users, keys and channels are disabled or revoked, never
 * deleted; the money itself (ledger entries, balances) keeps its foreign keys.
 */
export const generations = pgTable(
  "generations",
  {
    /** The completion id returned to the client (`gen-…`). */
    id: text().primaryKey(),
    userId: text().notNull(),
    apiKeyId: uuid(),
    modelId: text().notNull(),
    channelId: uuid(),
    provider: text().notNull(),
    upstreamModel: text().notNull(),
    upstreamId: text(),
    streamed: boolean().notNull(),
    cancelled: boolean().notNull().default(false),
    finishReason: text(),
    httpStatus: integer().notNull(),
    errorType: text(),
    promptTokens: integer().notNull().default(0),
    completionTokens: integer().notNull().default(0),
    cachedTokens: integer().notNull().default(0),
    cacheWriteTokens: integer().notNull().default(0),
    reasoningTokens: integer().notNull().default(0),
    billingStatus: billingStatus().notNull().default("void"),
    /** Input images in the request (per-image fees). */
    imageCount: integer().notNull().default(0),
    costNano: bigint({ mode: "bigint" })
      .notNull()
      .default(sql`0`),
    /** What the upstream said it charged, where it says (OpenRouter's `usage.cost`): for margin reports only. */
    upstreamCostNano: bigint({ mode: "bigint" }),
    /** Every upstream attempt in order (channel, status, latency, error type); never secrets or bodies. */
    attempts: jsonb().$type<GenerationAttempt[]>(),
    latencyMs: integer().notNull(),
    timeToFirstTokenMs: integer(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
  },
  (table) => [index().on(table.userId, table.createdAt), index().on(table.apiKeyId, table.createdAt)],
);
