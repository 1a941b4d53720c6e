import { TEST_ACTOR } from "../../helpers/audit";
import { readFileSync } from "node:fs";
import OpenAI from "openai";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel, type ChannelKind } from "~/server/services/channels";
import { fixture, SPEC_PATH } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import type { ReceivedRequest } from "../../helpers/replay-upstream";
import {
  accumulate,
  costNano,
  costUsd,
  expectStreamFrame,
  fromCompletion,
  startScriptedUpstream,
  type Body,
  type ChoiceSeen,
  type ListPrices,
  type ScriptedAnswer,
  type ScriptedUpstream,
  type Tokens,
} from "./openai-family-support";

/*
 * One conversation (a system prompt, a user turn with text and an image, a `get_weather` tool, the model's call, the
 * tool's result, the model's answer) driven through the `openai` npm client against four channels: OpenAI, DeepSeek
 * (openai-compatible), Anthropic and Gemini. Each channel points at its own local upstream that speaks that provider's
 * native wire format. Apart from the model's words (and ids, token counts, costs) the four transcripts must be the
 * same, streamed or not; each upstream must have received the conversation in its own native form; each turn must be
 * billed once, exactly, through the ledger.
 *
 * The upstreams are scripted, not recorded (no recording has this conversation). Their bodies copy the shapes of the
 * recordings in ../shared/fixtures/upstream/: openai/tool-call-required and tool-call-stream-argument-deltas (OpenAI),
 * openai-compatible/deepseek-reasoner and deepseek-reasoner-tool-call-stream (DeepSeek: no `refusal`, `content: ""`
 * beside tool calls, usage with prompt_cache_hit/miss_tokens, usage on the finish chunk of a stream),
 * anthropic/parallel-tool-use and tool-use-stream (Messages JSON and SSE events), gemini/function-call,
 * gemini/text and gemini/text-stream (candidates, functionCall without an id, finishReason STOP beside a call,
 * cumulative usageMetadata with thoughtsTokenCount, CRLF-separated SSE events).
 *
 * DeepSeek runs deepseek/deepseek-v4.1-flash: the catalog lists deepseek-chat as text-only, and DeepSeek's API refuses
 * image parts for it, so an upstream answering this conversation as deepseek-chat would not be realistic.
 */

// ---------------------------------------------------------------------------------------------------------------
// The conversation

const SYSTEM = "You are a weather assistant. Answer in one short sentence.";
const QUESTION = "What is the weather like right now in the city shown in this picture?";
/** A real PNG: the one in the recorded anthropic/image-base64-stream request. */
const PNG_BASE64 = (
  (fixture("anthropic/image-base64-stream").requestBody as { messages: { content: Body[] }[] }).messages[0]!.content[0]!
    .source as { data: string }
).data;
const IMAGE_URL = `data:image/png;base64,${PNG_BASE64}`;
const WEATHER_PARAMETERS = {
  type: "object",
  properties: { city: { type: "string", description: "The city's name" } },
  required: ["city"],
  additionalProperties: false,
};
const TOOLS: ChatCompletionTool[] = [
  {
    type: "function",
    function: { name: "get_weather", description: "Current weather in a city", parameters: WEATHER_PARAMETERS },
  },
];
const WEATHER = { city: "Paris", temperature_c: 18, conditions: "light rain" };
const WEATHER_RESULT = JSON.stringify(WEATHER);

