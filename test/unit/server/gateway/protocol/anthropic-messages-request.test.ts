import { describe, expect, it } from "vitest";
import {
  ANTHROPIC_BETA_ALLOWLIST,
  anthropicBetasFrom,
  anthropicMessagesRequestSchema,
  anthropicOptionsOf,
  toChatRequest,
} from "~/server/gateway/protocol/anthropic-messages-request";
import {
  chatCompletionRequestSchema,
  type ChatCompletionRequest,
} from "~/server/gateway/protocol/chat-completion-request";
import { describeIssue } from "~/server/gateway/protocol/describe-issue";
import { createAnthropicAdapter } from "~/server/gateway/providers/anthropic";
import { REASONING_FORMAT } from "~/server/gateway/providers/anthropic/reasoning";
import { createGeminiAdapter } from "~/server/gateway/providers/gemini";
import type { AnthropicOptions } from "~/server/gateway/providers/types";
import type { ResolvedChannel } from "~/server/gateway/routing/catalog";
import { fixture, fixtureManifest } from "../../../../helpers/fixtures";

type Body = Record<string, unknown>;
type Block = Body & { type: string };
type AnthropicMessage = { role: string; content: string | Block[] };

const anthropic = createAnthropicAdapter();

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

const geminiChannel: ResolvedChannel = {
  ...channel,
  id: "channel-2",
  name: "gemini",
  kind: "gemini",
  provider: "google",
  baseUrl: "https://generativelanguage.googleapis.com",
};

/** A Messages body as the door receives it: `model` and `max_tokens` filled in unless given. */
function parse(body: Body) {
  return anthropicMessagesRequestSchema.parse({ model: "anthropic/claude-sonnet-4.5", max_tokens: 1024, ...body });
}

function translate(body: Body): ChatCompletionRequest {
  return toChatRequest(parse(body));
}

/** What the Anthropic adapter sends upstream for a common request (and the door's Anthropic-only options). */
function upstream(request: ChatCompletionRequest, upstreamModel = "claude-sonnet-4-5", options?: AnthropicOptions) {
  const built = anthropic.buildRequest({
    request,
    upstreamModel,
    channel,
    stream: request.stream === true,
    maxOutputTokens: 64000,
    ...(options === undefined ? {} : { anthropic: options }),
  });
  return { ...built, json: JSON.parse(built.body ?? "null") as Body };
}

/** A Messages request through the door to an Anthropic channel: translated, then built with its options. */
function roundTrip(original: Body, upstreamModel?: string) {
  const parsed = anthropicMessagesRequestSchema.parse(original);
  return upstream(toChatRequest(parsed), upstreamModel, anthropicOptionsOf(parsed, undefined));
}

/** The first issue a client would be told about, in the words the door's 400 uses. */
function refusal(body: Body) {
  const input = { model: "anthropic/claude-sonnet-4.5", max_tokens: 1024, ...body };
  const result = anthropicMessagesRequestSchema.safeParse(input);
  expect(result.success).toBe(false);
  return describeIssue(result.error!.issues[0]!, input);
}

const user = (content: unknown) => ({ role: "user", content });
const assistant = (content: unknown) => ({ role: "assistant", content });

