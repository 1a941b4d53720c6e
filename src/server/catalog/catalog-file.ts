import { z } from "zod";

/** A USD amount per one million tokens, as a decimal string with at most 9 fractional digits (nano-USD exact). */
const usdPerMillion = z.string().regex(/^\d+(\.\d{1,9})?$/, 'a decimal USD amount such as "0.15"');

export const catalogModelSchema = z.object({
  /** Public id, `<author>/<model>`, as clients send it. */
  id: z.string().regex(/^[a-z0-9-]+\/[a-z0-9.:-]+$/),
  name: z.string().min(1),
  description: z.string(),
  /** Who made the model; also the provider slug of the channel kind that serves it natively. */
  author: z.string().min(1),
  /** The model id the author's own API expects. */
  upstreamModel: z.string().min(1),
  /** Release date, ISO 8601 (YYYY-MM-DD). */
  releasedAt: z.iso.date(),
  /** The longest input in tokens (for an embedding model, of each input). */
  contextLength: z.number().int().positive(),
  /**
   * The longest answer in tokens. An embedding model answers one vector per input, no tokens: for it this is the
   * length of its vectors (their dimensions, which `dimensions` may shorten).
   */
  maxOutputTokens: z.number().int().positive(),
  inputModalities: z.array(z.enum(["text", "image", "file", "audio"])).min(1),
  /**
   * `embeddings` (OpenRouter's word) marks an embedding model: it answers POST /v1/embeddings only, and is priced per
   * input token (its output price is 0).
   */
  outputModalities: z.array(z.enum(["text", "image", "audio", "embeddings"])).min(1),
  supportedParameters: z.array(z.string()),
  /** The author's public list prices: tokens in USD per one million, fees in USD each. */
  pricing: z.object({
    input: usdPerMillion,
    output: usdPerMillion,
    cacheRead: usdPerMillion.nullable(),
    cacheWrite: usdPerMillion.nullable(),
    /** Reasoning tokens, when priced apart from output; omitted or null bills them as output. */
    reasoning: usdPerMillion.nullish(),
    /** A flat fee per request. */
    request: usdPerMillion.nullish(),
    /** A fee per input image. */
    image: usdPerMillion.nullish(),
  }),
});

export const catalogFileSchema = z.object({
  version: z.literal(1),
  models: z.array(catalogModelSchema).min(1),
});

export type CatalogModel = z.infer<typeof catalogModelSchema>;
export type CatalogFile = z.infer<typeof catalogFileSchema>;
