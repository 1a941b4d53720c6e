import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { GatewayError } from "~/server/gateway/errors";
import { chatCompletionRequestSchema } from "~/server/gateway/protocol/chat-completion-request";
import { createAnthropicAdapter } from "~/server/gateway/providers/anthropic";
import { JSON_RESPONSE_TOOL } from "~/server/gateway/providers/anthropic/request";
import type { BuildRequestInput } from "~/server/gateway/providers/types";
import type { ResolvedChannel } from "~/server/gateway/routing/catalog";
import { parseSse } from "~/server/gateway/sse/parse-sse";
import { fixture, fixtureManifest } from "../../../../../helpers/fixtures";
import { accumulateChunks } from "./accumulate-chunks";
import { expectedAnthropicRequest, openAIEquivalent } from "./openai-equivalents";

type Body = Record<string, unknown>;

const adapter = createAnthropicAdapter();

const channel: ResolvedChannel = {
  id: "channel-1",
  name: "anthropic",
  kind: "anthropic",
  provider: "anthropic",
  baseUrl: "https://api.anthropic.com/v1/",
  apiKey: "sk-ant-test",
  priority: 0,
  weight: 1,
  retainsData: true,
};

function build(body: Body, options: Partial<Omit<BuildRequestInput, "request">> = {}) {
  const request = chatCompletionRequestSchema.parse({ model: "anthropic/claude-haiku-4.5", ...body });
  const built = adapter.buildRequest({
    request,
    upstreamModel: "claude-haiku-4-5",
    channel,
    stream: false,
    maxOutputTokens: 64000,
    ...options,
  });
  return { ...built, json: JSON.parse(built.body ?? "null") as Body };
}

const user = (content: unknown) => ({ role: "user", content });

describe("the recorded Anthropic requests, rebuilt from their OpenAI equivalents", () => {
  const recorded = fixtureManifest().filter((entry) => entry.provider === "anthropic" && entry.request !== null);

  it("covers every recorded request", () => {
    expect(recorded.map((entry) => entry.name).sort()).toEqual([
      "error-400-invalid-request",
      "error-404-not-found",
      "image-base64-stream",
      "image-url",
      "json-output-format-stream",
      "parallel-tool-use",
      "prompt-cache-read-and-write",
      "redacted-thinking-stream",
      "stop-sequence-prefill-stream",
      "text",
      "text-stream",
      "thinking-stream",
      "thinking-tool-result-followup",
      "thinking-tool-use",
      "tool-result-followup",
      "tool-use-stream",
    ]);
  });

  it.each(recorded.map((entry) => entry.name))("%s", (name) => {
    const expected = expectedAnthropicRequest(name);
    const built = build(openAIEquivalent(name), {
      upstreamModel: expected.model as string,
      stream: expected.stream === true,
    });
    expect(built.json).toEqual(expected);
    expect(built.droppedParameters).toBeUndefined();
  });
});

