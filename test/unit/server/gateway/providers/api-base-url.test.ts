import { describe, expect, it } from "vitest";
import { chatCompletionRequestSchema } from "~/server/gateway/protocol/chat-completion-request";
import { createAnthropicAdapter } from "~/server/gateway/providers/anthropic";
import { versionedBaseUrl } from "~/server/gateway/providers/api-base-url";
import { createGeminiAdapter } from "~/server/gateway/providers/gemini";
import { createOpenAIAdapter, createOpenAICompatibleChannelAdapter } from "~/server/gateway/providers/openai";
import type { ProviderAdapter } from "~/server/gateway/providers/types";
import type { ResolvedChannel } from "~/server/gateway/routing/catalog";

describe("versionedBaseUrl", () => {
  it.each([
    // The SDKs' form: no version, so the provider's is added.
    ["https://api.anthropic.com", "v1", "https://api.anthropic.com/v1"],
    ["https://api.anthropic.com/", "v1", "https://api.anthropic.com/v1"],
    ["https://generativelanguage.googleapis.com", "v1beta", "https://generativelanguage.googleapis.com/v1beta"],
    ["http://127.0.0.1:8080", "v1", "http://127.0.0.1:8080/v1"],
    // Tollgate's documented form: the version is there, never doubled.
    ["https://api.anthropic.com/v1", "v1", "https://api.anthropic.com/v1"],
    ["https://api.anthropic.com/v1/", "v1", "https://api.anthropic.com/v1"],
    ["https://api.anthropic.com/v1//", "v1", "https://api.anthropic.com/v1"],
    ["https://generativelanguage.googleapis.com/v1beta", "v1beta", "https://generativelanguage.googleapis.com/v1beta"],
    // Another version the operator chose is kept (Gemini's stable v1, an alpha).
    ["https://generativelanguage.googleapis.com/v1", "v1beta", "https://generativelanguage.googleapis.com/v1"],
    [
      "https://generativelanguage.googleapis.com/v1alpha",
      "v1beta",
      "https://generativelanguage.googleapis.com/v1alpha",
    ],
    ["https://proxy.example.com/anthropic/v1", "v1", "https://proxy.example.com/anthropic/v1"],
    // A proxy prefix without a version gets one, as the providers' SDKs would add it.
    ["https://proxy.example.com/anthropic", "v1", "https://proxy.example.com/anthropic/v1"],
    ["https://proxy.example.com/anthropic/", "v1", "https://proxy.example.com/anthropic/v1"],
    // A version earlier in the path (Cloudflare AI Gateway's own) is not the provider's.
    [
      "https://gateway.ai.cloudflare.com/v1/account/gateway/anthropic",
      "v1",
      "https://gateway.ai.cloudflare.com/v1/account/gateway/anthropic/v1",
    ],
    // Segments that only look like versions, and a host that does, are not versions.
    ["https://proxy.example.com/v1x", "v1", "https://proxy.example.com/v1x/v1"],
    ["https://proxy.example.com/api-v1", "v1", "https://proxy.example.com/api-v1/v1"],
    ["https://v1.example.com", "v1", "https://v1.example.com/v1"],
  ])("%s with %s → %s", (baseUrl, version, expected) => {
    expect(versionedBaseUrl(baseUrl, version)).toBe(expected);
  });
});

function channel(kind: ResolvedChannel["kind"], baseUrl: string): ResolvedChannel {
  return {
    id: "ch",
    name: kind,
    kind,
    provider: kind,
    baseUrl,
    apiKey: "k",
    priority: 0,
    weight: 1,
    retainsData: true,
  };
}

function urlOf(adapter: ProviderAdapter, kind: ResolvedChannel["kind"], baseUrl: string, stream = false): string {
  const request = chatCompletionRequestSchema.parse({ model: "m", messages: [{ role: "user", content: "hi" }] });
  return adapter.buildRequest({ request, upstreamModel: "m-1", channel: channel(kind, baseUrl), stream }).url;
}

describe("the adapters' upstream URL, for either form of base URL", () => {
  const anthropic = createAnthropicAdapter();
  const gemini = createGeminiAdapter();

  it("Anthropic: the SDK form and the form with /v1 both call /v1/messages", () => {
    for (const baseUrl of ["https://api.anthropic.com", "https://api.anthropic.com/", "https://api.anthropic.com/v1"]) {
      expect(urlOf(anthropic, "anthropic", baseUrl)).toBe("https://api.anthropic.com/v1/messages");
    }
    expect(urlOf(anthropic, "anthropic", "https://proxy.example.com/anthropic")).toBe(
      "https://proxy.example.com/anthropic/v1/messages",
    );
  });

  it("Gemini: the SDK form and the form with /v1beta both call /v1beta/models/…; /v1 stays /v1", () => {
    for (const baseUrl of [
      "https://generativelanguage.googleapis.com",
      "https://generativelanguage.googleapis.com/v1beta/",
    ]) {
      expect(urlOf(gemini, "gemini", baseUrl)).toBe(
        "https://generativelanguage.googleapis.com/v1beta/models/m-1:generateContent",
      );
      expect(urlOf(gemini, "gemini", baseUrl, true)).toBe(
        "https://generativelanguage.googleapis.com/v1beta/models/m-1:streamGenerateContent?alt=sse",
      );
    }
    expect(urlOf(gemini, "gemini", "https://generativelanguage.googleapis.com/v1")).toBe(
      "https://generativelanguage.googleapis.com/v1/models/m-1:generateContent",
    );
  });

  it("OpenAI and OpenAI-compatible: the base URL is used as given (the OpenAI SDK's form already has /v1)", () => {
    expect(urlOf(createOpenAIAdapter(), "openai", "https://api.openai.com/v1")).toBe(
      "https://api.openai.com/v1/chat/completions",
    );
    // Servers of the OpenAI family put the API under many paths; nothing is guessed.
    expect(urlOf(createOpenAICompatibleChannelAdapter(), "openai-compatible", "http://127.0.0.1:11434")).toBe(
      "http://127.0.0.1:11434/chat/completions",
    );
  });
});
