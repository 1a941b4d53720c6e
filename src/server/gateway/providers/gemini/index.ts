import { createOpenAICompatibleAdapter, OPENROUTER_EXTENSIONS } from "../openai-compatible/adapter";
import type { ProviderAdapter } from "../types";

/**
 * Google Gemini channels. Until the native generateContent adapter lands, Gemini's OpenAI-compatible endpoint
 * (`{base}/openai/chat/completions`) serves them.
 */
export function createGeminiAdapter(): ProviderAdapter {
  return createOpenAICompatibleAdapter({
    chatCompletionsPath: "/openai/chat/completions",
    unsupportedParameters: OPENROUTER_EXTENSIONS,
  });
}
