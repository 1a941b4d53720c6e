import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createParser } from "eventsource-parser";
import OpenAI from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nanoToUsdNumber } from "~/server/gateway/billing/money";
import { addChannel } from "~/server/services/channels";
import { fixture } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, generationsOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import { startReplayUpstream, type ReceivedRequest, type ReplayUpstream } from "../../helpers/replay-upstream";

/*
 * The native Gemini adapter end to end: a client calls /v1, the gateway calls a local upstream that answers with
 * Gemini's recorded traffic (gemini/* fixtures), and the test checks what the client got (against OpenAI's schema,
 * chunk by chunk for streams), what the gateway sent upstream (against the recorded request, field by field where
 * it matters), and what was billed (computed here from the catalog's list prices).
 *
 * Shapes with no recording (a blocked prompt, an error mid-stream, text and a call in one answer) are answered by a
 * second, scripted upstream with bodies built from Gemini's documented format; they are marked as such.
 */

type Body = Record<string, unknown>;

const FLASH = "google/gemini-2.5-flash";
const PRO = "google/gemini-2.5-pro";
const FUNDING_NANO = 5_000_000_000n;

/** List prices per million tokens, in nano-USD, restated from the catalog so that a pricing bug cannot hide. */
const PRICES = {
  [FLASH]: { input: 300_000_000n, output: 2_500_000_000n, cacheRead: 30_000_000n },
  [PRO]: { input: 1_250_000_000n, output: 10_000_000_000n, cacheRead: 125_000_000n },
} as const;

interface ExpectedUsage {
  prompt: number;
  completion: number;
  reasoning: number;
  cached?: number;
}

/** The cost of a call, computed independently: exact sum per million tokens, one rounding up. */
function costNano(model: keyof typeof PRICES, usage: ExpectedUsage): bigint {
  const prices = PRICES[model];
  const cached = BigInt(usage.cached ?? 0);
  const scaled =
    (BigInt(usage.prompt) - cached) * prices.input +
    cached * prices.cacheRead +
    BigInt(usage.completion) * prices.output;
  return (scaled + 999_999n) / 1_000_000n;
}

let harness: GatewayHarness;
let upstream: ReplayUpstream;
let scripted: ScriptedUpstream;

interface ScriptedAnswer {
  status?: number;
  contentType?: string;
  body: string;
}

interface ScriptedUpstream {
  baseUrl: string;
  received: ReceivedRequest[];
  answer: ScriptedAnswer;
  close(): Promise<void>;
}

