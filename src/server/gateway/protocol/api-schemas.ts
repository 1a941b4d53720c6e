import { z } from "zod";

/*
 * The shapes /v1 answers with, as zod schemas: handlers build their bodies typed by these, and the OpenAPI document
 * at GET /v1/openapi.json is generated from them, so the document cannot drift from what is sent.
 */

const usdAmount = z.number().describe("US dollars");
const perTokenPrice = z.string().describe("US dollars per token, as a decimal string");

/** OpenRouter's pricing object: USD per token as exact decimal strings, and flat fees. */
const pricingSchema = z.object({
  prompt: perTokenPrice,
  completion: perTokenPrice,
  input_cache_read: perTokenPrice,
  input_cache_write: perTokenPrice,
  internal_reasoning: perTokenPrice,
  request: z.string().describe("US dollars per request"),
  image: z.string().describe("US dollars per input image"),
});

export const errorBodySchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string().describe("OpenAI's error type, e.g. invalid_request_error"),
      param: z.string().nullable().describe("The offending request field, e.g. messages[0].content"),
      code: z.string().nullable(),
      metadata: z.looseObject({
        error_type: z
          .string()
          .describe("Stable classification: invalid_request, authentication, insufficient_credits, …"),
      }),
    }),
  })
  .meta({ id: "Error" });

export const usageSchema = z
  .looseObject({
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    total_tokens: z.number().int(),
    prompt_tokens_details: z
      .looseObject({ cached_tokens: z.number().int(), cache_write_tokens: z.number().int() })
      .optional(),
    completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().int() }).optional(),
    cost: usdAmount.describe("What this call cost, in US dollars; exactly what was debited"),
  })
  .meta({ id: "Usage" });

const finishReason = z.enum(["stop", "length", "tool_calls", "content_filter", "error"]).nullable();

export const chatCompletionSchema = z
  .looseObject({
    id: z.string().describe("The generation id (gen-…); GET /v1/generation?id= describes it"),
    object: z.literal("chat.completion"),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.looseObject({
        index: z.number().int(),
        message: z.looseObject({
          role: z.literal("assistant"),
          content: z.string().nullable(),
          refusal: z.string().nullable().optional(),
          reasoning: z.string().nullable().optional(),
          tool_calls: z
            .array(
              z.looseObject({
                id: z.string(),
                type: z.literal("function"),
                function: z.object({ name: z.string(), arguments: z.string() }),
              }),
            )
            .optional(),
        }),
        finish_reason: finishReason,
        native_finish_reason: z.string().nullable().optional().describe("The provider's own finish reason"),
        logprobs: z.unknown().nullable(),
      }),
    ),
    usage: usageSchema,
  })
  .meta({ id: "ChatCompletion" });

export const chatCompletionChunkSchema = z
  .looseObject({
    id: z.string(),
    object: z.literal("chat.completion.chunk"),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.looseObject({
        index: z.number().int(),
        delta: z.looseObject({ role: z.literal("assistant").optional(), content: z.string().nullable().optional() }),
        finish_reason: finishReason,
        native_finish_reason: z.string().nullable().optional(),
      }),
    ),
    usage: usageSchema
      .nullable()
      .optional()
      .describe("On the chunk that carries finish_reason, and on the usage chunk"),
    error: z.object({ message: z.string(), type: z.string(), code: z.string().nullable() }).optional(),
  })
  .meta({ id: "ChatCompletionChunk", description: "One `data:` event of a streamed completion" });

export const modelSchema = z
  .object({
    id: z.string(),
    object: z.literal("model"),
    created: z.number().int(),
    owned_by: z.string(),
    name: z.string(),
    description: z.string(),
    context_length: z.number().int(),
    architecture: z.object({ input_modalities: z.array(z.string()), output_modalities: z.array(z.string()) }),
    pricing: pricingSchema,
    pricing_per_million_usd: z
      .object({
        prompt: z.string(),
        completion: z.string(),
        input_cache_read: z.string().nullable(),
        input_cache_write: z.string().nullable(),
        internal_reasoning: z.string().nullable(),
        request: z.string().nullable().describe("US dollars per request"),
        image: z.string().nullable().describe("US dollars per input image"),
      })
      .describe("The same prices in US dollars per one million tokens; null where the provider has no such price"),
    supported_parameters: z.array(z.string()),
    top_provider: z.object({
      context_length: z.number().int(),
      max_completion_tokens: z.number().int().nullable().describe("Null for an embedding model"),
    }),
    dimensions: z
      .number()
      .int()
      .optional()
      .describe('Embedding models (`architecture.output_modalities` has "embeddings"): the length of their vectors'),
  })
  .meta({ id: "Model" });

