import { describe, expect, it } from "vitest";
import { createAnthropicAdapter } from "~/server/gateway/providers/anthropic";
import { fixture, fixtureManifest } from "../../../../../helpers/fixtures";

type Body = Record<string, unknown>;

const adapter = createAnthropicAdapter();

function parse(name: string) {
  const recorded = JSON.parse(fixture(`anthropic/${name}`).body) as Body;
  const completion = adapter.parseResponse(recorded);
  return { recorded, completion, choice: completion.choices[0]!, message: completion.choices[0]!.message };
}

function usage(prompt: number, completion: number, cached = 0, written = 0) {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached, cache_write_tokens: written },
  };
}

describe("parseResponse over every recorded non-streamed Anthropic answer", () => {
  const answers = fixtureManifest()
    .filter((entry) => entry.provider === "anthropic" && entry.kind === "json" && entry.status === 200)
    .map((entry) => entry.name);

  it("covers them all", () => {
    expect([...answers].sort()).toEqual([
      "image-url",
      "parallel-tool-use",
      "prompt-cache-read-and-write",
      "text",
      "thinking-tool-result-followup",
      "thinking-tool-use",
      "tool-result-followup",
    ]);
  });

  it.each(answers)("%s keeps Anthropic's id and model and converts usage", (name) => {
    const { recorded, completion, choice } = parse(name);
    expect(completion).toMatchObject({ id: recorded.id, model: recorded.model, object: "chat.completion" });
    expect(choice).toMatchObject({ index: 0, logprobs: null, native_finish_reason: recorded.stop_reason });
    expect(completion).toMatchSnapshot();
  });

  it("text: plain content, end_turn is stop", () => {
    const { choice, completion } = parse("text");
    expect(choice.message).toEqual({ role: "assistant", content: "The capital of France is Paris.", refusal: null });
    expect(choice.finish_reason).toBe("stop");
    expect(completion.usage).toEqual(usage(20, 10));
  });

  it("image-url: the answer about the image", () => {
    const { message, completion } = parse("image-url");
    expect(message.content).toMatch(/^This is a potato\./);
    expect(completion.usage).toEqual(usage(296, 91));
  });

  it("parallel-tool-use: text and four tool calls in one turn, finishing with tool_calls", () => {
    const { message, choice, completion } = parse("parallel-tool-use");
    expect(message.content).toBe(
      "I'll help you find out who is the youngest by retrieving information about each family member. I'll retrieve their entity information to compare their ages.",
    );
    expect(message.tool_calls).toEqual(
      [
        ["toolu_0167cfEnoQaPviGdVXA95zcu", "Alice"],
        ["toolu_01EEe2V5HD1Ac4rKiUR4HD2T", "Bob"],
        ["toolu_01XFyAjstT3966qvRynZyVPo", "Charlie"],
        ["toolu_013mnQZbgtK2oe3Mo3XKJsx3", "Daisy"],
      ].map(([id, name]) => ({
        id,
        type: "function",
        function: { name: "retrieve_entity_info", arguments: JSON.stringify({ name }) },
      })),
    );
    expect(choice.finish_reason).toBe("tool_calls");
    expect(completion.usage).toEqual(usage(423, 202));
  });

  it("tool-result-followup: the final answer", () => {
    const { message, choice, completion } = parse("tool-result-followup");
    expect(message.content).toMatch(/Daisy is the youngest/);
    expect(message.tool_calls).toBeUndefined();
    expect(choice.finish_reason).toBe("stop");
    expect(completion.usage).toEqual(usage(771, 77));
  });

  it("thinking-tool-use: reasoning with its signature, text, and an argument-less call as `{}`", () => {
    const { recorded, message, choice, completion } = parse("thinking-tool-use");
    const thinking = (recorded.content as Body[])[0]!;
    expect(message.reasoning).toBe(thinking.thinking);
    expect(message.reasoning_details).toEqual([
      {
        type: "reasoning.text",
        text: thinking.thinking,
        signature: thinking.signature,
        format: "anthropic-claude-v1",
        index: 0,
      },
    ]);
    expect(message.content).toBe(
      "I'll help you find the largest city in your country. First, let me determine which country you're from.",
    );
    expect(message.tool_calls).toEqual([
      {
        id: "toolu_01YGzqpRE16Vricda3Aqcejo",
        type: "function",
        function: { name: "get_user_country", arguments: "{}" },
      },
    ]);
    expect(choice.finish_reason).toBe("tool_calls");
    expect(completion.usage).toEqual(usage(398, 155));
  });

  it("thinking-tool-result-followup: the answer after the tool result", () => {
    const { message, completion } = parse("thinking-tool-result-followup");
    expect(message.content).toMatch(/^Based on the information that you're from Mexico/);
    expect(message.reasoning).toBeUndefined();
    expect(completion.usage).toEqual(usage(566, 126));
  });

  it("prompt-cache-read-and-write: prompt = input + cache read + cache write, each broken out", () => {
    const { completion } = parse("prompt-cache-read-and-write");
    expect(completion.usage).toEqual(usage(3 + 1111 + 418, 33, 1111, 418));
    expect(adapter.parseUsage(completion.usage)).toEqual({
      promptTokens: 1532,
      completionTokens: 33,
      cachedTokens: 1111,
      cacheWriteTokens: 418,
      reasoningTokens: 0,
    });
  });
});

describe("parseResponse beyond the recordings", () => {
  const base = {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-haiku-4-5-20251001",
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };

  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["pause_turn", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
  ])("maps stop_reason %s to %s", (stopReason, finish) => {
    const completion = adapter.parseResponse({
      ...base,
      content: [{ type: "text", text: "x" }],
      stop_reason: stopReason,
    });
    expect(completion.choices[0]).toMatchObject({ finish_reason: finish, native_finish_reason: stopReason });
  });

  it("returns a json_object answer given through the JSON tool as content, finishing with stop", () => {
    const completion = adapter.parseResponse({
      ...base,
      content: [{ type: "tool_use", id: "toolu_1", name: "tollgate_json_response", input: { answer: 42 } }],
      stop_reason: "tool_use",
    });
    expect(completion.choices[0]).toMatchObject({
      message: { role: "assistant", content: '{"answer":42}', refusal: null },
      finish_reason: "stop",
    });
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
  });

  it("returns redacted thinking as an encrypted reasoning detail", () => {
    const completion = adapter.parseResponse({
      ...base,
      content: [
        { type: "redacted_thinking", data: "opaque" },
        { type: "text", text: "Hi" },
      ],
      stop_reason: "end_turn",
    });
    expect(completion.choices[0]?.message).toEqual({
      role: "assistant",
      content: "Hi",
      refusal: null,
      reasoning_details: [{ type: "reasoning.encrypted", data: "opaque", format: "anthropic-claude-v1", index: 0 }],
    });
  });

  it("refuses a body that is not a message", () => {
    expect(() => adapter.parseResponse({ content: "nope" })).toThrow();
  });
});
