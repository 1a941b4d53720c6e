import { createOpenAICompatibleAdapter, OPENROUTER_EXTENSIONS } from "../openai-compatible/adapter";
import type { ProviderAdapter } from "../types";

/** OpenAI itself: its API refuses parameters it does not know, so OpenRouter's extensions are dropped. */
export function createOpenAIAdapter(): ProviderAdapter {
  return createOpenAICompatibleAdapter({
    chatCompletionsPath: "/chat/completions",
    unsupportedParameters: OPENROUTER_EXTENSIONS,
  });
}

/** Any other OpenAI-compatible server (OpenRouter, vLLM, DeepSeek, …) gets every parameter: many accept the extras. */
export function createOpenAICompatibleChannelAdapter(): ProviderAdapter {
  return createOpenAICompatibleAdapter({ chatCompletionsPath: "/chat/completions" });
}
