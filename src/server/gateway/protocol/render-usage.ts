import type { TokenUsage } from "../billing/compute-cost";
import { nanoToUsdNumber } from "../billing/money";
import type { ChatCompletionUsage } from "./chat-completion-response";

/** OpenAI's usage object from normalised counts, keeping any extra detail the upstream reported, plus `cost`. */
export function renderUsage(
  usage: TokenUsage,
  costNano: bigint,
  upstream?: ChatCompletionUsage | null,
): ChatCompletionUsage {
  return {
    ...(upstream ?? {}),
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: {
      ...(upstream?.prompt_tokens_details ?? {}),
      cached_tokens: usage.cachedTokens,
      cache_write_tokens: usage.cacheWriteTokens,
    },
    completion_tokens_details: {
      ...(upstream?.completion_tokens_details ?? {}),
      reasoning_tokens: usage.reasoningTokens,
    },
    cost: nanoToUsdNumber(costNano),
  };
}