const FIRST_MESSAGES: ChatCompletionMessageParam[] = [
  { role: "system", content: SYSTEM },
  {
    role: "user",
    content: [
      { type: "text", text: QUESTION },
      { type: "image_url", image_url: { url: IMAGE_URL } },
    ],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// The providers, their scripted answers, and what they must receive

type ProviderName = "openai" | "deepseek" | "anthropic" | "gemini";

interface TurnScript {
  tokens: Tokens;
  /** The model's words in turn 2 (turn 1 is only the call). */
  words?: string;
}

interface Provider {
  name: ProviderName;
  kind: ChannelKind;
  channelProvider?: string;
  model: string;
  upstreamModel: string;
  /** Appended to the upstream's origin to form the channel's base URL. */
  basePath: string;
  prices: ListPrices;
  turns: [TurnScript, TurnScript];
  answer: (request: ReceivedRequest) => ScriptedAnswer;
  /** Checks the native request of turn 2, given the id the client got for the call. */
  expectSecondRequest: (request: ReceivedRequest, streamed: boolean, callId: string) => void;
}

const JSON_TYPE = "application/json; charset=utf-8";
const SSE_TYPE = "text/event-stream; charset=utf-8";

/** `data: …` events as OpenAI and its compatible servers send them, then `[DONE]`. */
function openAISse(chunks: Body[]): string[] {
  return [...chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`), "data: [DONE]\n\n"];
}

/** The arguments as OpenAI streams them: in small pieces. */
const ARGUMENT_PIECES = ['{"', "city", '":"', "Paris", '"}'];

// OpenAI ---------------------------------------------------------------------------------------------------------

const OPENAI_CALL_ID = "call_Wq3nLT0dF1bq8Yf2m5hXk9Zc";

function openAIUsage({ prompt, completion }: Tokens): Body {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function isSecondTurnOpenAI(body: Body): boolean {
  return (body.messages as Body[]).some((message) => message.role === "tool");
}

const openAIProvider: Provider = {
  name: "openai",
  kind: "openai",
  model: "openai/gpt-4.1",
  upstreamModel: "gpt-4.1",
  basePath: "/v1",
  // $2.00 / $8.00 / $0.50 cached per million tokens
  prices: { input: 2_000_000_000n, output: 8_000_000_000n, cacheRead: 500_000_000n },
  turns: [
    { tokens: { prompt: 312, completion: 16 } },
    { tokens: { prompt: 351, completion: 14 }, words: "It is 18 °C with light rain in Paris right now." },
  ],
  answer(request) {
    const body = request.body as Body;
    const second = isSecondTurnOpenAI(body);
    const { tokens, words } = this.turns[second ? 1 : 0];
    const frame = {
      id: second ? "chatcmpl-DA2kq8ZrJwM4cV7nT1sE0bYh3LpXo" : "chatcmpl-DA2kpR5vN8yGf6wQ3aZt1cMe9HuKi",
      object: body.stream === true ? "chat.completion.chunk" : "chat.completion",
      created: 1761920000,
      model: "gpt-4.1-2025-04-14",
      service_tier: "default",
      system_fingerprint: "fp_b3f1157249",
    };
    if (body.stream !== true) {
      const message = second
        ? { role: "assistant", content: words, refusal: null, annotations: [] }
        : {
            role: "assistant",
            content: null,
            tool_calls: [
              {
                id: OPENAI_CALL_ID,
                type: "function",
                function: { name: "get_weather", arguments: '{"city":"Paris"}' },
              },
            ],
            refusal: null,
            annotations: [],
          };
      return {
        contentType: JSON_TYPE,
        body: JSON.stringify({
          ...frame,
          choices: [{ index: 0, message, logprobs: null, finish_reason: second ? "stop" : "tool_calls" }],
          usage: openAIUsage(tokens),
        }),
      };
    }
    const chunk = (delta: Body, finish: string | null = null): Body => ({
      ...frame,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      usage: null,
      obfuscation: "Zx3",
    });
    const deltas = second
      ? [
          chunk({ role: "assistant", content: "", refusal: null }),
          ...words!.split(/(?= )/).map((piece) => chunk({ content: piece })),
          chunk({}, "stop"),
        ]
      : [
          chunk({
            role: "assistant",
            content: null,
            tool_calls: [
              { index: 0, id: OPENAI_CALL_ID, type: "function", function: { name: "get_weather", arguments: "" } },
            ],
            refusal: null,
          }),
          ...ARGUMENT_PIECES.map((piece) => chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] })),
          chunk({}, "tool_calls"),
        ];
    // The gateway always asks for usage, which OpenAI sends in a last choices:[] chunk.
    return {
      contentType: SSE_TYPE,
      body: openAISse([...deltas, { ...frame, choices: [], usage: openAIUsage(tokens), obfuscation: "q1" }]),
    };
  },
  expectSecondRequest(request, streamed, callId) {
    expect(request.url).toBe("/v1/chat/completions");
    expect(request.headers.authorization).toBe("Bearer sk-openai-upstream");
    expectOpenAIConversation(request.body as Body, "gpt-4.1", streamed, callId);
  },
};

/** The conversation in OpenAI's own format, as an OpenAI-compatible upstream must receive it in turn 2. */
function expectOpenAIConversation(body: Body, model: string, streamed: boolean, callId: string): void {
  expect(body).toMatchObject({ model, tools: TOOLS });
  expect(body.stream).toBe(streamed ? true : undefined);
  const messages = body.messages as Body[];
  expect(messages).toHaveLength(4);
  expect(messages[0]).toEqual({ role: "system", content: SYSTEM });
  expect(messages[1]).toEqual(FIRST_MESSAGES[1]);
  expect(messages[2]).toMatchObject({
    role: "assistant",
    tool_calls: [{ id: callId, type: "function", function: { name: "get_weather" } }],
  });
  const sentCall = (messages[2]!.tool_calls as { function: { arguments: string } }[])[0]!;
  expect(JSON.parse(sentCall.function.arguments)).toEqual({ city: "Paris" });
  // The tool's result, answering the call by its id.
  expect(messages[3]).toEqual({ role: "tool", tool_call_id: callId, content: WEATHER_RESULT });
}

// DeepSeek -------------------------------------------------------------------------------------------------------

const DEEPSEEK_CALL_ID = "call_00_Rk2yV9pQwL4sZt7mN1cHx8aB";

function deepseekUsage({ prompt, completion, cached = 0 }: Tokens): Body {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
    prompt_cache_hit_tokens: cached,
    prompt_cache_miss_tokens: prompt - cached,
  };
}

const deepseekProvider: Provider = {
  name: "deepseek",
  kind: "openai-compatible",
  channelProvider: "deepseek",
  model: "deepseek/deepseek-v4.1-flash",
  upstreamModel: "deepseek-flash",
  // DeepSeek's base URL has no /v1.
  basePath: "",
  // $0.30 / $1.20 / $0.006 cached per million tokens
  prices: { input: 300_000_000n, output: 1_200_000_000n, cacheRead: 6_000_000n },
  turns: [
    { tokens: { prompt: 298, completion: 21 } },
    { tokens: { prompt: 330, completion: 13, cached: 256 }, words: "Paris: 18 °C and light rain." },
  ],
  answer(request) {
    const body = request.body as Body;
    const second = isSecondTurnOpenAI(body);
    const { tokens, words } = this.turns[second ? 1 : 0];
    const frame = {
      id: second ? "5d0c7a4e-3b1f-4c8e-9a2d-6f7e8b9c0d1e" : "4c9b6f3d-2a0e-4b7d-8f1c-5e6d7a8b9c0d",
      object: body.stream === true ? "chat.completion.chunk" : "chat.completion",
      created: 1761920001,
      model: "deepseek-flash",
      system_fingerprint: "fp_ffc7281d48_prod0820_fp8_kvcache",
    };
    const toolCall = { id: DEEPSEEK_CALL_ID, type: "function" };
    if (body.stream !== true) {
      // DeepSeek leaves `refusal` out and sends an empty content beside tool calls.
      const message = second
        ? { role: "assistant", content: words }
        : {
            role: "assistant",
            content: "",
            tool_calls: [{ index: 0, ...toolCall, function: { name: "get_weather", arguments: '{"city": "Paris"}' } }],
          };
      return {
        contentType: JSON_TYPE,
        body: JSON.stringify({
          ...frame,
          choices: [{ index: 0, message, logprobs: null, finish_reason: second ? "stop" : "tool_calls" }],
          usage: deepseekUsage(tokens),
        }),
      };
    }
    const chunk = (delta: Body, finish: string | null = null, usage: Body | null = null): Body => ({
      ...frame,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      usage,
    });
    // DeepSeek reports usage on its finish chunk, with no choices:[] chunk after it.
    const deltas = second
      ? [
          chunk({ role: "assistant", content: "" }),
          ...words!.split(/(?= )/).map((piece) => chunk({ content: piece })),
          chunk({ content: "" }, "stop", deepseekUsage(tokens)),
        ]
      : [
          chunk({ role: "assistant", content: null }),
          chunk({ tool_calls: [{ index: 0, ...toolCall, function: { name: "get_weather", arguments: "" } }] }),
          ...ARGUMENT_PIECES.map((piece) => chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] })),
          chunk({ content: "" }, "tool_calls", deepseekUsage(tokens)),
        ];
    return { contentType: SSE_TYPE, body: openAISse(deltas) };
  },
  expectSecondRequest(request, streamed, callId) {
    expect(request.url).toBe("/chat/completions");
    expect(request.headers.authorization).toBe("Bearer sk-deepseek-upstream");
    expectOpenAIConversation(request.body as Body, "deepseek-flash", streamed, callId);
  },
};

// Anthropic ------------------------------------------------------------------------------------------------------

const ANTHROPIC_CALL_ID = "toolu_01Hq8sV3nKp6Wd2Lr9Tz4Ym7";

function anthropicEvent(payload: Body): string {
  return `event: ${payload.type as string}\ndata: ${JSON.stringify(payload)}\n\n`;
}

const anthropicProvider: Provider = {
  name: "anthropic",
  kind: "anthropic",
  model: "anthropic/claude-haiku-4.5",
  upstreamModel: "claude-haiku-4-5",
  basePath: "/v1",
  // $1.00 / $5.00 / $0.10 cache read / $1.25 cache write per million tokens
  prices: { input: 1_000_000_000n, output: 5_000_000_000n, cacheRead: 100_000_000n, cacheWrite: 1_250_000_000n },
  turns: [
    { tokens: { prompt: 702, completion: 54 } },
    { tokens: { prompt: 789, completion: 19 }, words: "Paris has light rain at 18 °C." },
  ],
  answer(request) {
    const body = request.body as Body;
    const second = (body.messages as Body[]).some(
      (message) => Array.isArray(message.content) && (message.content as Body[]).some((b) => b.type === "tool_result"),
    );
    const { tokens, words } = this.turns[second ? 1 : 0];
    const id = second ? "msg_01Ab3Cd5Ef7Gh9Ij1Kl3Mn5" : "msg_01Zy9Xw7Vu5Ts3Rq1Po9Nm7";
    const usage = (output: number) => ({
      input_tokens: tokens.prompt,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: output,
      service_tier: "standard",
    });
    const stopReason = second ? "end_turn" : "tool_use";
    if (body.stream !== true) {
      const content = second
        ? [{ type: "text", text: words }]
        : [{ type: "tool_use", id: ANTHROPIC_CALL_ID, name: "get_weather", input: { city: "Paris" } }];
      return {
        contentType: JSON_TYPE,
        body: JSON.stringify({
          id,
          type: "message",
          role: "assistant",
          model: "claude-haiku-4-5-20251001",
          content,
          stop_reason: stopReason,
          stop_sequence: null,
          usage: usage(tokens.completion),
        }),
      };
    }
    const block = second
      ? [
          { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
          ...words!.split(/(?= )/).map((text) => ({
            type: "content_block_delta",
            index: 0,
            delta: { type: "text_delta", text },
          })),
        ]
      : [
          {
            type: "content_block_start",
            index: 0,
            content_block: { type: "tool_use", id: ANTHROPIC_CALL_ID, name: "get_weather", input: {} },
          },
          ...["", '{"city": ', '"Paris"}'].map((partial) => ({
            type: "content_block_delta",
            index: 0,
            delta: { type: "input_json_delta", partial_json: partial },
          })),
        ];
    const events = [
      {
        type: "message_start",
        message: {
          id,
          type: "message",
          role: "assistant",
          model: "claude-haiku-4-5-20251001",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: usage(1),
        },
      },
      block[0]!,
      { type: "ping" },
      ...block.slice(1),
      { type: "content_block_stop", index: 0 },
      {
        type: "message_delta",
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: {
          input_tokens: tokens.prompt,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: tokens.completion,
        },
      },
      { type: "message_stop" },
    ];
    return { contentType: SSE_TYPE, body: events.map(anthropicEvent) };
  },
  expectSecondRequest(request, streamed, callId) {
    expect(request.url).toBe("/v1/messages");
    expect(request.headers["x-api-key"]).toBe("sk-anthropic-upstream");
    expect(request.headers["anthropic-version"]).toBe("2023-06-01");
    const body = request.body as Body;
    expect(body).toMatchObject({ model: "claude-haiku-4-5", stream: streamed });
    expect(
      body.system === SYSTEM || JSON.stringify(body.system) === JSON.stringify([{ type: "text", text: SYSTEM }]),
    ).toBe(true);
    expect(body.tools).toEqual([
      { name: "get_weather", description: "Current weather in a city", input_schema: WEATHER_PARAMETERS },
    ]);
    expect(body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: QUESTION },
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_BASE64 } },
        ],
      },
      { role: "assistant", content: [{ type: "tool_use", id: callId, name: "get_weather", input: { city: "Paris" } }] },
      // The tool's result, answering the call by its id.
      { role: "user", content: [{ type: "tool_result", tool_use_id: callId, content: WEATHER_RESULT }] },
    ]);
  },
};

// Gemini ---------------------------------------------------------------------------------------------------------

/** Gemini counts thinking apart from the answer: completion = candidates + thoughts. */
const GEMINI_COUNTS = [
  { prompt: 335, candidates: 6, thoughts: 47 },
  { prompt: 384, candidates: 12, thoughts: 21 },
] as const;

function geminiUsage(turn: 0 | 1, candidates: number): Body {
  const { prompt, thoughts } = GEMINI_COUNTS[turn];
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    totalTokenCount: prompt + candidates + thoughts,
    promptTokensDetails: [
      { modality: "TEXT", tokenCount: prompt - 258 },
      { modality: "IMAGE", tokenCount: 258 },
    ],
    thoughtsTokenCount: thoughts,
  };
}

const geminiProvider: Provider = {
  name: "gemini",
  kind: "gemini",
  model: "google/gemini-2.5-flash",
  upstreamModel: "gemini-2.5-flash",
  basePath: "/v1beta",
  // $0.30 / $2.50 / $0.03 cached per million tokens
  prices: { input: 300_000_000n, output: 2_500_000_000n, cacheRead: 30_000_000n },
  turns: [
    {
      tokens: {
        prompt: GEMINI_COUNTS[0].prompt,
        completion: GEMINI_COUNTS[0].candidates + GEMINI_COUNTS[0].thoughts,
        reasoning: GEMINI_COUNTS[0].thoughts,
      },
    },
    {
      tokens: {
        prompt: GEMINI_COUNTS[1].prompt,
        completion: GEMINI_COUNTS[1].candidates + GEMINI_COUNTS[1].thoughts,
        reasoning: GEMINI_COUNTS[1].thoughts,
      },
      words: "It's 18 °C and lightly raining in Paris.",
    },
  ],
  answer(request) {
    const body = request.body as Body;
    const second = (body.contents as { parts: Body[] }[]).some((content) =>
      content.parts.some((part) => part.functionResponse !== undefined),
    );
    const turn = second ? 1 : 0;
    const words = this.turns[1].words!;
    const responseId = second ? "vEcFabKxJ9-2nvgPq4mR0Qk" : "uDbEaZJwI8-1mufOp3lQzPj";
    const candidate = (parts: Body[], finish?: string): Body => ({
      content: { parts, role: "model" },
      ...(finish === undefined ? {} : { finishReason: finish }),
      index: 0,
    });
    const response = (parts: Body[], candidates: number, finish?: string): Body => ({
      candidates: [candidate(parts, finish)],
      usageMetadata: geminiUsage(turn, candidates),
      modelVersion: "gemini-2.5-flash",
      responseId,
    });
    const call = { functionCall: { name: "get_weather", args: { city: "Paris" } } };
    const streamed = request.url.includes(":streamGenerateContent");
    if (!streamed) {
      const parts = second ? [{ text: words }] : [call];
      return {
        contentType: JSON_TYPE,
        body: JSON.stringify(response(parts, GEMINI_COUNTS[turn].candidates, "STOP")),
      };
    }
    // Running totals in every event; a whole call in one event; the last event carries the finish reason.
    const events = second
      ? [
          response([{ text: words.slice(0, 12) }], 4),
          response([{ text: words.slice(12) }], GEMINI_COUNTS[1].candidates, "STOP"),
        ]
      : [response([call], GEMINI_COUNTS[0].candidates, "STOP")];
    return { contentType: "text/event-stream", body: events.map((event) => `data: ${JSON.stringify(event)}\r\n\r\n`) };
  },
  expectSecondRequest(request, streamed, callId) {
    expect(request.url).toBe(
      streamed
        ? "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        : "/v1beta/models/gemini-2.5-flash:generateContent",
    );
    expect(request.headers["x-goog-api-key"]).toBe("sk-gemini-upstream");
    const body = request.body as Body;
    expect(body.systemInstruction).toEqual({ parts: [{ text: SYSTEM }] });
    expect(body.tools).toMatchObject([
      { functionDeclarations: [{ name: "get_weather", description: "Current weather in a city" }] },
    ]);
    expect(body.contents).toEqual([
      { role: "user", parts: [{ text: QUESTION }, { inlineData: { mimeType: "image/png", data: PNG_BASE64 } }] },
      { role: "model", parts: [{ functionCall: { id: callId, name: "get_weather", args: { city: "Paris" } } }] },
      // The tool's result, answering the call by the function's name (Gemini's calls have no ids of their own).
      { role: "user", parts: [{ functionResponse: { id: callId, name: "get_weather", response: WEATHER } }] },
    ]);
  },
};

const PROVIDERS: Provider[] = [openAIProvider, deepseekProvider, anthropicProvider, geminiProvider];

// ---------------------------------------------------------------------------------------------------------------
// Normalised transcripts

/** OpenAI's own usage fields (CompletionUsage in the spec) and the gateway's `cost`. */
const OPENAI_USAGE_KEYS = new Set([
  ...Object.keys(
    (JSON.parse(readFileSync(SPEC_PATH, "utf8")) as { $defs: { CompletionUsage: { properties: Body } } }).$defs
      .CompletionUsage.properties,
  ),
  "cost",
]);

interface NormalisedTurn {
  role: string | undefined;
  /** Whether the message has any text: null and "" both mean none. */
  hasContent: boolean;
  toolCalls: { type: string | undefined; name: string | undefined; arguments: unknown }[];
  finishReasons: string[];
  /** The usage fields OpenAI defines (plus `cost`); a provider's extra counters are checked separately. */
  usageKeys: string[];
  costIsPositive: boolean;
}

function normalise(choice: ChoiceSeen, usage: Body | null): NormalisedTurn {
  return {
    role: choice.role,
    hasContent: typeof choice.content === "string" && choice.content !== "",
    toolCalls: choice.toolCalls.map((call) => ({
      type: call.type,
      name: call.name,
      arguments: JSON.parse(call.arguments) as unknown,
    })),
    finishReasons: choice.finishReasons,
    usageKeys: Object.keys(usage ?? {})
      .filter((key) => OPENAI_USAGE_KEYS.has(key))
      .sort(),
    costIsPositive: typeof usage?.cost === "number" && usage.cost > 0,
  };
}

/** What every provider's transcript must normalise to. */
const EXPECTED_TRANSCRIPT: NormalisedTurn[] = [
  {
    role: "assistant",
    hasContent: false,
    toolCalls: [{ type: "function", name: "get_weather", arguments: { city: "Paris" } }],
    finishReasons: ["tool_calls"],
    usageKeys: [
      "completion_tokens",
      "completion_tokens_details",
      "cost",
      "prompt_tokens",
      "prompt_tokens_details",
      "total_tokens",
    ],
    costIsPositive: true,
  },
  {
    role: "assistant",
    hasContent: true,
    toolCalls: [],
    finishReasons: ["stop"],
    usageKeys: [
      "completion_tokens",
      "completion_tokens_details",
      "cost",
      "prompt_tokens",
      "prompt_tokens_details",
      "total_tokens",
    ],
    costIsPositive: true,
  },
];

// ---------------------------------------------------------------------------------------------------------------

let harness: GatewayHarness;
const upstreams = new Map<ProviderName, ScriptedUpstream>();

beforeAll(async () => {
  harness = await startGatewayHarness();
  const { db, secretBox, changes } = harness.container;
  for (const provider of PROVIDERS) {
    const upstream = await startScriptedUpstream("", (request) => provider.answer(request));
    upstreams.set(provider.name, upstream);
    await addChannel(
      db,
      secretBox,
      changes,
      {
        kind: provider.kind,
        name: `${provider.name}-scripted`,
        ...(provider.channelProvider === undefined ? {} : { provider: provider.channelProvider }),
        baseUrl: `${upstream.baseUrl}${provider.basePath}`,
        apiKey: `sk-${provider.name}-upstream`,
        models: [{ modelId: provider.model, upstreamModel: provider.upstreamModel }],
      },
      TEST_ACTOR,
    );
  }
});

afterAll(async () => {
  for (const upstream of upstreams.values()) await upstream.close();
  await harness?.stop();
});

interface TurnResult {
  id: string;
  choice: ChoiceSeen;
  usage: Body | null;
  /** The assistant message as a client sends it back. */
  message: ChatCompletionMessageParam;
  /** Whether a trailing choices:[] usage chunk arrived (streams only). */
  usageChunk: boolean;
}

async function runTurn(
  openai: OpenAI,
  provider: Provider,
  messages: ChatCompletionMessageParam[],
  streamed: boolean,
): Promise<TurnResult> {
  const params = { model: provider.model, messages, tools: TOOLS };
  if (!streamed) {
    const completion: ChatCompletion = await openai.chat.completions.create(params);
    assertMatchesOpenAISpec("response", completion);
    expect(completion.model).toBe(provider.model);
    const seen = fromCompletion(completion as unknown as Body);
    expect(seen.choices).toHaveLength(1);
    // The message exactly as the client got it goes back in the next turn.
    return {
      id: completion.id,
      choice: seen.choices[0]!,
      usage: seen.usage,
      message: completion.choices[0]!.message as ChatCompletionMessageParam,
      usageChunk: false,
    };
  }
  const stream = await openai.chat.completions.create({
    ...params,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks: Body[] = [];
  for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
    assertMatchesOpenAISpec("chunk", chunk);
    chunks.push(chunk as unknown as Body);
  }
  // Everything about the stream's frame but the trailing usage chunk, which is compared across providers below.
  expectStreamFrame(chunks, provider.model, null);
  const seen = accumulate(chunks);
  const choice = seen.choices[0]!;
  for (const call of choice.toolCalls) expect(call.namedTimes).toBe(1);
  // What a client assembles from the deltas and sends back.
  const message: ChatCompletionMessageParam = {
    role: "assistant",
    content: choice.content,
    ...(choice.toolCalls.length === 0
      ? {}
      : {
          tool_calls: choice.toolCalls.map((call) => ({
            id: call.id!,
            type: "function" as const,
            function: { name: call.name!, arguments: call.arguments },
          })),
        }),
  };
  return {
    id: chunks[0]!.id as string,
    choice,
    usage: seen.usage,
    message,
    usageChunk: chunks.some((chunk) => (chunk.choices as unknown[]).length === 0),
  };
}

const transcripts = new Map<string, NormalisedTurn[]>();
const usageChunks = new Map<string, boolean[]>();

describe.each([
  { mode: "non-streaming", streamed: false },
  { mode: "streaming", streamed: true },
])("the conversation, $mode", ({ mode, streamed }) => {
  it.each(PROVIDERS.map((provider) => ({ name: provider.name, provider })))("through $name", async ({ provider }) => {
    const upstream = upstreams.get(provider.name)!;
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);
    const openai = new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 });
    const sentCount = upstream.received.length;

    const first = await runTurn(openai, provider, FIRST_MESSAGES, streamed);
    const callId = first.choice.toolCalls[0]?.id;
    expect(callId).toEqual(expect.any(String));
    expect(callId).not.toBe("");
    const second = await runTurn(
      openai,
      provider,
      [...FIRST_MESSAGES, first.message, { role: "tool", tool_call_id: callId!, content: WEATHER_RESULT }],
      streamed,
    );
    // The model's words reached the client as the upstream wrote them.
    expect(second.choice.content).toBe(provider.turns[1].words);

    // One upstream call per turn; the second carried the whole conversation in the provider's own format.
    expect(upstream.received).toHaveLength(sentCount + 2);
    provider.expectSecondRequest(upstream.received[sentCount + 1]!, streamed, callId!);

    // Each turn billed once, exactly, at the model's list prices, and the client told that cost.
    await harness.container.usageWriter.flush();
    const costs = provider.turns.map((turn) => costNano(turn.tokens, provider.prices));
    expect(first.usage?.cost).toBe(costUsd(costs[0]!));
    expect(second.usage?.cost).toBe(costUsd(costs[1]!));
    const rows = await generationsOf(harness.container.db, userId);
    expect(rows.map((row) => row.id).sort()).toEqual([first.id, second.id].sort());
    for (const [index, turn] of [first, second].entries()) {
      const tokens = provider.turns[index]!.tokens;
      expect(rows.find((row) => row.id === turn.id)).toMatchObject({
        modelId: provider.model,
        streamed,
        httpStatus: 200,
        finishReason: index === 0 ? "tool_calls" : "stop",
        promptTokens: tokens.prompt,
        completionTokens: tokens.completion,
        cachedTokens: tokens.cached ?? 0,
        reasoningTokens: tokens.reasoning ?? 0,
        costNano: costs[index],
      });
    }
    const debits = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
    expect(debits.map((entry) => [entry.externalId, entry.amountNano]).sort()).toEqual(
      [
        [first.id, -costs[0]!],
        [second.id, -costs[1]!],
      ].sort(),
    );
    expect(await balanceOf(harness.container.db, userId)).toBe(before - costs[0]! - costs[1]!);
    await expectLedgerConsistent(harness.container.db, userId);

    // Counters beyond OpenAI's usage fields: only DeepSeek's own, passed on.
    for (const turn of [first, second]) {
      const extra = Object.keys(turn.usage ?? {}).filter((key) => !OPENAI_USAGE_KEYS.has(key));
      expect(extra.sort()).toEqual(
        provider.name === "deepseek" ? ["prompt_cache_hit_tokens", "prompt_cache_miss_tokens"] : [],
      );
    }

    transcripts.set(`${mode}/${provider.name}`, [
      normalise(first.choice, first.usage),
      normalise(second.choice, second.usage),
    ]);
    if (streamed) usageChunks.set(provider.name, [first.usageChunk, second.usageChunk]);
  });

  it("gives the same transcript through every provider", () => {
    expect([...transcripts.keys()].filter((key) => key.startsWith(`${mode}/`))).toHaveLength(PROVIDERS.length);
    for (const provider of PROVIDERS) {
      expect({ provider: provider.name, transcript: transcripts.get(`${mode}/${provider.name}`) }).toEqual({
        provider: provider.name,
        transcript: EXPECTED_TRANSCRIPT,
      });
    }
  });
});

/*
 * With stream_options.include_usage, OpenAI sends a last choices:[] chunk with the usage: the gateway passes it on
 * for OpenAI and synthesises it for the others, DeepSeek included, whose usage comes on its finish chunk.
 */
it("streams end with the same trailing usage chunk through every provider", () => {
  expect(usageChunks.size).toBe(PROVIDERS.length);
  for (const provider of PROVIDERS) {
    expect({ provider: provider.name, usageChunks: usageChunks.get(provider.name) }).toEqual({
      provider: provider.name,
      usageChunks: [true, true],
    });
  }
});