/** 1×1 transparent PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const PDF = "JVBERi0xLjQK";

describe("the recorded Anthropic requests, through the Messages door and back to Anthropic", () => {
  const recorded = fixtureManifest().filter((entry) => entry.provider === "anthropic" && entry.request !== null);

  function recordedRequest(name: string): Body {
    return fixture(`anthropic/${name}`).requestBody as Body;
  }

  /**
   * The recorded request as the round trip must give it back. Only these differ, each for a reason:
   * - `is_error: false` on a tool result is dropped: it is Anthropic's default, so its absence means the same;
   * - `output_config.effort` without adaptive thinking is not carried (see `toChatRequest`): the common request has
   *   no field the Anthropic adapter would send it back from.
   */
  function expectedUpstream(name: string): Body {
    const expected = structuredClone(recordedRequest(name));
    for (const message of expected.messages as AnthropicMessage[]) {
      if (typeof message.content === "string") continue;
      for (const block of message.content) {
        if (block.type === "tool_result" && block.is_error === false) delete block.is_error;
      }
    }
    if (name === "error-400-invalid-request") delete expected.output_config;
    return expected;
  }

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

  it.each(recorded.map((entry) => entry.name))("%s survives Anthropic → common → Anthropic", (name) => {
    const original = recordedRequest(name);
    const built = roundTrip(original, original.model as string);
    expect(built.json).toEqual(expectedUpstream(name));
    expect(built.droppedParameters).toBeUndefined();
  });

  it("keeps is_error: false only in the meaning: the recorded follow-ups lose the default flag, nothing else", () => {
    const original = recordedRequest("tool-result-followup");
    const built = upstream(toChatRequest(anthropicMessagesRequestSchema.parse(original)), original.model as string);
    const results = ((built.json.messages as AnthropicMessage[])[2]!.content as Block[]).map((block) => block.is_error);
    expect(results).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("does not carry output_config.effort without adaptive thinking (error-400-invalid-request sent one)", () => {
    const original = recordedRequest("error-400-invalid-request");
    expect(original.output_config).toEqual({ effort: "xhigh" });
    const request = toChatRequest(anthropicMessagesRequestSchema.parse(original));
    expect(request.reasoning).toBeUndefined();
    expect(upstream(request, original.model as string).json.output_config).toBeUndefined();
  });
});

describe("a request using every block type, Anthropic → common → Anthropic", () => {
  const cache = { type: "ephemeral" } as const;
  const original = {
    model: "anthropic/claude-sonnet-4.5",
    max_tokens: 2048,
    system: [
      { type: "text", text: "You are terse." },
      { type: "text", text: "Long shared instructions.", cache_control: cache },
    ],
    messages: [
      user([
        { type: "image", source: { type: "base64", media_type: "image/png", data: PNG }, cache_control: cache },
        { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
        { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF }, title: "a.pdf" },
        { type: "document", source: { type: "url", url: "https://example.com/b.pdf" }, title: "b.pdf" },
        { type: "text", text: "Compare them.", cache_control: cache },
      ]),
      assistant([
        { type: "thinking", thinking: "Look first.", signature: "sig-1" },
        { type: "redacted_thinking", data: "opaque" },
        { type: "text", text: "Checking." },
        { type: "text", text: "One moment." },
        { type: "tool_use", id: "toolu_1", name: "lookup", input: { q: "cat" }, cache_control: cache },
        { type: "tool_use", id: "toolu_2", name: "lookup", input: {} },
      ]),
      user([
        { type: "tool_result", tool_use_id: "toolu_1", content: "a cat", cache_control: cache },
        { type: "tool_result", tool_use_id: "toolu_2", content: "not found", is_error: true },
        { type: "text", text: "Go on." },
      ]),
    ],
    tools: [
      {
        name: "lookup",
        description: "Looks things up",
        input_schema: { type: "object", properties: { q: { type: "string" } } },
        strict: true,
        cache_control: cache,
      },
    ],
    tool_choice: { type: "any", disable_parallel_tool_use: true },
    thinking: { type: "enabled", budget_tokens: 1024 },
    stop_sequences: ["END", "STOP", "HALT", "QUIT", "DONE"],
    temperature: 1,
    metadata: { user_id: "user-42" },
    cache_control: { type: "ephemeral", ttl: "1h" },
    stream: true,
  };

  it("gives Anthropic back the same request", () => {
    const built = roundTrip(original);
    expect(built.json).toEqual({
      ...original,
      model: "claude-sonnet-4-5",
      messages: [
        original.messages[0],
        // Signed thinking, then the text, then the calls: the order Anthropic answers in.
        original.messages[1],
        original.messages[2],
      ],
    });
    expect(built.droppedParameters).toBeUndefined();
  });

  it("is valid as a common request too (apart from the fifth stop sequence, which OpenAI's schema would refuse)", () => {
    const request = toChatRequest(anthropicMessagesRequestSchema.parse(original));
    const checked = chatCompletionRequestSchema.safeParse({ ...request, stop: (request.stop as string[]).slice(0, 4) });
    expect(checked.error?.issues).toBeUndefined();
  });
});