/** An upstream that answers with a body the test composes (for shapes no recording has). */
async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const state: ScriptedUpstream = {
    baseUrl: "",
    received: [],
    answer: { body: "{}" },
    close: () => Promise.resolve(),
  };
  const server = createServer((request: IncomingMessage, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      state.received.push({
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: JSON.parse(Buffer.concat(parts).toString("utf8")) as unknown,
      });
      const { status = 200, contentType = "application/json", body } = state.answer;
      response.writeHead(status, { "content-type": contentType }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1beta`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** Gemini's SSE framing: `data: <json>` and a CRLF blank line per event. */
function geminiSse(...events: unknown[]): string {
  return events.map((event) => `data: ${JSON.stringify(event)}\r\n\r\n`).join("");
}

beforeAll(async () => {
  harness = await startGatewayHarness();
  upstream = await startReplayUpstream();
  scripted = await startScriptedUpstream();
  const { db, secretBox, changes } = harness.container;
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "gemini",
      name: "gemini-replay",
      baseUrl: upstream.baseUrl,
      apiKey: "gm-test",
      models: [{ modelId: FLASH, upstreamModel: "gemini-2.5-flash" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "gemini",
      name: "gemini-scripted",
      baseUrl: scripted.baseUrl,
      apiKey: "gm-scripted",
      models: [{ modelId: PRO, upstreamModel: "gemini-2.5-pro" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  await scripted?.close();
  await upstream?.close();
  await harness?.stop();
});

interface CallResult {
  status: number;
  headers: Headers;
  /** The non-streamed answer, or the error body. */
  json: Body | null;
  /** Every streamed chunk (the final error chunk included), already checked against OpenAI's schema. */
  chunks: Body[];
}

/** Calls /v1 as any HTTP client would and validates everything that comes back. */
async function call(apiKey: string, body: Body): Promise<CallResult> {
  const response = await fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const raw = await response.text();
  if (response.status !== 200) {
    const json = JSON.parse(raw) as Body;
    assertMatchesOpenAISpec("error", json);
    return { status: response.status, headers: response.headers, json, chunks: [] };
  }
  if (body.stream !== true) {
    const json = JSON.parse(raw) as Body;
    assertMatchesOpenAISpec("response", json);
    return { status: 200, headers: response.headers, json, chunks: [] };
  }
  const data: string[] = [];
  createParser({ onEvent: (event) => data.push(event.data) }).feed(raw);
  expect(data.at(-1)).toBe("[DONE]");
  const chunks = data.slice(0, -1).map((text) => JSON.parse(text) as Body);
  for (const chunk of chunks) {
    if (chunk.error === undefined) assertMatchesOpenAISpec("chunk", chunk);
    else {
      // A stream that fails after its first byte ends with one error chunk (finish_reason "error").
      assertMatchesOpenAISpec("chunk", { ...chunk, choices: [], error: undefined });
      expect(chunk.choices).toEqual([expect.objectContaining({ finish_reason: "error" })]);
    }
  }
  return { status: 200, headers: response.headers, json: null, chunks };
}

interface StreamedToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
  extra_content?: unknown;
}

/** What a client assembles from a stream's deltas. */
function assemble(chunks: Body[]) {
  let content = "";
  let reasoning = "";
  const toolCalls: StreamedToolCall[] = [];
  const reasoningDetails: unknown[] = [];
  let finishReason: string | null = null;
  for (const chunk of chunks) {
    for (const choice of chunk.choices as { delta: Body; finish_reason: string | null }[]) {
      const { delta } = choice;
      if (typeof delta.content === "string") content += delta.content;
      if (typeof delta.reasoning === "string") reasoning += delta.reasoning;
      for (const call of (delta.tool_calls as (StreamedToolCall & { index: number })[] | undefined) ?? []) {
        const { index, ...rest } = call;
        const existing = toolCalls[index];
        if (existing === undefined) toolCalls[index] = rest;
        else existing.function.arguments += rest.function.arguments;
      }
      reasoningDetails.push(...((delta.reasoning_details as unknown[] | undefined) ?? []));
      finishReason = choice.finish_reason ?? finishReason;
    }
  }
  const usageChunks = chunks.filter((chunk) => (chunk.choices as unknown[]).length === 0);
  return { content, reasoning, toolCalls, reasoningDetails, finishReason, usageChunks, id: chunks[0]?.id as string };
}

/** Base64 and base64url are the same bytes (Gemini's SDK re-sends what it got in the other alphabet). */
function standardBase64(text: string): string {
  return Buffer.from(text, "base64url").toString("base64");
}

/** Upper-case types, no additionalProperties: how a JSON Schema reads as Gemini's Schema for these simple cases. */
function asGeminiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(asGeminiSchema);
  if (typeof schema !== "object" || schema === null) return schema;
  const result: Body = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "additionalProperties") continue;
    result[key] = key === "type" && typeof value === "string" ? value.toUpperCase() : asGeminiSchema(value);
  }
  return result;
}

/**
 * The recorded request with what does not matter taken out: the SDK's defaults (`responseModalities: ["TEXT"]`, an
 * empty generationConfig, the systemInstruction's role, an allow-list naming every function), its snake_case
 * spellings, its JSON-Schema form of parameters, and base64url encodings. `ids` maps the recording's tool call ids
 * to the ones this conversation used.
 */
function normaliseRecorded(recorded: Body, ids: Record<string, string> = {}): Body {
  const copy = structuredClone(recorded);
  const config = copy.generationConfig as Body | undefined;
  if (config !== undefined) {
    if (JSON.stringify(config.responseModalities) === '["TEXT"]') delete config.responseModalities;
    const thinking = config.thinkingConfig as Body | undefined;
    if (thinking?.thinking_budget !== undefined) {
      thinking.thinkingBudget = thinking.thinking_budget;
      delete thinking.thinking_budget;
    }
    if (Object.keys(config).length === 0) delete copy.generationConfig;
  }
  if (copy.systemInstruction !== undefined) delete (copy.systemInstruction as Body).role;
  const declarations = ((copy.tools as { functionDeclarations: Body[] }[] | undefined) ?? []).flatMap(
    (tool) => tool.functionDeclarations,
  );
  for (const declaration of declarations) {
    if (declaration.parameters_json_schema !== undefined) {
      declaration.parameters = asGeminiSchema(declaration.parameters_json_schema);
      delete declaration.parameters_json_schema;
    }
  }
  const calling = (copy.toolConfig as { functionCallingConfig?: Body } | undefined)?.functionCallingConfig;
  const allowed = calling?.allowedFunctionNames as string[] | undefined;
  if (
    calling &&
    allowed &&
    [...allowed].sort().join() ===
      declarations
        .map((declaration) => declaration.name)
        .sort()
        .join()
  ) {
    delete calling.allowedFunctionNames;
  }
  for (const content of copy.contents as { parts: Body[] }[]) {
    for (const part of content.parts) {
      if (typeof part.thoughtSignature === "string") part.thoughtSignature = standardBase64(part.thoughtSignature);
      const inline = part.inlineData as Body | undefined;
      if (inline !== undefined) inline.data = standardBase64(inline.data as string);
      for (const key of ["functionCall", "functionResponse"]) {
        const named = part[key] as Body | undefined;
        if (named !== undefined && typeof named.id === "string") named.id = ids[named.id] ?? named.id;
      }
    }
  }
  return copy;
}

/** Checks the last request the replay upstream got: address, key, and body against the recording. */
function expectSentAsRecorded(name: string, options: { stream: boolean; ids?: Record<string, string> }): Body {
  const sent = upstream.received.at(-1);
  expect(sent?.url).toBe(
    options.stream
      ? "/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
      : "/v1/models/gemini-2.5-flash:generateContent",
  );
  expect(sent?.headers["x-goog-api-key"]).toBe("gm-test");
  expect(sent?.headers.authorization).toBeUndefined();
  const recorded = fixture(`gemini/${name}`).requestBody as Body;
  expect(sent?.body).toEqual(normaliseRecorded(recorded, options.ids));
  return sent?.body as Body;
}

interface UsageOut {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
  cost: number;
}

function expectUsage(usage: unknown, model: keyof typeof PRICES, expected: ExpectedUsage): void {
  const rendered = usage as UsageOut;
  expect(rendered).toMatchObject({
    prompt_tokens: expected.prompt,
    completion_tokens: expected.completion,
    total_tokens: expected.prompt + expected.completion,
    prompt_tokens_details: { cached_tokens: expected.cached ?? 0 },
    completion_tokens_details: { reasoning_tokens: expected.reasoning },
    cost: nanoToUsdNumber(costNano(model, expected)),
  });
}

/** The generation row and the debit: exactly the expected usage at list prices, through the ledger. */
async function expectBilled(
  userId: string,
  generationId: string,
  model: keyof typeof PRICES,
  expected: ExpectedUsage & { finishReason: string | null; streamed: boolean; httpStatus?: number },
  alreadySpentNano = 0n,
): Promise<void> {
  const { db, usageWriter } = harness.container;
  await usageWriter.flush();
  const cost = costNano(model, expected);
  const row = (await generationsOf(db, userId)).find((generation) => generation.id === generationId);
  expect(row).toMatchObject({
    modelId: model,
    provider: "google",
    streamed: expected.streamed,
    httpStatus: expected.httpStatus ?? 200,
    finishReason: expected.finishReason,
    promptTokens: expected.prompt,
    completionTokens: expected.completion,
    reasoningTokens: expected.reasoning,
    cachedTokens: expected.cached ?? 0,
    costNano: cost,
  });
  expect(await balanceOf(db, userId)).toBe(FUNDING_NANO - alreadySpentNano - cost);
  await expectLedgerConsistent(db, userId);
}

const newUser = () => harness.createFundedUser("5");

const cityTools = [
  {
    type: "function",
    function: { name: "get_user_country", description: "", parameters: { type: "object", properties: {} } },
  },
  {
    type: "function",
    function: {
      name: "final_result",
      description: "The final response which ends this conversation",
      parameters: {
        type: "object",
        properties: { city: { type: "string" }, country: { type: "string" } },
        required: ["city", "country"],
      },
    },
  },
];

const getCountryTool = {
  type: "function",
  function: {
    name: "get_country",
    description: "",
    parameters: { type: "object", properties: {}, additionalProperties: false },
  },
};

const potatoJpeg = Buffer.from(
  (fixture("gemini/image-inline-data").requestBody as { contents: { parts: { inlineData?: { data: string } }[] }[] })
    .contents[0]?.parts[1]?.inlineData?.data ?? "",
  "base64url",
);

describe("recorded Gemini traffic through /v1", () => {
  it("text: a plain answer with a system prompt; thinking billed as output", async () => {
    upstream.respondWith(() => "gemini/text");
    const user = await newUser();
    const { json } = await call(user.apiKey, {
      model: FLASH,
      messages: [
        { role: "system", content: "You are a chatbot." },
        { role: "user", content: "Hello!" },
      ],
    });
    expectSentAsRecorded("text", { stream: false });
    const choice = (json?.choices as Body[])[0];
    expect(choice).toMatchObject({
      message: { role: "assistant", content: "Hello! How can I help you today?" },
      finish_reason: "stop",
      native_finish_reason: "STOP",
    });
    expect(json?.model).toBe(FLASH);
    const expected = { prompt: 9, completion: 9 + 34, reasoning: 34 };
    expectUsage(json?.usage, FLASH, expected);
    await expectBilled(user.userId, json?.id as string, FLASH, { ...expected, finishReason: "stop", streamed: false });
  });

  it.each([true, false])(
    "text-stream (include_usage: %s): CRLF events, cumulative usage billed once from the last event",
    async (includeUsage) => {
      upstream.respondWith(() => "gemini/text-stream");
      const user = await newUser();
      const { chunks } = await call(user.apiKey, {
        model: FLASH,
        messages: [{ role: "user", content: "Count from 1 to 30, one number per line, digits only." }],
        stream: true,
        stream_options: { include_usage: includeUsage },
      });
      expectSentAsRecorded("text-stream", { stream: true });
      const streamed = assemble(chunks);
      expect(streamed.content).toBe(Array.from({ length: 30 }, (_, index) => index + 1).join("\n"));
      expect(streamed.finishReason).toBe("stop");
      expect(chunks[0]?.choices).toEqual([
        expect.objectContaining({ delta: expect.objectContaining({ role: "assistant" }) as unknown }),
      ]);
      const expected = { prompt: 18, completion: 80 + 35, reasoning: 35 };
      // The usage and cost go out once, on the last chunk: the usage-only chunk when asked for, else the finish.
      const finishing = chunks.filter((chunk) =>
        (chunk.choices as Body[]).some((choice) => choice.finish_reason !== null),
      );
      expect(finishing).toHaveLength(1);
      expect(streamed.usageChunks).toHaveLength(includeUsage ? 1 : 0);
      expect(chunks.at(-1)).toBe(includeUsage ? streamed.usageChunks[0] : finishing[0]);
      expectUsage(chunks.at(-1)?.usage, FLASH, expected);
      expect(chunks.filter((chunk) => chunk.usage != null)).toHaveLength(1);
      expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
      await expectBilled(user.userId, streamed.id, FLASH, { ...expected, finishReason: "stop", streamed: true });
    },
  );

  it("function-call then function-response-followup, driven by the openai package", async () => {
    const user = await newUser();
    const client = new OpenAI({ baseURL: harness.baseUrl, apiKey: user.apiKey, maxRetries: 0 });
    const messages: ChatCompletionMessageParam[] = [
      { role: "user", content: "What is the largest city in the user country?" },
    ];
    upstream.respondWith(() => "gemini/function-call");
    const first = await client.chat.completions.create({
      model: FLASH,
      messages,
      tools: cityTools as OpenAI.ChatCompletionTool[],
      tool_choice: "required",
    });
    assertMatchesOpenAISpec("response", first);
    expectSentAsRecorded("function-call", { stream: false });
    const [call1] = first.choices[0]?.message.tool_calls ?? [];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(first.choices[0]?.message.content).toBeNull();
    // Gemini sent `args: {}`: the client gets "{}" and an id made from the response.
    expect(call1).toEqual({
      id: "call_LlteaIDvD9m7nvgPz5Sb0Aw_0",
      type: "function",
      function: { name: "get_user_country", arguments: "{}" },
    });
    const firstCost = costNano(FLASH, { prompt: 33, completion: 5, reasoning: 0 });
    await expectBilled(user.userId, first.id, FLASH, {
      prompt: 33,
      completion: 5,
      reasoning: 0,
      finishReason: "tool_calls",
      streamed: false,
    });

    messages.push(first.choices[0]!.message, {
      role: "tool",
      tool_call_id: call1!.id,
      content: JSON.stringify({ return_value: "Mexico" }),
    });
    upstream.respondWith(() => "gemini/function-response-followup");
    const second = await client.chat.completions.create({
      model: FLASH,
      messages,
      tools: cityTools as OpenAI.ChatCompletionTool[],
      tool_choice: "required",
    });
    assertMatchesOpenAISpec("response", second);
    // The tool result went back as a functionResponse named after the call its id points at.
    expectSentAsRecorded("function-response-followup", {
      stream: false,
      ids: { pyd_ai_3fa5644dae1d4aad997ae39c70006fbd: call1!.id },
    });
    const [call2] = second.choices[0]?.message.tool_calls ?? [];
    const called = call2?.type === "function" ? call2.function : undefined;
    expect(called?.name).toBe("final_result");
    expect(JSON.parse(called?.arguments ?? "")).toEqual({ city: "Mexico City", country: "Mexico" });
    await expectBilled(
      user.userId,
      second.id,
      FLASH,
      { prompt: 47, completion: 8, reasoning: 0, finishReason: "tool_calls", streamed: false },
      firstCost,
    );
  });

  it("parallel-function-calls, then the three results in one turn with the first call's signature", async () => {
    const user = await newUser();
    const tools = [
      {
        type: "function",
        function: {
          name: "generate_topic",
          description: "",
          parameters: { type: "object", properties: {}, additionalProperties: false },
        },
      },
      {
        type: "function",
        function: {
          name: "final_result",
          description: "The final response which ends this conversation",
          parameters: {
            type: "object",
            properties: { response: { type: "array", items: { type: "string" } } },
            required: ["response"],
          },
        },
      },
    ];
    const messages: Body[] = [
      { role: "system", content: "Tell three jokes. Generate topics with the generate_topic tool." },
      { role: "user", content: "" },
    ];
    upstream.respondWith(() => "gemini/parallel-function-calls");
    const { json } = await call(user.apiKey, { model: FLASH, messages, tools, tool_choice: "required" });
    expectSentAsRecorded("parallel-function-calls", { stream: false });
    const message = (json?.choices as { message: Body }[])[0]?.message as {
      tool_calls: StreamedToolCall[];
      reasoning_details: Body[];
    };
    expect(message.tool_calls.map((toolCall) => [toolCall.function.name, toolCall.function.arguments])).toEqual([
      ["generate_topic", "{}"],
      ["generate_topic", "{}"],
      ["generate_topic", "{}"],
    ]);
    expect(new Set(message.tool_calls.map((toolCall) => toolCall.id)).size).toBe(3);
    const recordedSignature = (
      (JSON.parse(fixture("gemini/parallel-function-calls").body) as Body).candidates as {
        content: { parts: { thoughtSignature?: string }[] };
      }[]
    )[0]?.content.parts[0]?.thoughtSignature;
    expect(message.tool_calls[0]?.extra_content).toEqual({ google: { thought_signature: recordedSignature } });
    expect(message.reasoning_details).toEqual([
      expect.objectContaining({ type: "reasoning.encrypted", data: recordedSignature, id: message.tool_calls[0]?.id }),
    ]);
    const firstUsage = { prompt: 83, completion: 30 + 190, reasoning: 190 };
    expectUsage(json?.usage, FLASH, firstUsage);
    await expectBilled(user.userId, json?.id as string, FLASH, {
      ...firstUsage,
      finishReason: "tool_calls",
      streamed: false,
    });

    // The client answers all three calls; Gemini needs them as one turn of three functionResponses.
    upstream.respondWith(() => "gemini/text");
    const results = message.tool_calls.map((toolCall, index) => ({
      role: "tool",
      tool_call_id: toolCall.id,
      content: ["cats", "taxes", "weather"][index],
    }));
    const followUp = await call(user.apiKey, {
      model: FLASH,
      messages: [...messages, { role: "assistant", ...message, content: null }, ...results],
      tools,
    });
    expect(followUp.status).toBe(200);
    const sent = upstream.received.at(-1)?.body as { contents: { role: string; parts: Body[] }[] };
    expect(sent.contents.slice(1)).toEqual([
      {
        role: "model",
        parts: message.tool_calls.map((toolCall, index) => ({
          functionCall: { id: toolCall.id, name: "generate_topic", args: {} },
          ...(index === 0 ? { thoughtSignature: recordedSignature } : {}),
        })),
      },
      {
        role: "user",
        parts: message.tool_calls.map((toolCall, index) => ({
          functionResponse: {
            id: toolCall.id,
            name: "generate_topic",
            response: { output: ["cats", "taxes", "weather"][index] },
          },
        })),
      },
    ]);
  });

  it("function-call-stream: the call arrives whole, finish tool_calls", async () => {
    upstream.respondWith(() => "gemini/function-call-stream");
    const user = await newUser();
    const property = (name: string, description: string) => ({
      type: "object",
      properties: { [name]: { type: "string", description } },
      required: [name],
    });
    const { chunks } = await call(user.apiKey, {
      model: FLASH,
      messages: [
        { role: "system", content: "You are a helpful chatbot." },
        { role: "user", content: "What is the temperature of the capital of France?" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_capital",
            description: "Get the capital of a country.",
            parameters: property("country", "The country name."),
          },
        },
        {
          type: "function",
          function: {
            name: "get_temperature",
            description: "Get the temperature in a city.",
            parameters: property("city", "The city name."),
          },
        },
      ],
      stream: true,
    });
    expectSentAsRecorded("function-call-stream", { stream: true });
    const streamed = assemble(chunks);
    expect(streamed.toolCalls).toEqual([
      {
        id: "call_1lpeaMTxIpW1nvgP-O3vwQY_0",
        type: "function",
        function: { name: "get_capital", arguments: '{"country":"France"}' },
      },
    ]);
    expect(streamed.finishReason).toBe("tool_calls");
    await expectBilled(user.userId, streamed.id, FLASH, {
      prompt: 52,
      completion: 5,
      reasoning: 0,
      finishReason: "tool_calls",
      streamed: true,
    });
  });

  it("function-call-thought-signature-stream and its follow-up: the signature survives the round trip (openai package)", async () => {
    const user = await newUser();
    const client = new OpenAI({ baseURL: harness.baseUrl, apiKey: user.apiKey, maxRetries: 0 });
    const question: ChatCompletionMessageParam = {
      role: "user",
      content: "What is the capital of the user country? Call the tool",
    };
    upstream.respondWith(() => "gemini/function-call-thought-signature-stream");
    const stream = await client.chat.completions.create({
      model: FLASH,
      messages: [question],
      tools: [getCountryTool as OpenAI.ChatCompletionTool],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: Body[] = [];
    for await (const chunk of stream) {
      assertMatchesOpenAISpec("chunk", chunk);
      chunks.push(chunk as unknown as Body);
    }
    expectSentAsRecorded("function-call-thought-signature-stream", { stream: true });
    const streamed = assemble(chunks);
    const recordedSignature = /"thoughtSignature": "([^"]+)"/.exec(
      fixture("gemini/function-call-thought-signature-stream").body,
    )?.[1];
    expect(streamed.toolCalls).toEqual([
      {
        id: "call_QUVVadTSNJ6_qtsPvN7J8Q0_0",
        type: "function",
        function: { name: "get_country", arguments: "{}" },
        extra_content: { google: { thought_signature: recordedSignature } },
      },
    ]);
    expect(streamed.finishReason).toBe("tool_calls");
    const firstUsage = { prompt: 29, completion: 10 + 202, reasoning: 202 };
    expectUsage(chunks.at(-1)?.usage, FLASH, firstUsage);
    await expectBilled(user.userId, streamed.id, FLASH, { ...firstUsage, finishReason: "tool_calls", streamed: true });

    // The client sends back what it assembled, signature included, as clients of Gemini's own endpoint do.
    upstream.respondWith(() => "gemini/function-call-thought-signature-followup-stream");
    const toolCall = streamed.toolCalls[0]!;
    const followUp = await client.chat.completions.create({
      model: FLASH,
      messages: [
        question,
        { role: "assistant", content: null, tool_calls: [toolCall] } as ChatCompletionMessageParam,
        { role: "tool", tool_call_id: toolCall.id, content: JSON.stringify({ return_value: "Mexico" }) },
      ],
      tools: [getCountryTool as OpenAI.ChatCompletionTool],
      stream: true,
    });
    let answer = "";
    let lastChunk: Body | undefined;
    for await (const chunk of followUp) {
      assertMatchesOpenAISpec("chunk", chunk);
      answer += chunk.choices[0]?.delta.content ?? "";
      lastChunk = chunk as unknown as Body;
    }
    // The recorded follow-up carries the signature (base64url there, the same bytes) on the functionCall part.
    expectSentAsRecorded("function-call-thought-signature-followup-stream", {
      stream: true,
      ids: { pyd_ai_29bf73b69e02448588e15893d47a3e7e: toolCall.id },
    });
    expect(answer).toBe("The capital of Mexico is Mexico City.");
    const secondUsage = { prompt: 257, completion: 8, reasoning: 0 };
    await expectBilled(
      user.userId,
      lastChunk?.id as string,
      FLASH,
      { ...secondUsage, finishReason: "stop", streamed: true },
      costNano(FLASH, firstUsage),
    );
  });

  it("thinking-stream: thoughts come back as reasoning before the answer; the signature as a reasoning detail", async () => {
    upstream.respondWith(() => "gemini/thinking-stream");
    const user = await newUser();
    const { chunks } = await call(user.apiKey, {
      model: FLASH,
      messages: [
        { role: "system", content: "You are a helpful assistant." },
        { role: "user", content: "How do I cross the street?" },
      ],
      tools: [
        {
          type: "function",
          function: { name: "dummy", description: "", parameters: { type: "object", properties: {} } },
        },
      ],
      reasoning: { enabled: true },
      stream: true,
      stream_options: { include_usage: true },
    });
    expectSentAsRecorded("thinking-stream", { stream: true });
    const streamed = assemble(chunks);
    expect(streamed.reasoning).toMatch(/^\*\*Clarifying User Goals\*\*\n\nI'm currently focused/);
    expect(streamed.content).toMatch(/^This is a great question! Safely crossing the street is all about being aware/);
    expect(streamed.content).toMatch(
      /\*\*stay alert and be predictable\*\*\. Always assume a driver might not see you\.$/,
    );
    expect(streamed.reasoningDetails).toEqual([
      expect.objectContaining({
        type: "reasoning.encrypted",
        format: "google-gemini-v1",
        data: expect.stringMatching(/^CiIB0e2Kb6Sy/) as unknown,
      }),
    ]);
    expect(streamed.finishReason).toBe("stop");
    const expected = { prompt: 34, completion: 469 + 787, reasoning: 787 };
    expectUsage(chunks.at(-1)?.usage, FLASH, expected);
    await expectBilled(user.userId, streamed.id, FLASH, { ...expected, finishReason: "stop", streamed: true });
  });

  it("json-response-schema: json_schema becomes responseMimeType + responseJsonSchema", async () => {
    upstream.respondWith(() => "gemini/json-response-schema");
    const user = await newUser();
    const { json } = await call(user.apiKey, {
      model: FLASH,
      messages: [{ role: "user", content: "What is the largest city in Mexico?" }],
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "CityLocation",
          schema: {
            description: "A city and its country.",
            properties: { city: { type: "string" }, country: { type: "string" } },
            required: ["city", "country"],
            title: "CityLocation",
            type: "object",
          },
        },
      },
    });
    expectSentAsRecorded("json-response-schema", { stream: false });
    const content = (json?.choices as { message: { content: string } }[])[0]?.message.content ?? "";
    expect(JSON.parse(content)).toEqual({ city: "Mexico City", country: "Mexico" });
    await expectBilled(user.userId, json?.id as string, FLASH, {
      prompt: 8,
      completion: 20,
      reasoning: 0,
      finishReason: "stop",
      streamed: false,
    });
  });

  it("image-inline-data: a data URL image goes inline", async () => {
    upstream.respondWith(() => "gemini/image-inline-data");
    const user = await newUser();
    const { json } = await call(user.apiKey, {
      model: FLASH,
      messages: [
        { role: "system", content: "You are a helpful chatbot." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is this vegetable?" },
            { type: "image_url", image_url: { url: `data:image/jpeg;base64,${potatoJpeg.toString("base64")}` } },
          ],
        },
      ],
    });
    expectSentAsRecorded("image-inline-data", { stream: false });
    expect((json?.choices as { message: { content: string } }[])[0]?.message.content).toBe("That is a potato.");
    await expectBilled(user.userId, json?.id as string, FLASH, {
      prompt: 1817,
      completion: 5,
      reasoning: 0,
      finishReason: "stop",
      streamed: false,
    });
  });

  it("finish-max-tokens: max_tokens and thinking off; MAX_TOKENS → length", async () => {
    upstream.respondWith(() => "gemini/finish-max-tokens");
    const user = await newUser();
    const { json } = await call(user.apiKey, {
      model: FLASH,
      messages: [
        { role: "system", content: "You are a helpful chatbot." },
        { role: "user", content: "What is the capital of France?" },
      ],
      max_tokens: 5,
      reasoning_effort: "none",
    });
    expectSentAsRecorded("finish-max-tokens", { stream: false });
    expect((json?.choices as Body[])[0]).toMatchObject({
      message: { content: "The capital of France is" },
      finish_reason: "length",
      native_finish_reason: "MAX_TOKENS",
    });
    await expectBilled(user.userId, json?.id as string, FLASH, {
      prompt: 15,
      completion: 5,
      reasoning: 0,
      finishReason: "length",
      streamed: false,
    });
  });

  it("error-404-model-not-found: Google's 404 becomes OpenAI's, and nothing is billed", async () => {
    upstream.respondWith(() => "gemini/error-404-model-not-found");
    const user = await newUser();
    const { status, json } = await call(user.apiKey, { model: FLASH, messages: [{ role: "user", content: "hello" }] });
    expectSentAsRecorded("error-404-model-not-found", { stream: false });
    expect(status).toBe(404);
    expect(json?.error).toMatchObject({
      type: "not_found_error",
      code: "model_not_found",
      message: expect.stringMatching(/is not found for API version v1beta/) as unknown,
    });
    await harness.container.usageWriter.flush();
    expect(await balanceOf(harness.container.db, user.userId)).toBe(FUNDING_NANO);
    const rows = await generationsOf(harness.container.db, user.userId);
    expect(rows).toEqual([expect.objectContaining({ httpStatus: 404, costNano: 0n })]);
  });
});

describe("translations no recording shows", () => {
  it("stop sequences go to generationConfig.stopSequences; unsupported fields are reported as dropped", async () => {
    upstream.respondWith(() => "gemini/text");
    const user = await newUser();
    const { status, headers } = await call(user.apiKey, {
      model: FLASH,
      messages: [{ role: "user", content: "Hello!" }],
      stop: ["\n\n", "END"],
      temperature: 0.2,
      logit_bias: { "1234": -100 },
    });
    expect(status).toBe(200);
    expect((upstream.received.at(-1)?.body as Body).generationConfig).toEqual({
      stopSequences: ["\n\n", "END"],
      temperature: 0.2,
    });
    expect(headers.get("x-tollgate-dropped-parameters")).toBe("logit_bias");
  });

  it("an assistant turn with text and tool calls goes back as one model turn with both", async () => {
    upstream.respondWith(() => "gemini/text");
    const user = await newUser();
    const { status } = await call(user.apiKey, {
      model: FLASH,
      messages: [
        { role: "user", content: "Weather?" },
        {
          role: "assistant",
          content: "Checking two cities.",
          tool_calls: [
            { id: "c1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
            { id: "c2", type: "function", function: { name: "weather", arguments: "" } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "sunny" },
        { role: "tool", tool_call_id: "c2", content: "rain" },
      ],
      tools: [
        {
          type: "function",
          function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
        },
      ],
    });
    expect(status).toBe(200);
    const sent = upstream.received.at(-1)?.body as { contents: unknown[] };
    expect(sent.contents.slice(1)).toEqual([
      {
        role: "model",
        parts: [
          { text: "Checking two cities." },
          { functionCall: { id: "c1", name: "weather", args: { city: "Paris" } } },
          { functionCall: { id: "c2", name: "weather", args: {} } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { id: "c1", name: "weather", response: { output: "sunny" } } },
          { functionResponse: { id: "c2", name: "weather", response: { output: "rain" } } },
        ],
      },
    ]);
  });

  it("a tool result that answers no earlier tool call is a 400 before anything is sent", async () => {
    const user = await newUser();
    const before = upstream.received.length;
    const { status, json } = await call(user.apiKey, {
      model: FLASH,
      messages: [
        { role: "user", content: "Hi" },
        { role: "tool", tool_call_id: "nobody", content: "x" },
      ],
    });
    expect(status).toBe(400);
    expect(json?.error).toMatchObject({ type: "invalid_request_error", param: "messages[1].tool_call_id" });
    expect(upstream.received.length).toBe(before);
  });

  it("n = 2 is fanned out: two calls without candidateCount, two choices, usage and cost summed", async () => {
    upstream.respondWith(() => "gemini/text");
    const user = await newUser();
    const before = upstream.received.length;
    const { json } = await call(user.apiKey, { model: FLASH, messages: [{ role: "user", content: "Hello!" }], n: 2 });
    expect(upstream.received.length - before).toBe(2);
    for (const received of upstream.received.slice(before)) {
      expect((received.body as Body).generationConfig).toBeUndefined();
    }
    expect((json?.choices as Body[]).map((choice) => choice.index)).toEqual([0, 1]);
    const expected = { prompt: 18, completion: 86, reasoning: 68 };
    expectUsage(json?.usage, FLASH, expected);
    await expectBilled(user.userId, json?.id as string, FLASH, { ...expected, finishReason: "stop", streamed: false });
  });
});

describe("answers only Gemini's documentation shows (scripted upstream, gemini-2.5-pro)", () => {
  const textStreamEvents = fixture("gemini/text-stream")
    .body.split("\r\n\r\n")
    .filter((event) => event !== "");

  it("text and a function call in one answer: both reach the client", async () => {
    scripted.answer = {
      body: JSON.stringify({
        candidates: [
          {
            content: {
              role: "model",
              parts: [
                { text: "Let me check the weather." },
                { functionCall: { name: "weather", args: { city: "Paris" } } },
              ],
            },
            finishReason: "STOP",
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 12, totalTokenCount: 32 },
        modelVersion: "gemini-2.5-pro",
        responseId: "scripted-mixed",
      }),
    };
    const user = await newUser();
    const { json } = await call(user.apiKey, {
      model: PRO,
      messages: [{ role: "user", content: "Weather in Paris?" }],
    });
    expect(scripted.received.at(-1)?.url).toBe("/v1beta/models/gemini-2.5-pro:generateContent");
    expect(scripted.received.at(-1)?.headers["x-goog-api-key"]).toBe("gm-scripted");
    expect((json?.choices as Body[])[0]).toMatchObject({
      message: {
        content: "Let me check the weather.",
        tool_calls: [
          {
            id: "call_scripted-mixed_0",
            type: "function",
            function: { name: "weather", arguments: '{"city":"Paris"}' },
          },
        ],
      },
      finish_reason: "tool_calls",
    });
    await expectBilled(user.userId, json?.id as string, PRO, {
      prompt: 20,
      completion: 12,
      reasoning: 0,
      finishReason: "tool_calls",
      streamed: false,
    });
  });

  const blocked = {
    promptFeedback: { blockReason: "PROHIBITED_CONTENT" },
    usageMetadata: { promptTokenCount: 11, totalTokenCount: 11 },
    modelVersion: "gemini-2.5-pro",
    responseId: "scripted-blocked",
  };

  it("a blocked prompt (promptFeedback.blockReason) is a content_filter answer", async () => {
    scripted.answer = { body: JSON.stringify(blocked) };
    const user = await newUser();
    const { json } = await call(user.apiKey, {
      model: PRO,
      messages: [{ role: "user", content: "something forbidden" }],
    });
    expect((json?.choices as Body[])[0]).toMatchObject({
      message: { role: "assistant", content: null },
      finish_reason: "content_filter",
      native_finish_reason: "PROHIBITED_CONTENT",
    });
    await expectBilled(user.userId, json?.id as string, PRO, {
      prompt: 11,
      completion: 0,
      reasoning: 0,
      finishReason: "content_filter",
      streamed: false,
    });
  });

  it("a blocked prompt, streamed: one content_filter finish with its usage", async () => {
    scripted.answer = { contentType: "text/event-stream", body: geminiSse(blocked) };
    const user = await newUser();
    const { chunks } = await call(user.apiKey, {
      model: PRO,
      messages: [{ role: "user", content: "something forbidden" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(scripted.received.at(-1)?.url).toBe("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
    const streamed = assemble(chunks);
    expect(streamed.finishReason).toBe("content_filter");
    expect(streamed.content).toBe("");
    await expectBilled(user.userId, streamed.id, PRO, {
      prompt: 11,
      completion: 0,
      reasoning: 0,
      finishReason: "content_filter",
      streamed: true,
    });
  });

  it("an error event mid-stream ends the stream with an error chunk; what Gemini reported so far is billed", async () => {
    // The first two recorded events of text-stream, then the error event Gemini sends in a failing stream.
    scripted.answer = {
      contentType: "text/event-stream",
      body: `${textStreamEvents.slice(0, 2).join("\r\n\r\n")}\r\n\r\n${geminiSse({
        error: { code: 503, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE" },
      })}`,
    };
    const user = await newUser();
    const { chunks } = await call(user.apiKey, {
      model: PRO,
      messages: [{ role: "user", content: "Count from 1 to 30, one number per line, digits only." }],
      stream: true,
    });
    const last = chunks.at(-1);
    expect(last?.error).toEqual({
      message: "The upstream provider failed mid-stream.",
      type: "upstream_error",
      code: "upstream_error",
    });
    expect(assemble(chunks.slice(0, -1)).content).toMatch(/^1\n2\n3\n.*\n29\n3$/s);
    await expectBilled(user.userId, last?.id as string, PRO, {
      prompt: 18,
      completion: 79 + 35,
      reasoning: 35,
      finishReason: "error",
      streamed: true,
      httpStatus: 502,
    });
  });

  it("a stream whose body ends before any finish is incomplete, and billed for what was reported", async () => {
    scripted.answer = { contentType: "text/event-stream", body: `${textStreamEvents[0]}\r\n\r\n` };
    const user = await newUser();
    const { chunks } = await call(user.apiKey, {
      model: PRO,
      messages: [{ role: "user", content: "Count from 1 to 30, one number per line, digits only." }],
      stream: true,
    });
    expect(chunks.at(-1)?.error).toMatchObject({ code: "upstream_stream_incomplete" });
    await expectBilled(user.userId, chunks.at(-1)?.id as string, PRO, {
      prompt: 18,
      completion: 31 + 35,
      reasoning: 35,
      finishReason: "error",
      streamed: true,
      httpStatus: 502,
    });
  });
});

describe("image URLs under the real address policy", () => {
  it.each([
    ["https://127.0.0.1/potato.jpg", "the address 127.0.0.1 is a loopback address"],
    ["https://[::1]:8443/potato.jpg", "the address ::1 is a loopback address"],
    ["https://10.0.0.1/potato.jpg", "the address 10.0.0.1 is a private address"],
    [
      "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
      "the address 169.254.169.254 is a link-local address",
    ],
    ["https://localhost/potato.jpg", "its host localhost resolves to"],
  ])("%s is refused with a 400 that says why, before anything is sent upstream", async (url, reason) => {
    const user = await newUser();
    const before = upstream.received.length;
    const { status, json } = await call(user.apiKey, {
      model: FLASH,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url } },
          ],
        },
      ],
    });
    expect(status).toBe(400);
    const error = json?.error as { message: string; type: string; param: string; code: string };
    expect(error).toMatchObject({
      type: "invalid_request_error",
      code: "invalid_image_url",
      param: "messages[0].content[1].image_url.url",
    });
    expect(error.message).toContain(reason);
    expect(upstream.received.length).toBe(before);
    await harness.container.usageWriter.flush();
    expect(await generationsOf(harness.container.db, user.userId)).toEqual([]);
    expect(await balanceOf(harness.container.db, user.userId)).toBe(FUNDING_NANO);
  });
});
