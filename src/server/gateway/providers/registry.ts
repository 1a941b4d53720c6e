import type { ChannelKind, ResolvedChannel } from "../routing/catalog";
import { createAnthropicAdapter } from "./anthropic";
import { createGeminiAdapter } from "./gemini";
import { createOpenAIAdapter, createOpenAICompatibleChannelAdapter } from "./openai";
import type { ProviderAdapter, UpstreamTransport } from "./types";

export interface ProviderBinding {
  adapter: ProviderAdapter;
  transport: UpstreamTransport;
}

export interface ProviderRegistry {
  forChannel(channel: ResolvedChannel): ProviderBinding;
}

/**
 * Which adapter speaks to each channel kind. Each provider lives in its own folder and builds its adapter there;
 * this table only names them. The demo channel speaks OpenAI's format and is answered in-process.
 */
const adapters: Record<ChannelKind, ProviderAdapter> = {
  openai: createOpenAIAdapter(),
  "openai-compatible": createOpenAICompatibleChannelAdapter(),
  demo: createOpenAICompatibleChannelAdapter(),
  anthropic: createAnthropicAdapter(),
  gemini: createGeminiAdapter(),
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