describe("what does not survive the round trip, and how it comes back", () => {
  it("a text document comes back as a text block (its title is Anthropic's alone)", () => {
    const request = translate({
      messages: [
        user([
          {
            type: "document",
            source: { type: "text", media_type: "text/plain", data: "Plain notes." },
            title: "notes.txt",
            cache_control: { type: "ephemeral" },
          },
        ]),
      ],
    });
    expect(upstream(request).json.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Plain notes.", cache_control: { type: "ephemeral" } }] },
    ]);
  });

  it("a PDF without a title comes back titled document.pdf (OpenAI's file parts want a filename)", () => {
    const request = translate({
      messages: [user([{ type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF } }])],
    });
    expect(upstream(request).json.messages).toEqual([
      {
        role: "user",
        content: [
          {
            type: "document",
            source: { type: "base64", media_type: "application/pdf", data: PDF },
            title: "document.pdf",
          },
        ],
      },
    ]);
  });

  it("a tool result's text blocks come back as one string, its images after the tool results", () => {
    const request = translate({
      messages: [
        user("draw"),
        assistant([{ type: "tool_use", id: "toolu_1", name: "render", input: {} }]),
        user([
          {
            type: "tool_result",
            tool_use_id: "toolu_1",
            content: [
              { type: "text", text: "Rendered:" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
              { type: "text", text: "done" },
            ],
          },
        ]),
      ],
    });
    expect((upstream(request).json.messages as AnthropicMessage[])[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: "Rendered:\n\ndone" },
        { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
      ],
    });
  });

  it("text after a tool call moves before the calls, and output_format comes back as output_config.format", () => {
    const schema = { type: "object", properties: { a: { type: "string" } } };
    const request = translate({
      output_format: { type: "json_schema", schema },
      messages: [
        user("hi"),
        assistant([
          { type: "text", text: "Calling." },
          { type: "tool_use", id: "toolu_1", name: "now", input: {} },
          { type: "text", text: "Called." },
        ]),
      ],
    });
    const { json } = upstream(request);
    expect((json.messages as AnthropicMessage[])[1]!.content).toEqual([
      { type: "text", text: "Calling." },
      { type: "text", text: "Called." },
      { type: "tool_use", id: "toolu_1", name: "now", input: {} },
    ]);
    expect(json.output_config).toEqual({ format: { type: "json_schema", schema } });
  });

  it("thinking, the request-wide cache_control and service_tier go to Anthropic channels only", () => {
    const original = {
      model: "anthropic/claude-sonnet-4.5",
      max_tokens: 4096,
      service_tier: "standard_only",
      cache_control: { type: "ephemeral" },
      thinking: { type: "adaptive" },
      messages: [user("hi")],
    };
    const request = translate(original);
    // OpenAI refuses top-level fields it does not know, and `thinking` is another provider's switch (GLM's).
    expect(request).not.toHaveProperty("service_tier");
    expect(request).not.toHaveProperty("cache_control");
    expect(request).not.toHaveProperty("thinking");
    expect(request.reasoning).toEqual({ enabled: true });
    const built = roundTrip(original);
    expect(built.json).toMatchObject({
      service_tier: "standard_only",
      cache_control: { type: "ephemeral" },
      thinking: { type: "adaptive" },
    });
    expect(built.droppedParameters).toBeUndefined();
  });
});

