import type { TokenUsage } from "../billing/compute-cost";
import { nanoToUsdNumber } from "../billing/money";
import type { ChatCompletionChunk, ChatCompletionUsage } from "./chat-completion-response";

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

/**
 * A stream chunk that does not carry the usage. Usage goes out once per stream, on its last chunk, so a client that
 * adds up usage chunks counts the call once: with `stream_options.include_usage`, OpenAI's contract, every chunk but
 * the trailing `choices: []` one has `usage: null` (`explicitNull`); without it the usage rides on the finish chunk,
 * the last one, as OpenRouter sends it, and the others have none.
 */
export function withoutUsage(chunk: ChatCompletionChunk, explicitNull: boolean): ChatCompletionChunk {
  // Assigned, not deleted: a delete would turn the object into a slow dictionary on every chunk of the hot path.
  chunk.usage = explicitNull ? null : undefined;
  return chunk;
}
