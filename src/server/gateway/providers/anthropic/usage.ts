import { z } from "zod";
import type { TokenUsage } from "../../billing/compute-cost";
import type { ChatCompletionUsage } from "../../protocol/chat-completion-response";

/** Anthropic's token counts. Every field may be missing: `message_delta` events of older API versions carry only some. */
export const anthropicUsageSchema = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});

export type AnthropicUsage = z.infer<typeof anthropicUsageSchema>;

/** Later counts win field by field: `message_delta` repeats the cumulative totals that `message_start` began. */
export function mergeAnthropicUsage(base: AnthropicUsage, update: AnthropicUsage): AnthropicUsage {
  const merged: AnthropicUsage = { ...base };
  for (const key of [
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
  ] as const) {
    const value = update[key];
    if (typeof value === "number") merged[key] = value;
  }
  return merged;
}

/**
 * Anthropic counts uncached input, cache reads and cache writes separately; OpenAI's `prompt_tokens` is their sum,
 * with the cached and written parts broken out so that each is priced at its own rate.
 */
export function toOpenAIUsage(usage: AnthropicUsage): ChatCompletionUsage {
  const input = usage.input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const completion = usage.output_tokens ?? 0;
  const prompt = input + cacheRead + cacheWrite;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead, cache_write_tokens: cacheWrite },
  };
}

const openAIUsageSchema = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  prompt_tokens_details: z
    .looseObject({ cached_tokens: z.number().nullish(), cache_write_tokens: z.number().nullish() })
    .nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
});

/** Reads the OpenAI-shaped usage this adapter produced (see `toOpenAIUsage`) into the gateway's counts. */
export function parseAnthropicAdapterUsage(raw: unknown): TokenUsage | null {
  if (raw === null || raw === undefined) return null;
  const parsed = openAIUsageSchema.safeParse(raw);
  if (!parsed.success) return null;
  const usage = parsed.data;
  return {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: usage.prompt_tokens_details?.cache_write_tokens ?? 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}