export const publicModelSchema = modelSchema
  .extend({
    canonical_slug: z.string(),
    architecture: z.object({
      modality: z.string().describe('Inputs and outputs in one string, e.g. "text+image->text"'),
      input_modalities: z.array(z.string()),
      output_modalities: z.array(z.string()),
    }),
    top_provider: z.object({
      context_length: z.number().int(),
      max_completion_tokens: z.number().int().nullable().describe("Null for an embedding model"),
      is_moderated: z.boolean(),
    }),
    per_request_limits: z.null(),
    providers: z.array(z.string()).describe("Slugs of the providers serving the model, in the default routing order"),
  })
  .meta({ id: "PublicModel" });

export const publicModelListSchema = z.object({ data: z.array(publicModelSchema) }).meta({ id: "PublicModelList" });

export const modelListSchema = z
  .object({ object: z.literal("list"), data: z.array(modelSchema) })
  .meta({ id: "ModelList" });

const percentiles = (unit: string) =>
  z
    .object({ p50: z.number(), p75: z.number(), p90: z.number(), p99: z.number() })
    .nullable()
    .describe(`${unit}, over the last 30 minutes; null without successful calls`);
const uptime = (window: string) =>
  z
    .number()
    .nullable()
    .describe(
      `Percent of calls over the last ${window} that did not fail for the provider's reasons; null without calls`,
    );

export const modelEndpointsSchema = z
  .object({
    data: z.object({
      id: z.string(),
      name: z.string(),
      created: z.number().int(),
      description: z.string(),
      architecture: z.object({ input_modalities: z.array(z.string()), output_modalities: z.array(z.string()) }),
      endpoints: z.array(
        z.object({
          name: z.string().describe("Provider and model, e.g. `openai: GPT-4.1`"),
          model_name: z.string(),
          provider_name: z.string().describe("The provider slug used by `provider.order`, `only` and `ignore`"),
          tag: z.string().describe("The channel serving this endpoint"),
          context_length: z.number().int(),
          max_completion_tokens: z.number().int().nullable().describe("Null for an embedding model"),
          max_prompt_tokens: z.number().int(),
          pricing: pricingSchema,
          quantization: z.null(),
          supported_parameters: z.array(z.string()),
          status: z
            .number()
            .int()
            .describe("0: routable; -1: cooling down after consecutive failures (its circuit is open)"),
          uptime_last_5m: uptime("5 minutes"),
          uptime_last_30m: uptime("30 minutes"),
          uptime_last_1d: uptime("day"),
          error_rate_last_5m: z
            .number()
            .nullable()
            .describe("Percent of calls over the last 5 minutes that failed for any reason; null without calls"),
          latency_last_30m: percentiles("Seconds to the first token"),
          duration_last_30m: percentiles("Seconds from request to last byte"),
          throughput_last_30m: percentiles("Output tokens per second"),
        }),
      ),
    }),
  })
  .meta({ id: "ModelEndpoints" });

const pricePerMillion = z.string().nullable().describe("US dollars per one million tokens");

export const priceListSchema = z
  .object({
    currency: z.literal("USD"),
    unit: z.literal("per 1M tokens"),
    data: z.array(
      z.object({
        model: z.string(),
        name: z.string(),
        providers: z.array(
          z.object({
            provider: z.string(),
            input: pricePerMillion,
            output: pricePerMillion,
            cache_read: pricePerMillion,
            cache_write: pricePerMillion,
            reasoning: pricePerMillion,
            request: z.string().describe("US dollars per request"),
            image: z.string().describe("US dollars per input image"),
          }),
        ),
      }),
    ),
  })
  .meta({ id: "PriceList" });

