import type { ChannelKind, ResolvedChannel } from "../routing/catalog";
import { createOpenAICompatibleAdapter } from "./openai-compatible/adapter";
import type { ProviderAdapter, UpstreamTransport } from "./types";

export interface ProviderBinding {
  adapter: ProviderAdapter;
  transport: UpstreamTransport;
}

export interface ProviderRegistry {
  forChannel(channel: ResolvedChannel): ProviderBinding;
}

const openAIChat = createOpenAICompatibleAdapter({ chatCompletionsPath: "/chat/completions" });

/**
 * Which adapter speaks to each channel kind. Anthropic and Gemini channels use the providers' own OpenAI-compatible
 * endpoints until their native adapters land; the demo channel is answered in-process.
 */
const adapters: Record<ChannelKind, ProviderAdapter> = {
  openai: openAIChat,
  "openai-compatible": openAIChat,
  demo: openAIChat,
  anthropic: openAIChat,
  gemini: createOpenAICompatibleAdapter({ chatCompletionsPath: "/openai/chat/completions" }),
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
