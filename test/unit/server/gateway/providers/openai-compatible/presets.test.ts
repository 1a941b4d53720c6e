import { describe, expect, it } from "vitest";
import { createOpenAIAdapter } from "~/server/gateway/providers/openai";
import { createOpenAICompatibleFamilyAdapter } from "~/server/gateway/providers/openai-compatible/presets";
import type { ChatCompletionRequest } from "~/server/gateway/protocol/chat-completion-request";
import type { ResolvedChannel } from "~/server/gateway/routing/catalog";

type Body = Record<string, unknown>;

const channel = (kind: ResolvedChannel["kind"], provider: string): ResolvedChannel =>
  ({
    id: "c1",
    name: provider,
    kind,
    provider,
    baseUrl: "https://api.example.com/v1",
    apiKey: "sk-test",
  }) as ResolvedChannel;

/** A conversation as Claude Code sends it through /v1/messages: cache breakpoints, a failed tool, signed thinking. */
const request: ChatCompletionRequest = {
  model: "openai/gpt-4.1",
  messages: [
    { role: "system", content: [{ type: "text", text: "Be terse.", cache_control: { type: "ephemeral" } }] },
    { role: "user", content: "List the files." },
    {
      role: "assistant",
      content: null,
      reasoning: "I should list them.",
      reasoning_details: [
        { type: "reasoning.text", text: "I should list them.", signature: "sig", format: "anthropic-claude-v1" },
      ],
      tool_calls: [
        {
          id: "toolu_1",
          type: "function",
          function: { name: "ls", arguments: "{}" },
          cache_control: { type: "ephemeral" },
        },
      ],
    },
    {
      role: "tool",
      tool_call_id: "toolu_1",
      content: "permission denied",
      is_error: true,
      cache_control: { type: "ephemeral" },
    },
  ],
  tools: [
    {
      type: "function",
      function: { name: "ls", parameters: { type: "object" } },
      cache_control: { type: "ephemeral" },
    },
  ],
};

function sent(adapter: ReturnType<typeof createOpenAIAdapter>, target: ResolvedChannel): Body {
  const built = adapter.buildRequest({ request, upstreamModel: "gpt-4.1", channel: target, stream: false });
  return JSON.parse(built.body ?? "null") as Body;
}

describe("OpenAI's own API", () => {
  it("gets messages and tools without the fields it would refuse as unknown, and the request is left as it was", () => {
    const before = JSON.stringify(request);
    const body = sent(createOpenAIAdapter(), channel("openai", "openai"));
    expect(body.messages).toEqual([
      { role: "system", content: [{ type: "text", text: "Be terse." }] },
      { role: "user", content: "List the files." },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "toolu_1", type: "function", function: { name: "ls", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "permission denied" },
    ]);
    expect(body.tools).toEqual([{ type: "function", function: { name: "ls", parameters: { type: "object" } } }]);
    expect(JSON.stringify(request)).toBe(before);
  });

  it("sends plain messages as they are", () => {
    const plain = { model: "openai/gpt-4.1", messages: [{ role: "user", content: "Hi" }] } as ChatCompletionRequest;
    const built = createOpenAIAdapter().buildRequest({
      request: plain,
      upstreamModel: "gpt-4.1",
      channel: channel("openai", "openai"),
      stream: false,
    });
    expect((JSON.parse(built.body ?? "null") as Body).messages).toEqual(plain.messages);
  });
});

describe("OpenRouter", () => {
  it("gets the cache breakpoints and reasoning it understands", () => {
    const body = sent(createOpenAICompatibleFamilyAdapter(), channel("openai-compatible", "openrouter"));
    expect(body.messages).toEqual(request.messages);
    expect(body.tools).toEqual(request.tools);
  });
});
