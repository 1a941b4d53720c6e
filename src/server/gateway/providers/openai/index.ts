import { createOpenAICompatibleAdapter } from "../openai-compatible/adapter";
import { createOpenAICompatibleFamilyAdapter, OPENAI_OPTIONS } from "../openai-compatible/presets";
import { OPENAI_PARAMETERS } from "../capabilities";
import type { ProviderAdapter } from "../types";

/** OpenAI itself (`api.openai.com/v1/chat/completions`): a cheap pass-through with its reasoning models' rules. */
export function createOpenAIAdapter(): ProviderAdapter {
  return { ...createOpenAICompatibleAdapter(OPENAI_OPTIONS), supportedParameters: OPENAI_PARAMETERS };
}

/** `openai-compatible` channels: DeepSeek, OpenRouter, Groq, Mistral, xAI, Together, Fireworks, vLLM, Ollama, … */
export function createOpenAICompatibleChannelAdapter(): ProviderAdapter {
  return createOpenAICompatibleFamilyAdapter();
}