describe("anthropicMessagesRequestSchema", () => {
  it("accepts a minimal request and requires max_tokens, as Anthropic does", () => {
    expect(parse({ messages: [user("hi")] }).max_tokens).toBe(1024);
    expect(refusal({ max_tokens: undefined, messages: [user("hi")] })).toEqual({
      message: "Missing required parameter: `max_tokens`.",
      param: "max_tokens",
      code: "missing_required_parameter",
    });
    expect(refusal({ max_tokens: 0, messages: [user("hi")] }).param).toBe("max_tokens");
    expect(refusal({ messages: [] }).param).toBe("messages");
  });

  it.each([["web_search_20250305"], ["bash_20250124"], ["text_editor_20250728"], ["code_execution_20250825"]])(
    "refuses Anthropic's built-in tool %s, saying why",
    (type) => {
      const issue = refusal({ messages: [user("hi")], tools: [{ type, name: "tool" }] });
      expect(issue.param).toBe("tools[0].type");
      expect(issue.message).toBe(
        `Invalid value for \`tools[0].type\`: \`${type}\` is one of Anthropic's built-in (server or client) tools, ` +
          'which the gateway cannot offer across providers; declare a custom tool (`type` "custom" or none) with a ' +
          "`name` and an `input_schema` instead.",
      );
    },
  );

  it("accepts custom tools with or without type: custom", () => {
    const input_schema = { type: "object", properties: {} };
    const request = parse({
      messages: [user("hi")],
      tools: [
        { name: "a", input_schema },
        { type: "custom", name: "b", input_schema },
      ],
    });
    expect(request.tools).toHaveLength(2);
  });

  it("keeps Anthropic's ranges: temperature to 1, a thinking budget of at least 1024", () => {
    expect(refusal({ messages: [user("hi")], temperature: 1.5 }).message).toBe(
      "Invalid value for `temperature`: must be at most 1.",
    );
    expect(refusal({ messages: [user("hi")], thinking: { type: "enabled", budget_tokens: 512 } }).param).toBe(
      "thinking.budget_tokens",
    );
    expect(refusal({ messages: [user("hi")], thinking: { type: "sometimes" } }).param).toBe("thinking.type");
  });

  it("refuses images no provider can read, naming the field", () => {
    const image = (source: Body) => ({ messages: [user([{ type: "image", source }])] });
    expect(refusal(image({ type: "base64", media_type: "image/png", data: "not base64!" }))).toMatchObject({
      param: "messages[0].content[0].source.data",
    });
    expect(refusal(image({ type: "base64", media_type: "image/bmp", data: PNG })).param).toBe(
      "messages[0].content[0].source.media_type",
    );
    expect(refusal(image({ type: "url", url: "http://example.com/a.png" }))).toEqual({
      message: "Invalid value for `messages[0].content[0].source.url`: must be an https URL.",
      param: "messages[0].content[0].source.url",
      code: "invalid_value",
    });
  });

  it("refuses blocks a user turn cannot hold", () => {
    expect(refusal({ messages: [user([{ type: "tool_use", id: "t", name: "n", input: {} }])] }).param).toBe(
      "messages[0].content[0].type",
    );
    expect(
      refusal({ messages: [assistant([{ type: "image", source: { type: "url", url: "https://a.b/c" } }])] }).param,
    ).toBe("messages[0].content[0].type");
  });
});

