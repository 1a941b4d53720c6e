import type { ChannelKind, ResolvedChannel } from "../routing/catalog";
import { createOpenAICompatibleAdapter, OPENROUTER_EXTENSIONS } from "./openai-compatible/adapter";
import type { ProviderAdapter, UpstreamTransport } from "./types";

export interface ProviderBinding {
  adapter: ProviderAdapter;
  transport: UpstreamTransport;
}

export interface ProviderRegistry {
  forChannel(channel: ResolvedChannel): ProviderBinding;
}

/** Any OpenAI-compatible server (OpenRouter, vLLM, DeepSeek, …) gets every parameter: many accept the extras. */
const openAICompatibleChat = createOpenAICompatibleAdapter({ chatCompletionsPath: "/chat/completions" });
const openAIChat = createOpenAICompatibleAdapter({
  chatCompletionsPath: "/chat/completions",
  unsupportedParameters: OPENROUTER_EXTENSIONS,
});

/**
 * Which adapter speaks to each channel kind. Anthropic and Gemini channels use the providers' own OpenAI-compatible
 * endpoints until their native adapters land; the demo channel is answered in-process.
 */
const adapters: Record<ChannelKind, ProviderAdapter> = {
  openai: openAIChat,
  "openai-compatible": openAICompatibleChat,
  demo: openAICompatibleChat,
  anthropic: openAIChat,
  gemini: createOpenAICompatibleAdapter({
    chatCompletionsPath: "/openai/chat/completions",
    unsupportedParameters: OPENROUTER_EXTENSIONS,
  }),
};

export function createProviderRegistry(transports: {
  http: UpstreamTransport;
  demo: UpstreamTransport;
}): ProviderRegistry {
  return {
    forChannel(channel) {
      return {
        adapter: adapters[channel.kind],
        transport: channel.kind === "demo" ? transports.demo : transports.http,
      };
    },
  };
}
