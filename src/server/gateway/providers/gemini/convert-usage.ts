import { z } from "zod";
import type { TokenUsage } from "../../billing/compute-cost";
import type { ChatCompletionUsage } from "../../protocol/chat-completion-response";
import type { GeminiUsageMetadata } from "./gemini-types";

/**
 * `usageMetadata` → OpenAI's usage. OpenAI counts reasoning inside `completion_tokens`, and Google bills thinking
 * at the output price, so completion = `candidatesTokenCount` + `thoughtsTokenCount`, with the thoughts also shown
 * as `completion_tokens_details.reasoning_tokens`. Prompt = `promptTokenCount` + `toolUsePromptTokenCount` (tool
 * results Gemini fetched itself are billed as input); `cachedContentTokenCount` is the cached part of the prompt.
 * Streams repeat the running totals in every event: the last one is the bill.
 */
export function convertUsage(metadata: GeminiUsageMetadata): ChatCompletionUsage {
  const prompt = (metadata.promptTokenCount ?? 0) + (metadata.toolUsePromptTokenCount ?? 0);
  const reasoning = metadata.thoughtsTokenCount ?? 0;
  const completion = (metadata.candidatesTokenCount ?? 0) + reasoning;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: metadata.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}

const usageSchema = z.looseObject({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().int().nonnegative().nullish() }).nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().int().nonnegative().nullish() }).nullish(),
});

/** Reads back the usage this adapter put on a completion or chunk. */
export function parseUsage(usage: unknown): TokenUsage | null {
  const parsed = usageSchema.safeParse(usage);
  if (!parsed.success) return null;
  return {
    promptTokens: parsed.data.prompt_tokens,
    completionTokens: parsed.data.completion_tokens,
    cachedTokens: parsed.data.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: parsed.data.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}