describe("toChatRequest", () => {
  it("puts the system prompt first: a string as a string, blocks as text parts with their cache_control", () => {
    expect(translate({ system: "Be brief.", messages: [user("hi")] }).messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "hi" },
    ]);
    expect(
      translate({
        system: [{ type: "text", text: "Rules.", cache_control: { type: "ephemeral" } }],
        messages: [user("hi")],
      }).messages[0],
    ).toEqual({ role: "system", content: [{ type: "text", text: "Rules.", cache_control: { type: "ephemeral" } }] });
  });

  it("puts tool results first, in order, then the tool results' images and the rest of the turn", () => {
    const image = { type: "image", source: { type: "url", url: "https://example.com/a.png" } };
    const request = translate({
      messages: [
        user([
          { type: "text", text: "Here you go." },
          { type: "tool_result", tool_use_id: "toolu_b", content: [{ type: "text", text: "B" }, image] },
          image,
          { type: "tool_result", tool_use_id: "toolu_a", content: "A", is_error: true },
          { type: "tool_result", tool_use_id: "toolu_c", is_error: false },
        ]),
      ],
    });
    expect(request.messages).toEqual([
      { role: "tool", tool_call_id: "toolu_b", content: "B" },
      { role: "tool", tool_call_id: "toolu_a", content: "A", is_error: true },
      { role: "tool", tool_call_id: "toolu_c", content: "" },
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: "https://example.com/a.png" } },
          { type: "text", text: "Here you go." },
          { type: "image_url", image_url: { url: "https://example.com/a.png" } },
        ],
      },
    ]);
  });

  it("leaves out the user message when a turn holds only tool results", () => {
    const request = translate({
      messages: [user([{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "x" }] }])],
    });
    expect(request.messages).toEqual([{ role: "tool", tool_call_id: "toolu_1", content: "x" }]);
  });

  it("maps images to image_url parts and documents to file or text parts", () => {
    const request = translate({
      messages: [
        user([
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          {
            type: "image",
            source: { type: "url", url: "https://example.com/cat.jpg" },
            cache_control: { type: "ephemeral" },
          },
          { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF }, title: "a.pdf" },
          { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF } },
          { type: "document", source: { type: "url", url: "https://example.com/b.pdf" } },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "notes" } },
        ]),
      ],
    });
    expect(request.messages[0]).toEqual({
      role: "user",
      content: [
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: "image_url", image_url: { url: "https://example.com/cat.jpg" }, cache_control: { type: "ephemeral" } },
        { type: "file", file: { file_data: `data:application/pdf;base64,${PDF}`, filename: "a.pdf" } },
        { type: "file", file: { file_data: `data:application/pdf;base64,${PDF}`, filename: "document.pdf" } },
        { type: "file", file: { file_data: "https://example.com/b.pdf", filename: "document.pdf" } },
        { type: "text", text: "notes" },
      ],
    });
  });

  it("keeps a string user or assistant turn a string", () => {
    expect(translate({ messages: [user("hi"), assistant("hello")] }).messages).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
    ]);
  });

  it("turns an assistant turn's thinking into reasoning_details and its tool uses into tool calls", () => {
    const request = translate({
      messages: [
        user("weather?"),
        assistant([
          { type: "thinking", thinking: "Need the tool.", signature: "sig-1" },
          { type: "redacted_thinking", data: "opaque" },
          { type: "thinking", thinking: "Both cities.", signature: "sig-2" },
          { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
        ]),
      ],
    });
    expect(request.messages[1]).toEqual({
      role: "assistant",
      content: null,
      reasoning: "Need the tool.\n\nBoth cities.",
      reasoning_details: [
        { type: "reasoning.text", text: "Need the tool.", signature: "sig-1", format: REASONING_FORMAT, index: 0 },
        { type: "reasoning.encrypted", data: "opaque", format: REASONING_FORMAT, index: 1 },
        { type: "reasoning.text", text: "Both cities.", signature: "sig-2", format: REASONING_FORMAT, index: 2 },
      ],
      tool_calls: [{ id: "toolu_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }],
    });
    // The common request's rule for assistant messages holds: no content is fine when there are tool calls.
    expect(chatCompletionRequestSchema.safeParse(request).success).toBe(true);
  });

  it("gives an assistant turn one string for one plain text block, text parts otherwise", () => {
    const turn = (content: unknown) => translate({ messages: [user("hi"), assistant(content)] }).messages[1];
    expect(turn([{ type: "text", text: "a" }])).toEqual({ role: "assistant", content: "a" });
    expect(
      turn([
        { type: "text", text: "a" },
        { type: "text", text: "b" },
      ]),
    ).toEqual({
      role: "assistant",
      content: [
        { type: "text", text: "a" },
        { type: "text", text: "b" },
      ],
    });
    expect(turn([{ type: "text", text: "a", cache_control: { type: "ephemeral" } }])).toEqual({
      role: "assistant",
      content: [{ type: "text", text: "a", cache_control: { type: "ephemeral" } }],
    });
  });

  it("maps tools, keeping cache_control on the tool", () => {
    const request = translate({
      messages: [user("hi")],
      tools: [
        { name: "now", input_schema: { type: "object" } },
        { name: "add", description: "Adds", input_schema: { type: "object" }, cache_control: { type: "ephemeral" } },
      ],
    });
    expect(request.tools).toEqual([
      { type: "function", function: { name: "now", parameters: { type: "object" } } },
      {
        type: "function",
        function: { name: "add", description: "Adds", parameters: { type: "object" } },
        cache_control: { type: "ephemeral" },
      },
    ]);
  });

  it.each<[Body, unknown, boolean | undefined]>([
    [{ type: "auto" }, "auto", undefined],
    [{ type: "any" }, "required", undefined],
    [{ type: "none" }, "none", undefined],
    [{ type: "tool", name: "now" }, { type: "function", function: { name: "now" } }, undefined],
    [{ type: "auto", disable_parallel_tool_use: true }, "auto", false],
    [
      { type: "tool", name: "now", disable_parallel_tool_use: true },
      { type: "function", function: { name: "now" } },
      false,
    ],
    [{ type: "any", disable_parallel_tool_use: false }, "required", undefined],
  ])("maps tool_choice %j to %j with parallel_tool_calls %j", (choice, expected, parallel) => {
    const request = translate({
      messages: [user("hi")],
      tools: [{ name: "now", input_schema: { type: "object" } }],
      tool_choice: choice,
    });
    expect(request.tool_choice).toEqual(expected);
    expect(request.parallel_tool_calls).toBe(parallel);
    // And back: Anthropic gets the choice it was sent, except `disable_parallel_tool_use: false`, its default.
    const { disable_parallel_tool_use: disableParallel, ...rest } = choice;
    expect(upstream(request).json.tool_choice).toEqual(disableParallel === false ? rest : choice);
  });

  it.each([
    [{ type: "enabled", budget_tokens: 2048 }, undefined, { max_tokens: 2048 }],
    [{ type: "adaptive" }, undefined, { enabled: true }],
    [{ type: "adaptive" }, "medium", { enabled: true, effort: "medium" }],
    [{ type: "adaptive" }, "max", { enabled: true, effort: "xhigh" }],
    [{ type: "disabled" }, undefined, { enabled: false }],
  ])(
    "passes thinking %j through and asks other providers for reasoning (effort %j) as %j",
    (thinking, effort, reasoning) => {
      const original = {
        model: "anthropic/claude-sonnet-4.5",
        max_tokens: 1024,
        messages: [user("hi")],
        thinking,
        ...(effort === undefined ? {} : { output_config: { effort } }),
      };
      const request = translate(original);
      expect(request).not.toHaveProperty("thinking");
      expect(request.reasoning).toEqual(reasoning);
      // Anthropic gets the native object, never a budget derived from `reasoning` as well.
      const built = roundTrip(original);
      expect(built.json.thinking).toEqual(thinking);
      expect(built.droppedParameters).toBeUndefined();
    },
  );

  it("gives Gemini the thinking budget through reasoning", () => {
    const request = translate({ messages: [user("hi")], thinking: { type: "enabled", budget_tokens: 2048 } });
    const built = createGeminiAdapter().buildRequest({
      request,
      upstreamModel: "gemini-2.5-flash",
      channel: geminiChannel,
      stream: false,
    });
    const body = JSON.parse(built.body ?? "null") as { generationConfig: Body };
    expect(body.generationConfig.thinkingConfig).toEqual({ thinkingBudget: 2048, includeThoughts: true });
  });

  it("maps sampling, limits, stop sequences, metadata, caching, structured output and routing", () => {
    const schema = { type: "object", properties: {} };
    const provider = { order: ["anthropic"], allow_fallbacks: false };
    const request = translate({
      max_tokens: 500,
      messages: [user("hi")],
      stream: true,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ["a", "b", "c", "d", "e"],
      metadata: { user_id: "user-1" },
      cache_control: { type: "ephemeral" },
      output_config: { format: { type: "json_schema", schema } },
      service_tier: "auto",
      models: ["anthropic/claude-haiku-4.5"],
      provider,
    });
    expect(request).toEqual({
      model: "anthropic/claude-sonnet-4.5",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 500,
      stream: true,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop: ["a", "b", "c", "d", "e"],
      user: "user-1",
      response_format: { type: "json_schema", json_schema: { name: "output", schema, strict: true } },
      models: ["anthropic/claude-haiku-4.5"],
      provider,
    });
  });

  it("does not carry fields it does not know", () => {
    const request = translate({ messages: [user("hi")], mcp_servers: [{ type: "url", url: "https://x.y" }] });
    expect(request).not.toHaveProperty("mcp_servers");
  });
});

describe("the Anthropic adapter's tool results and calls (messages.ts)", () => {
  function build(messages: unknown[]) {
    return upstream(chatCompletionRequestSchema.parse({ model: "anthropic/claude-sonnet-4.5", messages }));
  }
  const call = { id: "toolu_1", type: "function", function: { name: "now", arguments: "{}" } };

  it("passes is_error: true on a tool message on to the tool_result, and leaves out any other value", () => {
    const results = (isError: unknown) =>
      (
        build([
          user("time?"),
          { role: "assistant", content: null, tool_calls: [call] },
          { role: "tool", tool_call_id: "toolu_1", content: "clock broken", is_error: isError },
        ]).json.messages as AnthropicMessage[]
      )[2];
    expect(results(true)).toEqual({
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "clock broken", is_error: true }],
    });
    for (const value of [false, undefined, "yes"]) {
      expect(results(value)).toEqual({
        role: "user",
        content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "clock broken" }],
      });
    }
  });

  it("passes cache_control on a tool message and a tool call on to their blocks", () => {
    const cache = { type: "ephemeral" };
    const messages = build([
      user("time?"),
      { role: "assistant", content: null, tool_calls: [{ ...call, cache_control: cache }] },
      { role: "tool", tool_call_id: "toolu_1", content: "noon", cache_control: cache },
    ]).json.messages as AnthropicMessage[];
    expect(messages[1]!.content).toEqual([
      { type: "tool_use", id: "toolu_1", name: "now", input: {}, cache_control: cache },
    ]);
    expect(messages[2]!.content).toEqual([
      { type: "tool_result", tool_use_id: "toolu_1", content: "noon", cache_control: cache },
    ]);
  });
});