export const keyInfoSchema = z
  .object({
    data: z.object({
      name: z.string(),
      label: z.string().describe("The key's display prefix"),
      usage: usdAmount.describe("Spent with this key, all time"),
      usage_daily: usdAmount.describe("Spent since 00:00 UTC"),
      usage_weekly: usdAmount.describe("Spent since Monday 00:00 UTC"),
      usage_monthly: usdAmount.describe("Spent since the 1st, 00:00 UTC"),
      limit: usdAmount.nullable().describe("Spend limit; null when only the account balance limits the key"),
      limit_remaining: usdAmount
        .nullable()
        .describe("What the key may still spend this period: limit less settled spend and calls in flight"),
      limit_reset: z.enum(["daily", "weekly", "monthly"]).nullable(),
      allowed_models: z.array(z.string()).nullable().describe("Models this key may use; null for all"),
      rate_limit: z.object({ requests: z.number().int(), interval: z.string() }).nullable(),
      created_at: z.string(),
      expires_at: z.string().nullable(),
    }),
  })
  .meta({ id: "KeyInfo" });

export const creditsSchema = z
  .object({
    data: z.object({
      total_credits: usdAmount.describe("Everything credited: top-ups, promotions and adjustments, net of refunds"),
      total_usage: usdAmount.describe("Everything spent"),
      balance: z.string().describe("total_credits - total_usage, exact, in US dollars"),
      held: z.string().describe("Reserved by calls in flight (their worst-case cost until they settle), exact"),
      available: z.string().describe("balance - held: what new calls can reserve, exact"),
    }),
  })
  .meta({ id: "Credits" });

export const generationSchema = z
  .object({
    data: z.object({
      id: z.string(),
      request_id: z
        .string()
        .nullable()
        .describe("The call's x-request-id: the client's own when it sent a valid one, else the gateway's"),
      model: z.string(),
      provider_name: z.string(),
      upstream_model: z.string(),
      upstream_id: z.string().nullable(),
      created_at: z.string(),
      streamed: z.boolean(),
      cancelled: z.boolean(),
      finish_reason: z.string().nullable(),
      status: z.number().int().describe("The HTTP status the call ended with"),
      error_type: z.string().nullable(),
      billing_status: z
        .enum(["exact", "estimated", "void"])
        .describe(
          "exact: billed from the provider's reported usage; estimated: counted by the gateway because the provider reported none (or the stream was cut); void: nothing produced, nothing billed",
        ),
      tokens_prompt: z.number().int(),
      tokens_completion: z.number().int(),
      native_tokens_prompt: z.number().int(),
      native_tokens_completion: z.number().int(),
      native_tokens_cached: z.number().int(),
      native_tokens_cache_write: z.number().int(),
      native_tokens_reasoning: z.number().int(),
      total_cost: usdAmount,
      attempts: z
        .array(
          z.object({
            channel: z.string(),
            provider: z.string(),
            upstream_model: z.string(),
            status: z.number().int().describe("How the attempt ended: the upstream's status, or the gateway's"),
            latency: z.number().int().describe("Milliseconds until the attempt answered or failed"),
            error_type: z.string().nullable(),
          }),
        )
        .describe("Every upstream attempt in order; failover tries the next provider after a retryable failure"),
      latency: z.number().int().describe("Milliseconds from request to last byte"),
      time_to_first_token: z.number().int().nullable().describe("Milliseconds to the upstream's first byte (streams)"),
    }),
  })
  .meta({ id: "Generation" });

export const activitySchema = z
  .object({
    data: z.array(
      z.object({
        date: z.string().describe("The UTC day, YYYY-MM-DD"),
        model: z.string(),
        model_permaslug: z.string().describe("The same as `model`: a model id is never reused"),
        provider_name: z.string(),
        usage: usdAmount.describe("What the day's calls of this model through this provider cost"),
        byok_usage_inference: usdAmount.describe("Always 0: every call runs on the gateway's provider keys"),
        requests: z.number().int(),
        prompt_tokens: z.number().int(),
        completion_tokens: z.number().int(),
        reasoning_tokens: z.number().int(),
      }),
    ),
  })
  .meta({ id: "Activity" });

export type ModelInfo = z.infer<typeof modelSchema>;
export type PublicModel = z.infer<typeof publicModelSchema>;
export type PriceList = z.infer<typeof priceListSchema>;
export type ModelEndpointList = z.infer<typeof modelEndpointsSchema>;
export type KeyInfo = z.infer<typeof keyInfoSchema>;
export type Credits = z.infer<typeof creditsSchema>;
export type GenerationInfo = z.infer<typeof generationSchema>;
export type Activity = z.infer<typeof activitySchema>;