describe("buildRequest", () => {
  it("calls {base}/messages with the channel key in x-api-key and the API version, never a bearer token", () => {
    const built = build({ messages: [user("hi")] }, { stream: true });
    expect(built.url).toBe("https://api.anthropic.com/v1/messages");
    expect(built.method).toBe("POST");
    expect(built.headers).toEqual({
      "content-type": "application/json",
      accept: "text/event-stream",
      "anthropic-version": "2023-06-01",
      "x-api-key": "sk-ant-test",
    });
    expect(built.json).toMatchObject({ stream: true });
  });

  it("always sends max_tokens: the client's, else the model's largest output, else 4096", () => {
    expect(build({ messages: [user("hi")], max_tokens: 100 }).json.max_tokens).toBe(100);
    expect(build({ messages: [user("hi")], max_tokens: 100, max_completion_tokens: 50 }).json.max_tokens).toBe(50);
    expect(build({ messages: [user("hi")] }).json.max_tokens).toBe(64000);
    expect(build({ messages: [user("hi")] }, { maxOutputTokens: undefined }).json.max_tokens).toBe(4096);
  });

  it("hoists system and developer messages into `system`, keeping cache_control on their parts", () => {
    const { json } = build({
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "developer",
          content: [{ type: "text", text: "Long instructions", cache_control: { type: "ephemeral" } }],
        },
        user("hi"),
      ],
    });
    expect(json.system).toEqual([
      { type: "text", text: "Be brief." },
      { type: "text", text: "Long instructions", cache_control: { type: "ephemeral" } },
    ]);
    expect(json.messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }] }]);
  });

  it("merges consecutive turns of the same role", () => {
    const { json } = build({
      messages: [user("one"), user("two"), { role: "assistant", content: "a" }, { role: "assistant", content: "b" }],
    });
    expect(json.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "one" },
          { type: "text", text: "two" },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
    ]);
  });

  it("sends an https image as a url source and a data URI as base64 with its media type", () => {
    const { json } = build({
      messages: [
        user([
          {
            type: "image_url",
            image_url: { url: "https://example.com/cat.png" },
            cache_control: { type: "ephemeral" },
          },
          { type: "image_url", image_url: { url: "data:image/jpg;base64,/9j/4AAQSkZJRg==" } },
          { type: "text", text: "What are these?" },
        ]),
      ],
    });
    expect(json.messages).toEqual([
      {
        role: "user",
        content: [
          {
            type: "image",
            source: { type: "url", url: "https://example.com/cat.png" },
            cache_control: { type: "ephemeral" },
          },
          { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQSkZJRg==" } },
          { type: "text", text: "What are these?" },
        ],
      },
    ]);
  });

  it("sends a PDF file part as a document block", () => {
    const { json } = build({
      messages: [
        user([{ type: "file", file: { filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0=" } }]),
      ],
    });
    expect((json.messages as Body[])[0]).toEqual({
      role: "user",
      content: [
        {
          type: "document",
          source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" },
          title: "a.pdf",
        },
      ],
    });
  });

  it("refuses audio input and the deprecated function role with a 400 naming the part", () => {
    const audio = () =>
      build({ messages: [user([{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }])] });
    expect(audio).toThrow(GatewayError);
    expect(audio).toThrow(expect.objectContaining({ status: 400, param: "messages[0].content[0]" }) as Error);
    const fn = () => build({ messages: [user("hi"), { role: "function", name: "f", content: "x" }] });
    expect(fn).toThrow(expect.objectContaining({ status: 400, param: "messages[1].role" }) as Error);
  });

  it("converts tools to input_schema, giving a parameterless tool an empty object schema", () => {
    const { json } = build({
      messages: [user("hi")],
      tools: [
        { type: "function", function: { name: "now" } },
        {
          type: "function",
          function: { name: "add", description: "Adds", parameters: { type: "object", properties: {} }, strict: true },
        },
      ],
    });
    expect(json.tools).toEqual([
      { name: "now", input_schema: { type: "object", properties: {} } },
      { name: "add", description: "Adds", input_schema: { type: "object", properties: {} }, strict: true },
    ]);
    expect(json.tool_choice).toBeUndefined();
  });

  it.each([
    ["auto", { type: "auto" }],
    ["required", { type: "any" }],
    ["none", { type: "none" }],
    [
      { type: "function", function: { name: "now" } },
      { type: "tool", name: "now" },
    ],
  ])("maps tool_choice %j to %j", (choice, expected) => {
    const tools = [{ type: "function", function: { name: "now" } }];
    expect(build({ messages: [user("hi")], tools, tool_choice: choice }).json.tool_choice).toEqual(expected);
  });

  it("turns parallel_tool_calls: false into disable_parallel_tool_use", () => {
    const tools = [{ type: "function", function: { name: "now" } }];
    expect(build({ messages: [user("hi")], tools, parallel_tool_calls: false }).json.tool_choice).toEqual({
      type: "auto",
      disable_parallel_tool_use: true,
    });
    expect(
      build({ messages: [user("hi")], tools, tool_choice: "required", parallel_tool_calls: false }).json.tool_choice,
    ).toEqual({ type: "any", disable_parallel_tool_use: true });
    // Without tools there is nothing to choose.
    expect(build({ messages: [user("hi")], tool_choice: "auto" }).json.tool_choice).toBeUndefined();
  });

  it("sends empty tool-call arguments as an empty input object and refuses arguments that are not an object", () => {
    const call = (args: string) => ({
      role: "assistant",
      content: null,
      tool_calls: [{ id: "toolu_1", type: "function", function: { name: "now", arguments: args } }],
    });
    const { json } = build({
      messages: [user("time?"), call(""), { role: "tool", tool_call_id: "toolu_1", content: "noon" }],
    });
    expect((json.messages as Body[])[1]).toEqual({
      role: "assistant",
      content: [{ type: "tool_use", id: "toolu_1", name: "now", input: {} }],
    });
    expect(() => build({ messages: [user("time?"), call("[1]")] })).toThrow(
      expect.objectContaining({ status: 400, param: "messages[1].tool_calls[0].function.arguments" }) as Error,
    );
  });

  it("groups the results of parallel calls in one user turn, ahead of the user's next words", () => {
    const { json } = build({
      messages: [
        user("weather in Paris and Rome?"),
        {
          role: "assistant",
          content: "Checking both.",
          tool_calls: [
            { id: "toolu_a", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
            { id: "toolu_b", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_a", content: "sunny" },
        { role: "tool", tool_call_id: "toolu_b", content: [{ type: "text", text: "rain" }] },
        user("and tomorrow?"),
      ],
    });
    expect(json.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "weather in Paris and Rome?" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking both." },
          { type: "tool_use", id: "toolu_a", name: "weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_b", name: "weather", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_a", content: "sunny" },
          { type: "tool_result", tool_use_id: "toolu_b", content: [{ type: "text", text: "rain" }] },
          { type: "text", text: "and tomorrow?" },
        ],
      },
    ]);
  });

  it("sends stop as stop_sequences, clamps temperature to 0..1 and passes top_p and top_k", () => {
    const { json, droppedParameters } = build({
      messages: [user("hi")],
      stop: "END",
      temperature: 1.7,
      top_p: 0.9,
      top_k: 40,
      user: "user-42",
    });
    expect(json).toMatchObject({
      stop_sequences: ["END"],
      temperature: 1,
      top_p: 0.9,
      top_k: 40,
      metadata: { user_id: "user-42" },
    });
    expect(droppedParameters).toBeUndefined();
    expect(build({ messages: [user("hi")], stop: ["a", "b"], temperature: 0.2 }).json).toMatchObject({
      stop_sequences: ["a", "b"],
      temperature: 0.2,
    });
  });

  it("reports the OpenAI parameters Anthropic has no use for, and leaves them out", () => {
    const { json, droppedParameters } = build({
      messages: [user("hi")],
      frequency_penalty: 0.5,
      seed: 7,
      logprobs: true,
      metadata: { team: "a" },
      models: ["anthropic/claude-haiku-4.5"],
      provider: { sort: "price" },
    });
    expect(droppedParameters).toEqual(["frequency_penalty", "seed", "logprobs", "metadata"]);
    for (const field of ["frequency_penalty", "seed", "logprobs", "metadata", "models", "provider"]) {
      expect(json[field]).toBeUndefined();
    }
  });

  it("asks for native structured output for json_schema", () => {
    const schema = {
      type: "object",
      properties: { a: { type: "string" } },
      required: ["a"],
      additionalProperties: false,
    };
    const { json } = build({
      messages: [user("hi")],
      response_format: { type: "json_schema", json_schema: { name: "thing", schema, strict: true } },
    });
    expect(json.output_config).toEqual({ format: { type: "json_schema", schema } });
    expect(json.tools).toBeUndefined();
  });

  it("forces a JSON tool for json_object, or requires some tool when the client has its own", () => {
    const alone = build({ messages: [user("hi")], response_format: { type: "json_object" } }).json;
    expect(alone.tools).toEqual([
      expect.objectContaining({ name: JSON_RESPONSE_TOOL, input_schema: { type: "object" } }),
    ]);
    expect(alone.tool_choice).toEqual({ type: "tool", name: JSON_RESPONSE_TOOL });
    const withTools = build({
      messages: [user("hi")],
      tools: [{ type: "function", function: { name: "now" } }],
      response_format: { type: "json_object" },
    }).json;
    expect((withTools.tools as Body[]).map((tool) => tool.name)).toEqual(["now", JSON_RESPONSE_TOOL]);
    expect(withTools.tool_choice).toEqual({ type: "any" });
    // Anthropic refuses forced tool use while thinking: the tool is only offered.
    const thinking = build({
      messages: [user("hi")],
      reasoning_effort: "low",
      response_format: { type: "json_object" },
    }).json;
    expect(thinking.tool_choice).toEqual({ type: "auto" });
  });

  describe("thinking", () => {
    it("turns reasoning_effort into a budget that is a share of max_tokens", () => {
      expect(build({ messages: [user("hi")], max_tokens: 10000, reasoning_effort: "high" }).json.thinking).toEqual({
        type: "enabled",
        budget_tokens: 8000,
      });
      expect(build({ messages: [user("hi")], max_tokens: 10000, reasoning_effort: "low" }).json.thinking).toEqual({
        type: "enabled",
        budget_tokens: 2000,
      });
      // The default max_tokens is the model's largest output.
      expect(build({ messages: [user("hi")], reasoning_effort: "medium" }).json.thinking).toEqual({
        type: "enabled",
        budget_tokens: 32000,
      });
    });

    it("never budgets less than 1024 tokens", () => {
      expect(
        build({ messages: [user("hi")], max_tokens: 2000, reasoning: { effort: "minimal" } }).json.thinking,
      ).toEqual({
        type: "enabled",
        budget_tokens: 1024,
      });
      expect(build({ messages: [user("hi")], reasoning: { max_tokens: 10 } }).json.thinking).toEqual({
        type: "enabled",
        budget_tokens: 1024,
      });
    });

    it("takes the reasoning object's budget, and stays off when reasoning is disabled", () => {
      expect(build({ messages: [user("hi")], reasoning: { max_tokens: 5000 } }).json.thinking).toEqual({
        type: "enabled",
        budget_tokens: 5000,
      });
      expect(build({ messages: [user("hi")], reasoning: { enabled: false } }).json.thinking).toBeUndefined();
      expect(build({ messages: [user("hi")], reasoning_effort: "none" }).json.thinking).toBeUndefined();
      expect(build({ messages: [user("hi")] }).json.thinking).toBeUndefined();
    });

    it("thinks for a -thinking model and sends the model without the suffix", () => {
      const { json } = build(
        { messages: [user("hi")], max_tokens: 4000 },
        { upstreamModel: "claude-sonnet-4-5-thinking" },
      );
      expect(json.model).toBe("claude-sonnet-4-5");
      expect(json.thinking).toEqual({ type: "enabled", budget_tokens: 2000 });
    });

    it("leaves out the sampling parameters Anthropic refuses while thinking, and says so", () => {
      const { json, droppedParameters } = build({
        messages: [user("hi")],
        reasoning_effort: "low",
        temperature: 0.2,
        top_k: 5,
        top_p: 0.5,
      });
      expect(json.temperature).toBeUndefined();
      expect(json.top_k).toBeUndefined();
      expect(json.top_p).toBeUndefined();
      expect(droppedParameters).toEqual(["temperature", "top_p", "top_k"]);
    });

    it("sends reasoning_details back as thinking blocks ahead of the turn's text and tool calls", () => {
      const { json } = build({
        reasoning_effort: "low",
        messages: [
          user("weather?"),
          {
            role: "assistant",
            content: "Let me check.",
            reasoning_details: [
              { type: "reasoning.text", text: "I should ", format: "anthropic-claude-v1", index: 0 },
              { type: "reasoning.text", text: "call it.", format: "anthropic-claude-v1", index: 0 },
              { type: "reasoning.text", text: "", signature: "sig-1", format: "anthropic-claude-v1", index: 0 },
              { type: "reasoning.encrypted", data: "opaque", format: "anthropic-claude-v1", index: 1 },
              // Not Anthropic's, or unsigned: Anthropic would refuse them.
              { type: "reasoning.text", text: "other", signature: "x", format: "openai-responses-v1", index: 2 },
              { type: "reasoning.text", text: "unsigned", format: "anthropic-claude-v1", index: 3 },
              { type: "reasoning.summary", summary: "s", index: 4 },
            ],
            tool_calls: [{ id: "toolu_1", type: "function", function: { name: "weather", arguments: "{}" } }],
          },
          { role: "tool", tool_call_id: "toolu_1", content: "sunny" },
        ],
      });
      expect((json.messages as Body[])[1]).toEqual({
        role: "assistant",
        content: [
          { type: "thinking", thinking: "I should call it.", signature: "sig-1" },
          { type: "redacted_thinking", data: "opaque" },
          { type: "text", text: "Let me check." },
          { type: "tool_use", id: "toolu_1", name: "weather", input: {} },
        ],
      });
    });
  });

  it("passes cache_control through on text parts and at the top level", () => {
    const { json } = build({
      cache_control: { type: "ephemeral" },
      messages: [user([{ type: "text", text: "big context", cache_control: { type: "ephemeral", ttl: "1h" } }])],
    });
    expect(json.cache_control).toEqual({ type: "ephemeral" });
    expect(json.messages).toEqual([
      {
        role: "user",
        content: [{ type: "text", text: "big context", cache_control: { type: "ephemeral", ttl: "1h" } }],
      },
    ]);
  });
});

describe("thinking across turns", () => {
  it("the message parseResponse returned, sent back with its tool result, is the recorded follow-up", () => {
    const answer = adapter.parseResponse(JSON.parse(fixture("anthropic/thinking-tool-use").body));
    const first = openAIEquivalent("thinking-tool-use");
    const turn = answer.choices[0]!.message;
    const callId = (turn.tool_calls as { id: string }[])[0]!.id;
    const expected = expectedAnthropicRequest("thinking-tool-result-followup");
    const built = build(
      {
        ...first,
        messages: [...(first.messages as Body[]), turn, { role: "tool", tool_call_id: callId, content: "Mexico" }],
      },
      { upstreamModel: expected.model as string },
    );
    expect(built.json).toEqual(expected);
  });

  it("the reasoning_details a client assembled from the stream go back as the signed thinking block", async () => {
    const transform = adapter.createStreamTransformer();
    const chunks: Body[] = [];
    for await (const events of parseSse(
      Readable.from([new TextEncoder().encode(fixture("anthropic/thinking-stream").body)]),
    )) {
      for (const event of events) {
        for (const item of transform(event)) if (item.type === "chunk") chunks.push(item.chunk);
      }
    }
    const streamed = accumulateChunks(chunks);
    const built = build({
      reasoning: { max_tokens: 1024 },
      messages: [
        user("Two names for a pet pelican, be brief"),
        { role: "assistant", content: streamed.content, reasoning_details: streamed.reasoningDetails },
        user("Another?"),
      ],
    });
    const [thinking, text] = ((built.json.messages as Body[])[1]!.content as Body[]) ?? [];
    expect(thinking).toEqual({
      type: "thinking",
      thinking: streamed.reasoning,
      signature: streamed.reasoningDetails[0]?.signature,
    });
    expect(typeof thinking?.signature).toBe("string");
    expect(text).toEqual({ type: "text", text: streamed.content });
  });
});