describe("anthropicBetasFrom", () => {
  it("keeps the allowlisted betas of a comma-separated header, trimmed, each once", () => {
    expect(
      anthropicBetasFrom(
        " interleaved-thinking-2025-05-14 ,context-1m-2025-08-07,, interleaved-thinking-2025-05-14,FINE-GRAINED-TOOL-STREAMING-2025-05-14",
      ),
    ).toEqual(["interleaved-thinking-2025-05-14", "context-1m-2025-08-07", "fine-grained-tool-streaming-2025-05-14"]);
  });

  it("drops betas that would switch on what the gateway cannot meter, and unknown ones", () => {
    expect(
      anthropicBetasFrom(
        "files-api-2025-04-14,mcp-client-2025-04-04,code-execution-2025-08-25,web-fetch-2025-09-10,no-such-beta",
      ),
    ).toEqual([]);
  });

  it("gives nothing for a missing or empty header", () => {
    expect(anthropicBetasFrom(undefined)).toEqual([]);
    expect(anthropicBetasFrom("")).toEqual([]);
  });

  it("allows prompt caching, its 1-hour lifetime, interleaved thinking, 1M context, tool streaming, 128k output, token-efficient tools and structured outputs", () => {
    expect([...ANTHROPIC_BETA_ALLOWLIST].sort()).toEqual([
      "context-1m-2025-08-07",
      "extended-cache-ttl-2025-04-11",
      "fine-grained-tool-streaming-2025-05-14",
      "interleaved-thinking-2025-05-14",
      "output-128k-2025-02-19",
      "prompt-caching-2024-07-31",
      "structured-outputs-2025-11-13",
      "token-efficient-tools-2025-02-19",
    ]);
  });
});
