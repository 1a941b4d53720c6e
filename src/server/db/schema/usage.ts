import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";

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
    /**
     * The request id of the /v1 call (`x-request-id`: the client's or a proxy's when it sent a sane one, else ours),
     * so a request a customer or a log line quotes can be found. Null for calls made before it was stored.
     */
    requestId: text(),
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
    /** The endpoint price version the call was billed at (`endpoint_price_versions.id`); null before versions existed. */
    priceVersionId: bigint({ mode: "number" }),
    /** The markup applied, basis points: the version's own or the platform's at the time. */
    markupBasisPoints: integer(),
    /** Every upstream attempt in order (channel, status, latency, error type); never secrets or bodies. */
    attempts: jsonb().$type<GenerationAttempt[]>(),
    latencyMs: integer().notNull(),
    timeToFirstTokenMs: integer(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
  },
  (table) => [
    index().on(table.userId, table.createdAt),
    index().on(table.apiKeyId, table.createdAt),
    index().on(table.requestId),
  ],
);

/**
 * The generation log summed per account, key, model, provider and UTC hour: what activity charts, totals and daily
 * exports read, so they never scan the log. Written by the usage writer in the transaction that inserts the
 * generations it sums (and debits their cost), so it always agrees with the log and the ledger. Token counts and
 * durations are sums; averages divide by `requests` (latency) and `firstTokenCount` (time to first token, streams
 * only). `apiKeyId` is null for calls made without a key; the unique constraint treats nulls as equal so such calls
 * share a row too.
 */
export const usageHourly = pgTable(
  "usage_hourly",
  {
    userId: text().notNull(),
    apiKeyId: uuid(),
    modelId: text().notNull(),
    provider: text().notNull(),
    /** Start of the UTC hour the calls started in. */
    hour: timestamp({ withTimezone: true }).notNull(),
    requests: integer().notNull().default(0),
    /** Calls that ended with an HTTP status of 400 or more (the client leaving mid-call is 499). */
    errors: integer().notNull().default(0),
    promptTokens: bigint({ mode: "number" }).notNull().default(0),
    completionTokens: bigint({ mode: "number" }).notNull().default(0),
    cachedTokens: bigint({ mode: "number" }).notNull().default(0),
    cacheWriteTokens: bigint({ mode: "number" }).notNull().default(0),
    reasoningTokens: bigint({ mode: "number" }).notNull().default(0),
    costNano: bigint({ mode: "bigint" })
      .notNull()
      .default(sql`0`),
    latencyMsSum: bigint({ mode: "number" }).notNull().default(0),
    firstTokenMsSum: bigint({ mode: "number" }).notNull().default(0),
    /** Calls with a measured time to first token (streams that began an answer). */
    firstTokenCount: integer().notNull().default(0),
    /**
     * What the calls cost Tollgate (the upstream's reported charge, else the cost without markup): with `costNano`,
     * the margin. Rows from before it was recorded hold their cost (no margin claimed).
     */
    providerCostNano: bigint({ mode: "bigint" })
      .notNull()
      .default(sql`0`),
  },
  (table) => [
    unique("usage_hourly_slot")
      .on(table.userId, table.hour, table.modelId, table.provider, table.apiKeyId)
      .nullsNotDistinct(),
    index().on(table.apiKeyId, table.hour),
  ],
);
