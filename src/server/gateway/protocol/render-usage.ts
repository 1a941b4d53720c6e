import type { TokenUsage } from "../billing/compute-cost";
import { nanoToUsdNumber } from "../billing/money";
import type { ChatCompletionUsage } from "./chat-completion-response";

/**
 * What an upstream router reports about its own charges (OpenRouter): the customer's price is ours, so the
 * upstream's cost never reaches the client.
 */
const UPSTREAM_COST_FIELDS = ["cost", "cost_details", "is_byok"] as const;

/** OpenAI's usage object from normalised counts, keeping any extra detail the upstream reported, plus `cost`. */
export function renderUsage(
  usage: TokenUsage,
  costNano: bigint,
  upstream?: ChatCompletionUsage | null,
): ChatCompletionUsage {
  const extra: Record<string, unknown> = { ...(upstream ?? {}) };
  for (const field of UPSTREAM_COST_FIELDS) delete extra[field];
  return {
    ...extra,
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
