import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { channels } from "./channels";

/** A model as clients name it (`anthropic/claude-haiku-4.5`), independent of who serves it. */
export const models = pgTable("models", {
  id: text().primaryKey(),
  name: text().notNull(),
  description: text().notNull().default(""),
  /** Slug of the model's author: openai, anthropic, google, deepseek, tollgate. */
  author: text().notNull(),
  /** The id the author's own API expects (`claude-haiku-4-5`); endpoints on native channels default to it. */
  upstreamModel: text().notNull(),
  contextLength: integer().notNull(),
  maxOutputTokens: integer().notNull(),
  inputModalities: jsonb().$type<string[]>().notNull(),
  outputModalities: jsonb().$type<string[]>().notNull(),
  supportedParameters: jsonb().$type<string[]>().notNull(),
  /** When the model was released (OpenAI's `created`). */
  releasedAt: timestamp({ withTimezone: true }).notNull(),
  /** The author's list prices, nano-USD per 1M tokens: the default for new endpoints. */
  inputPriceNano: bigint({ mode: "bigint" }).notNull(),
  outputPriceNano: bigint({ mode: "bigint" }).notNull(),
  cacheReadPriceNano: bigint({ mode: "bigint" }),
  cacheWritePriceNano: bigint({ mode: "bigint" }),
  /** Reasoning (thinking) tokens; null bills them as output. */
  reasoningPriceNano: bigint({ mode: "bigint" }),
  /** Flat fee per request, nano-USD; null for none. */
  requestPriceNano: bigint({ mode: "bigint" }),
  /** Fee per input image, nano-USD; null for none. */
  imagePriceNano: bigint({ mode: "bigint" }),
  enabled: boolean().notNull().default(true),
  createdAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
  updatedAt: timestamp({ withTimezone: true })
    .notNull()
    .default(sql`now()`),
});

/**
 * Which channel serves which model, under which upstream name, at which prices.
 * Prices are integer nano-USD (1e-9 USD) per one million tokens.
 */
export const modelEndpoints = pgTable(
  "model_endpoints",
  {
    id: uuid().primaryKey().defaultRandom(),
    modelId: text()
      .notNull()
      .references(() => models.id, { onDelete: "cascade" }),
    channelId: uuid()
      .notNull()
      .references(() => channels.id, { onDelete: "cascade" }),
    upstreamModel: text().notNull(),
    inputPriceNano: bigint({ mode: "bigint" }).notNull(),
    outputPriceNano: bigint({ mode: "bigint" }).notNull(),
    cacheReadPriceNano: bigint({ mode: "bigint" }),
    cacheWritePriceNano: bigint({ mode: "bigint" }),
    /** Reasoning (thinking) tokens; null bills them as output. */
    reasoningPriceNano: bigint({ mode: "bigint" }),
    /** Flat fee per request, nano-USD; null for none. */
    requestPriceNano: bigint({ mode: "bigint" }),
    /** Fee per input image, nano-USD; null for none. */
    imagePriceNano: bigint({ mode: "bigint" }),
    /** This endpoint's markup in basis points (550 = 5.5 %); null takes the platform's (`PRICE_MARKUP_PERCENT`). */
    markupBasisPoints: integer(),
    priority: integer().notNull().default(0),
    weight: integer().notNull().default(1),
    enabled: boolean().notNull().default(true),
    createdAt: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
    updatedAt: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
  },
  (table) => [unique().on(table.modelId, table.channelId), index().on(table.channelId)],
);

/**
 * Every price an endpoint has had: a row per insert and per change of its prices or markup, written by a trigger on
 * `model_endpoints` (so no code path can change a price without leaving a version), append-only like the audit log.
 * Generations name the version they were billed at (`generations.price_version_id`), so any past cost can be
 * recomputed exactly. No foreign keys: the history outlives the endpoints and channels it names.
 */
export const endpointPriceVersions = pgTable(
  "endpoint_price_versions",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    endpointId: uuid().notNull(),
    modelId: text().notNull(),
    channelId: uuid().notNull(),
    inputPriceNano: bigint({ mode: "bigint" }).notNull(),
    outputPriceNano: bigint({ mode: "bigint" }).notNull(),
    cacheReadPriceNano: bigint({ mode: "bigint" }),
    cacheWritePriceNano: bigint({ mode: "bigint" }),
    reasoningPriceNano: bigint({ mode: "bigint" }),
    requestPriceNano: bigint({ mode: "bigint" }),
    imagePriceNano: bigint({ mode: "bigint" }),
    /** The endpoint's own markup; null: the platform's, which the generation records as applied. */
    markupBasisPoints: integer(),
    /** When these prices took effect (the changing transaction's time). */
    validFrom: timestamp({ withTimezone: true })
      .notNull()
      .default(sql`now()`),
    /** The audit label of whoever changed them (`set_config('tollgate.actor', …)` in the transaction), or `system`. */
    changedBy: text().notNull(),
  },
  (table) => [index().on(table.endpointId, table.id)],
);
