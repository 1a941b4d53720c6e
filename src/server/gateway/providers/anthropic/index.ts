import { createOpenAICompatibleAdapter, OPENROUTER_EXTENSIONS } from "../openai-compatible/adapter";
import type { ProviderAdapter } from "../types";

/**
 * Anthropic channels. Until the native Messages adapter lands, Anthropic's own OpenAI-compatible endpoint
 * (`{base}/chat/completions`) serves them.
 */
export function createAnthropicAdapter(): ProviderAdapter {
  return createOpenAICompatibleAdapter({
    chatCompletionsPath: "/chat/completions",
    unsupportedParameters: OPENROUTER_EXTENSIONS,
  });
}
