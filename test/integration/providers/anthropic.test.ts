import { TEST_ACTOR } from "../../helpers/audit";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createParser } from "eventsource-parser";
import OpenAI from "openai";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channels } from "~/server/db/schema";
import { addChannel } from "~/server/services/channels";
import { fixture, fixtureManifest } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import { startReplayUpstream, type ReceivedRequest, type ReplayUpstream } from "../../helpers/replay-upstream";
import { accumulateChunks, type Accumulated } from "../../unit/server/gateway/providers/anthropic/accumulate-chunks";
import {
  expectedAnthropicRequest,
  openAIEquivalent,
} from "../../unit/server/gateway/providers/anthropic/openai-equivalents";

/*
 * The native Anthropic adapter end to end: OpenAI requests into the production entry, Anthropic's recorded answers
 * out of a local upstream, OpenAI-shaped answers (checked against OpenAI's schema) and exact debits back. Every
 * Anthropic recording in the shared fixtures is replayed. Cases the recordings lack (a refusal, interleaved parallel
 * calls, an error in the middle of a stream, 429/529/401 statuses) are assembled from recorded events and served by a
 * second, scripted upstream.
 */

type Body = Record<string, unknown>;

/** List prices in the catalog (USD per million tokens), restated as nano-USD per token: $1/M = 1,000 nano-USD. */
const HAIKU_4_5 = { input: 1_000n, output: 5_000n, cacheRead: 100n, cacheWrite: 1_250n };
const SONNET_4_5 = { input: 3_000n, output: 15_000n, cacheRead: 300n, cacheWrite: 3_750n };
type Prices = typeof HAIKU_4_5;

interface Tokens {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

function costNano(tokens: Tokens, prices: Prices): bigint {
  return (
    BigInt(tokens.input) * prices.input +
    BigInt(tokens.cacheRead ?? 0) * prices.cacheRead +
    BigInt(tokens.cacheWrite ?? 0) * prices.cacheWrite +
    BigInt(tokens.output) * prices.output
  );
}

/** The usage object a client must see for these Anthropic counts, cost included. */
function expectedUsage(tokens: Tokens, prices: Prices): Body {
  const prompt = tokens.input + (tokens.cacheRead ?? 0) + (tokens.cacheWrite ?? 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: tokens.output,
    total_tokens: prompt + tokens.output,
    prompt_tokens_details: { cached_tokens: tokens.cacheRead ?? 0, cache_write_tokens: tokens.cacheWrite ?? 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
    // Costs here are far below 2^53 nano-USD, so this division is the nearest double to the exact amount.
    cost: Number(costNano(tokens, prices)) / 1e9,
  };
}

const HAIKU = "anthropic/claude-haiku-4.5";
const SONNET = "anthropic/claude-sonnet-4.5";

let harness: GatewayHarness;
let upstream: ReplayUpstream;
let scripted: ScriptedUpstream;

// ---------------------------------------------------------------------------------------------------------------
// A second upstream for assembled answers: each test says what the next request gets.

interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

interface ScriptedUpstream {
  baseUrl: string;
  received: ReceivedRequest[];
  answerWith(answer: ScriptedAnswer): void;
  close(): Promise<void>;
}

async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const received: ReceivedRequest[] = [];
  let next: ScriptedAnswer = { status: 500, body: "" };
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: JSON.parse(Buffer.concat(parts).toString("utf8")) as unknown,
      });
      response.writeHead(next.status, next.headers);
      response.end(next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    received,
    answerWith(answer) {
      next = answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseEvents(text: string): { event: string | undefined; data: string }[] {
  const events: { event: string | undefined; data: string }[] = [];
  const parser = createParser({ onEvent: (event) => events.push({ event: event.event, data: event.data }) });
  parser.feed(text);
  parser.feed("\n\n");
  return events;
}

/** The payloads of a recorded Anthropic stream. */
function recordedPayloads(name: string): Body[] {
  return parseEvents(fixture(`anthropic/${name}`).body).map((event) => JSON.parse(event.data) as Body);
}

/** An Anthropic SSE body framed as Anthropic frames it (the event named after the payload's type). */
function anthropicSse(payloads: Body[]): string {
  return payloads.map((payload) => `event: ${payload.type as string}\ndata: ${JSON.stringify(payload)}\n\n`).join("");
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8" };
const JSON_HEADERS = { "content-type": "application/json" };

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  // These tests map each upstream error status one call at a time; a circuit opened by the earlier ones would answer
  // the later ones itself (test/integration/v1/failover.test.ts covers the breaker).
  harness = await startGatewayHarness({ env: { CIRCUIT_BREAKER_FAILURES: "1000" } });
  upstream = await startReplayUpstream();
  scripted = await startScriptedUpstream();
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "anthropic",
      name: "anthropic-replay",
      baseUrl: upstream.baseUrl,
      apiKey: "sk-ant-test",
      models: [{ modelId: HAIKU, upstreamModel: "claude-haiku-4-5" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "anthropic",
      name: "anthropic-scripted",
      baseUrl: scripted.baseUrl,
      apiKey: "sk-ant-scripted",
      models: [{ modelId: SONNET, upstreamModel: "claude-sonnet-4-5" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  await scripted?.close();
  await upstream?.close();
  await harness?.stop();
});

function client(apiKey: string): OpenAI {
  return new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 });
}

interface Called {
  status: number;
  headers: Headers;
  completion: Body | null;
  chunks: Body[];
  errorBody: Body | null;
}

/** One call through the gateway, with every answer checked against OpenAI's schema. */
async function call(apiKey: string, body: Body): Promise<Called> {
  const response = await fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const raw = await response.text();
  if (response.status !== 200) {
    const errorBody = JSON.parse(raw) as Body;
    assertMatchesOpenAISpec("error", errorBody);
    return { status: response.status, headers: response.headers, completion: null, chunks: [], errorBody };
  }
  if (body.stream !== true) {
    const completion = JSON.parse(raw) as Body;
    assertMatchesOpenAISpec("response", completion);
    return { status: 200, headers: response.headers, completion, chunks: [], errorBody: null };
  }
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const data = parseEvents(raw).map((event) => event.data);
  expect(data.at(-1)).toBe("[DONE]");
  const chunks = data.slice(0, -1).map((text) => JSON.parse(text) as Body);
  for (const chunk of chunks) {
    if (chunk.error === undefined) {
      assertMatchesOpenAISpec("chunk", chunk);
    } else {
      // The gateway's one departure from OpenAI's schema: the in-band error chunk's finish_reason "error".
      assertMatchesOpenAISpec("chunk", { ...chunk, choices: [], error: undefined });
    }
  }
  return { status: 200, headers: response.headers, completion: null, chunks, errorBody: null };
}

/** Every chunk of one stream: the gateway's id and model on each, usage and cost once, on the last chunk. */
function expectStreamShape(chunks: Body[], model: string, includeUsage: boolean): void {
  expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
  expect(chunks[0]?.id).toMatch(/^gen-/);
  for (const chunk of chunks) expect(chunk.model).toBe(model);
  expect((chunks[0]?.choices as Body[])[0]?.delta).toMatchObject({ role: "assistant" });
  const finishing = chunks.filter((chunk) => (chunk.choices as Body[]).some((choice) => choice.finish_reason !== null));
  expect(finishing).toHaveLength(1);
  // Usage reaches the client once: on a last choices:[] chunk when asked for (every other chunk then says
  // `usage: null`), else on the finish chunk, the last one.
  const usageOnly = chunks.filter((chunk) => (chunk.choices as unknown[]).length === 0);
  expect(usageOnly).toHaveLength(includeUsage ? 1 : 0);
  const last = includeUsage ? usageOnly[0] : finishing[0];
  expect(chunks.at(-1)).toBe(last);
  expect((last?.usage as Body | undefined)?.cost).toEqual(expect.any(Number));
  const withUsage = chunks.filter((chunk) => chunk.usage !== undefined && chunk.usage !== null);
  expect(withUsage).toEqual([last]);
  if (includeUsage) for (const chunk of chunks.slice(0, -1)) expect(chunk).toHaveProperty("usage", null);
}

/** The generation row and the ledger after one call: exactly `expected` debited, through the ledger. */
async function expectBilled(
  userId: string,
  before: bigint,
  expected: { tokens: Tokens | null; prices: Prices; id: unknown; streamed: boolean; finishReason: string | null },
  extra: Body = {},
): Promise<void> {
  await harness.container.usageWriter.flush();
  const cost = expected.tokens === null ? 0n : costNano(expected.tokens, expected.prices);
  const rows = await generationsOf(harness.container.db, userId);
  expect(rows).toHaveLength(1);
  const tokens = expected.tokens ?? { input: 0, output: 0 };
  expect(rows[0]).toMatchObject({
    id: expected.id,
    streamed: expected.streamed,
    finishReason: expected.finishReason,
    promptTokens: tokens.input + (tokens.cacheRead ?? 0) + (tokens.cacheWrite ?? 0),
    completionTokens: tokens.output,
    cachedTokens: tokens.cacheRead ?? 0,
    cacheWriteTokens: tokens.cacheWrite ?? 0,
    costNano: cost,
    ...extra,
  });
  expect(await balanceOf(harness.container.db, userId)).toBe(before - cost);
  const debits = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
  expect(debits).toEqual(cost === 0n ? [] : [expect.objectContaining({ externalId: expected.id, amountNano: -cost })]);
  await expectLedgerConsistent(harness.container.db, userId);
}

/** What the gateway sent to the replay upstream: Anthropic's endpoint, headers and, for recorded requests, body. */
function expectSentToAnthropic(sent: ReceivedRequest | undefined, apiKey = "sk-ant-test"): Body {
  expect(sent?.method).toBe("POST");
  expect(sent?.url).toBe("/v1/messages");
  expect(sent?.headers["x-api-key"]).toBe(apiKey);
  expect(sent?.headers["anthropic-version"]).toBe("2023-06-01");
  expect(sent?.headers.authorization).toBeUndefined();
  return sent?.body as Body;
}

// ---------------------------------------------------------------------------------------------------------------
// Every recording, replayed.

interface Expectation {
  content: string | RegExp | null;
  toolCalls?: { id: string; name: string; arguments: string }[];
  finish: "stop" | "length" | "tool_calls";
  native: string;
  tokens: Tokens;
  /** Checks of reasoning and whatever else is particular to the recording. */
  check?: (answer: Accumulated) => void;
}

function recordedThinking(name: string): { thinking: string; signature: string } {
  const blocks = (JSON.parse(fixture(`anthropic/${name}`).body) as { content: Body[] }).content;
  const block = blocks.find((candidate) => candidate.type === "thinking");
  return { thinking: block?.thinking as string, signature: block?.signature as string };
}

function streamedThinking(name: string): { thinking: string; signature: string } {
  const deltas = recordedPayloads(name)
    .filter((payload) => payload.type === "content_block_delta")
    .map((payload) => payload.delta as Body);
  return {
    thinking: deltas.map((delta) => (delta.type === "thinking_delta" ? (delta.thinking as string) : "")).join(""),
    signature: deltas.find((delta) => delta.type === "signature_delta")?.signature as string,
  };
}

const familyCalls = [
  ["toolu_0167cfEnoQaPviGdVXA95zcu", "Alice"],
  ["toolu_01EEe2V5HD1Ac4rKiUR4HD2T", "Bob"],
  ["toolu_01XFyAjstT3966qvRynZyVPo", "Charlie"],
  ["toolu_013mnQZbgtK2oe3Mo3XKJsx3", "Daisy"],
].map(([id, person]) => ({ id: id!, name: "retrieve_entity_info", arguments: JSON.stringify({ name: person }) }));

const EXPECTED: Record<string, Expectation> = {
  text: {
    content: "The capital of France is Paris.",
    finish: "stop",
    native: "end_turn",
    tokens: { input: 20, output: 10 },
  },
  "parallel-tool-use": {
    // Text and tool calls in one turn.
    content:
      "I'll help you find out who is the youngest by retrieving information about each family member. I'll retrieve their entity information to compare their ages.",
    toolCalls: familyCalls,
    finish: "tool_calls",
    native: "tool_use",
    tokens: { input: 423, output: 202 },
  },
  "tool-result-followup": {
    content: /Therefore, Daisy is the youngest in the family\./,
    finish: "stop",
    native: "end_turn",
    tokens: { input: 771, output: 77 },
  },
  "thinking-tool-use": {
    content: "I'll help you find the largest city in your country. First, let me determine which country you're from.",
    // An argument-less call: `{}`, never an empty string.
    toolCalls: [{ id: "toolu_01YGzqpRE16Vricda3Aqcejo", name: "get_user_country", arguments: "{}" }],
    finish: "tool_calls",
    native: "tool_use",
    tokens: { input: 398, output: 155 },
    check: (answer) => {
      const { thinking, signature } = recordedThinking("thinking-tool-use");
      expect(answer.reasoning).toBe(thinking);
      expect(answer.reasoningDetails).toEqual([
        { type: "reasoning.text", text: thinking, signature, format: "anthropic-claude-v1", index: 0 },
      ]);
    },
  },
  "thinking-tool-result-followup": {
    content: /the largest city in your country is \*\*Mexico City\*\*/,
    finish: "stop",
    native: "end_turn",
    tokens: { input: 566, output: 126 },
  },
  "prompt-cache-read-and-write": {
    content:
      "Python is a beginner-friendly, versatile programming language widely used for web development, data science, machine learning, automation, and scientific computing.",
    finish: "stop",
    native: "end_turn",
    tokens: { input: 3, output: 33, cacheRead: 1111, cacheWrite: 418 },
  },
  "image-url": {
    content: /^This is a potato\./,
    finish: "stop",
    native: "end_turn",
    tokens: { input: 296, output: 91 },
  },
  "text-stream": { content: "Hello", finish: "stop", native: "end_turn", tokens: { input: 10, output: 4 } },
  "tool-use-stream": {
    content: "",
    toolCalls: [{ id: "toolu_01CzN6riCPqw4pVSuTd9Dwn7", name: "pelican_name_generator", arguments: "{}" }],
    finish: "tool_calls",
    native: "tool_use",
    tokens: { input: 543, output: 40 },
  },
  "thinking-stream": {
    content: '1. **Pouch** - references their iconic bill pouch\n2. **Pelé** - playful take on "pelican"',
    finish: "stop",
    native: "end_turn",
    tokens: { input: 46, output: 133 },
    check: (answer) => {
      const { thinking, signature } = streamedThinking("thinking-stream");
      expect(answer.reasoning).toBe(thinking);
      expect(answer.reasoningDetails).toEqual([
        { type: "reasoning.text", text: thinking, signature, format: "anthropic-claude-v1", index: 0 },
      ]);
    },
  },
  "redacted-thinking-stream": {
    content: /^I notice that you've sent what appears to be some kind of test string or command\./,
    finish: "stop",
    native: "end_turn",
    tokens: { input: 92, output: 189 },
    check: (answer) => {
      const redacted = recordedPayloads("redacted-thinking-stream")
        .filter((payload) => payload.type === "content_block_start")
        .map((payload) => payload.content_block as Body)
        .filter((block) => block.type === "redacted_thinking");
      expect(redacted).toHaveLength(2);
      expect(answer.reasoning).toBe("");
      expect(answer.reasoningDetails).toEqual(
        redacted.map((block, index) => ({
          type: "reasoning.encrypted",
          data: block.data,
          format: "anthropic-claude-v1",
          index,
        })),
      );
    },
  },
  "prompt-cache-write-max-tokens-stream": {
    // Truncated by max_tokens.
    content: "OK",
    finish: "length",
    native: "max_tokens",
    tokens: { input: 3, output: 1, cacheWrite: 18639 },
  },
  "prompt-cache-read-max-tokens-stream": {
    content: "OK",
    finish: "length",
    native: "max_tokens",
    tokens: { input: 3, output: 1, cacheRead: 18639 },
  },
  "image-base64-stream": {
    content: "Red square, green square.",
    finish: "stop",
    native: "end_turn",
    tokens: { input: 83, output: 9 },
  },
  "json-output-format-stream": {
    content: /^\{"name": "Biscuit", "age": 4, "bio": "Biscuit is a golden retriever/,
    finish: "stop",
    native: "end_turn",
    tokens: { input: 230, output: 94 },
    check: (answer) => {
      expect(JSON.parse(answer.content)).toEqual({ name: "Biscuit", age: 4, bio: expect.any(String) as unknown });
    },
  },
  "stop-sequence-prefill-stream": {
    content:
      '\ndef pelican():\n    return "A large waterbird with a long bill and a throat pouch for catching fish."\n',
    finish: "stop",
    native: "stop_sequence",
    tokens: { input: 16, output: 28 },
  },
};

/** A non-streamed completion folded into the same shape as an accumulated stream. */
function fromCompletion(completion: Body): Accumulated {
  const choice = (completion.choices as Body[])[0]!;
  const message = choice.message as Body;
  return {
    role: message.role as string,
    content: (message.content as string | null) ?? "",
    reasoning: (message.reasoning as string | undefined) ?? "",
    reasoningDetails: (message.reasoning_details as Body[] | undefined) ?? [],
    toolCalls: ((message.tool_calls as Body[] | undefined) ?? []).map((toolCall) => {
      const fn = toolCall.function as Body;
      return { id: toolCall.id as string, name: fn.name as string, arguments: fn.arguments as string, namedTimes: 1 };
    }),
    finishReasons: [choice.finish_reason as string],
    nativeFinishReason: choice.native_finish_reason,
    usage: completion.usage as Body,
  };
}

const answered = fixtureManifest().filter(
  (entry) => entry.provider === "anthropic" && entry.status === 200 && entry.name !== "stream-error-overloaded",
);

describe("every recorded Anthropic answer, replayed through the gateway", () => {
  it("has an expectation here", () => {
    expect(answered.map((entry) => entry.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(answered.map((entry) => ({ name: entry.name, streamed: entry.kind === "sse" })))(
    "$name",
    async ({ name, streamed }) => {
      const expected = EXPECTED[name]!;
      upstream.respondWith(() => `anthropic/${name}`);
      const { userId, apiKey } = await harness.createFundedUser("5");
      const before = await balanceOf(harness.container.db, userId);
      const sentCount = upstream.received.length;

      const request: Body = { ...openAIEquivalent(name), model: HAIKU };
      if (streamed) Object.assign(request, { stream: true, stream_options: { include_usage: true } });
      const result = await call(apiKey, request);
      expect(result.status).toBe(200);
      expect(result.headers.get("x-tollgate-dropped-parameters")).toBeNull();

      // What went upstream: the recorded request where there is one (sent to this channel's model), else a snapshot.
      const sent = expectSentToAnthropic(upstream.received[sentCount]);
      expect(upstream.received).toHaveLength(sentCount + 1);
      if (fixture(`anthropic/${name}`).request === null) {
        expect(sent).toMatchSnapshot();
      } else {
        expect(sent).toEqual({ ...expectedAnthropicRequest(name), model: "claude-haiku-4-5", stream: streamed });
      }

      let answer: Accumulated;
      let id: unknown;
      if (streamed) {
        expectStreamShape(result.chunks, HAIKU, true);
        answer = accumulateChunks(result.chunks);
        id = result.chunks[0]?.id;
        // Each call's id and name come once, on its first delta.
        for (const toolCall of answer.toolCalls) expect(toolCall.namedTimes).toBe(1);
      } else {
        const completion = result.completion!;
        expect(completion).toMatchObject({ object: "chat.completion", model: HAIKU });
        expect(completion.id).toMatch(/^gen-/);
        answer = fromCompletion(completion);
        id = completion.id;
      }

      expect(answer.role).toBe("assistant");
      if (expected.content instanceof RegExp) expect(answer.content).toMatch(expected.content);
      else expect(answer.content).toBe(expected.content);
      expect(answer.toolCalls.map(({ id, name, arguments: args }) => ({ id, name, arguments: args }))).toEqual(
        expected.toolCalls ?? [],
      );
      expect(answer.finishReasons).toEqual([expected.finish]);
      expect(answer.nativeFinishReason).toBe(expected.native);
      expect(answer.usage).toEqual(expectedUsage(expected.tokens, HAIKU_4_5));
      if (expected.check) expected.check(answer);
      else expect(answer.reasoningDetails).toEqual([]);

      await expectBilled(userId, before, {
        tokens: expected.tokens,
        prices: HAIKU_4_5,
        id,
        streamed,
        finishReason: expected.finish,
      });
    },
  );
});

describe("recorded Anthropic errors", () => {
  it.each([
    {
      name: "error-400-invalid-request",
      status: 400,
      error: {
        type: "invalid_request_error",
        code: "invalid_request",
        message: "This model does not support effort level 'xhigh'. Supported levels: high, low, max, medium.",
      },
    },
    {
      name: "error-404-not-found",
      status: 404,
      error: { type: "not_found_error", code: "not_found", message: "model: claude-sonet-4-5" },
    },
  ])("$name is passed on as $status with Anthropic's message, and costs nothing", async ({ name, status, error }) => {
    upstream.respondWith(() => `anthropic/${name}`);
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);
    const sentCount = upstream.received.length;

    const result = await call(apiKey, { ...openAIEquivalent(name), model: HAIKU });
    expect(result.status).toBe(status);
    expect(result.errorBody?.error).toMatchObject(error);
    const sent = expectSentToAnthropic(upstream.received[sentCount]);
    expect(sent).toEqual({ ...expectedAnthropicRequest(name), model: "claude-haiku-4-5" });

    await harness.container.usageWriter.flush();
    const [row] = await generationsOf(harness.container.db, userId);
    expect(row).toMatchObject({ httpStatus: status, costNano: 0n, errorType: error.type });
    expect(await balanceOf(harness.container.db, userId)).toBe(before);
    expect((await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage")).toEqual([]);
  });

  it("stream-error-overloaded on its own: refused before any chunk, so a 503 with Retry-After, nothing billed", async () => {
    upstream.respondWith(() => "anthropic/stream-error-overloaded");
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);
    const sentCount = upstream.received.length;

    const request = { ...openAIEquivalent("stream-error-overloaded"), model: HAIKU, stream: true };
    const result = await call(apiKey, request);
    // Nothing of an answer was sent, so the refusal is a real HTTP error (another channel would have been tried).
    expect(result.status).toBe(503);
    expect(result.headers.get("retry-after")).toBe("1");
    expect(result.errorBody).toMatchObject({
      error: {
        type: "service_unavailable",
        code: "upstream_overloaded",
        message: "The upstream provider is overloaded. Please retry.",
      },
    });
    expect(expectSentToAnthropic(upstream.received[sentCount])).toMatchSnapshot();

    await expectBilled(
      userId,
      before,
      {
        tokens: null,
        prices: HAIKU_4_5,
        id: result.headers.get("x-generation-id") ?? expect.stringMatching(/^gen-/),
        streamed: true,
        finishReason: null,
      },
      { httpStatus: 503, errorType: "service_unavailable" },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The main round trip with the openai client: a thinking turn, its tool call, the result, and the answer.

describe("through the openai client", () => {
  it("runs a tool loop with thinking: the signed thinking goes back before the tool call", async () => {
    const { userId, apiKey } = await harness.createFundedUser("5");
    const openai = client(apiKey);
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_user_country",
          description: "",
          parameters: { additionalProperties: false, properties: {}, type: "object" },
        },
      },
    ];
    const question: OpenAI.Chat.ChatCompletionMessageParam = {
      role: "user",
      content: "What is the largest city in the user country?",
    };

    upstream.respondWith(() => "anthropic/thinking-tool-use");
    const first = await openai.chat.completions.create({
      model: HAIKU,
      max_tokens: 4096,
      messages: [question],
      tools,
      tool_choice: "auto",
      // OpenRouter's reasoning object, which the openai client passes on as it is.
      ...({ reasoning: { max_tokens: 3000 } } as object),
    });
    assertMatchesOpenAISpec("response", first);
    const turn = first.choices[0]!.message;
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    const toolCall = turn.tool_calls![0]!;
    expect(toolCall.type === "function" && toolCall.function.arguments).toBe("{}");
    const { signature } = recordedThinking("thinking-tool-use");
    expect((turn as unknown as { reasoning_details: Body[] }).reasoning_details[0]?.signature).toBe(signature);

    upstream.respondWith(() => "anthropic/thinking-tool-result-followup");
    const sentCount = upstream.received.length;
    const second = await openai.chat.completions.create({
      model: HAIKU,
      max_tokens: 4096,
      // The assistant message exactly as the client got it (reasoning_details included), then the tool's result.
      messages: [question, turn, { role: "tool", tool_call_id: toolCall.id, content: "Mexico" }],
      tools,
      tool_choice: "auto",
      ...({ reasoning: { max_tokens: 3000 } } as object),
    });
    assertMatchesOpenAISpec("response", second);
    expect(second.choices[0]?.message.content).toMatch(/Mexico City/);

    // Byte for byte what Anthropic's own client sent in the recording, signature included.
    const sent = expectSentToAnthropic(upstream.received[sentCount]);
    expect(sent).toEqual({
      ...expectedAnthropicRequest("thinking-tool-result-followup"),
      model: "claude-haiku-4-5",
    });

    await harness.container.usageWriter.flush();
    const rows = await generationsOf(harness.container.db, userId);
    expect(rows.map((row) => row.costNano).sort()).toEqual(
      [costNano({ input: 398, output: 155 }, HAIKU_4_5), costNano({ input: 566, output: 126 }, HAIKU_4_5)].sort(),
    );
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("streams thinking; the reasoning_details the client assembled go back as a signed thinking block", async () => {
    const { apiKey } = await harness.createFundedUser("5");
    const openai = client(apiKey);
    upstream.respondWith(() => "anthropic/thinking-stream");
    const stream = await openai.chat.completions.create({
      model: HAIKU,
      max_tokens: 8192,
      temperature: 1,
      stream: true,
      messages: [{ role: "user", content: "Two names for a pet pelican, be brief" }],
      ...({ reasoning: { max_tokens: 1024 } } as object),
    });
    const chunks: Body[] = [];
    for await (const chunk of stream) {
      assertMatchesOpenAISpec("chunk", chunk);
      chunks.push(chunk as unknown as Body);
    }
    expectStreamShape(chunks, HAIKU, false);
    const answer = accumulateChunks(chunks);
    const { thinking, signature } = streamedThinking("thinking-stream");

    upstream.respondWith(() => "anthropic/text-stream");
    const sentCount = upstream.received.length;
    const next = await openai.chat.completions.create({
      model: HAIKU,
      max_tokens: 8192,
      stream: true,
      messages: [
        { role: "user", content: "Two names for a pet pelican, be brief" },
        {
          role: "assistant",
          content: answer.content,
          ...({ reasoning: answer.reasoning, reasoning_details: answer.reasoningDetails } as object),
        },
        { role: "user", content: "Say just hello" },
      ],
      ...({ reasoning: { max_tokens: 1024 } } as object),
    });
    for await (const chunk of next) assertMatchesOpenAISpec("chunk", chunk);
    const sent = expectSentToAnthropic(upstream.received[sentCount]);
    expect((sent.messages as Body[])[1]).toEqual({
      role: "assistant",
      content: [
        { type: "thinking", thinking, signature },
        { type: "text", text: answer.content },
      ],
    });
  });

  it("streams a tool call the way the openai client's helpers expect it", async () => {
    const { apiKey } = await harness.createFundedUser("5");
    upstream.respondWith(() => "anthropic/tool-use-stream");
    const runner = client(apiKey).chat.completions.stream({
      model: HAIKU,
      max_tokens: 8192,
      messages: [{ role: "user", content: "Generate one name for a pet pelican" }],
      tools: [
        {
          type: "function",
          function: { name: "pelican_name_generator", description: "", parameters: { properties: {}, type: "object" } },
        },
      ],
    });
    const completion = await runner.finalChatCompletion();
    expect(completion.choices[0]?.message.tool_calls).toEqual([
      {
        id: "toolu_01CzN6riCPqw4pVSuTd9Dwn7",
        type: "function",
        function: { name: "pelican_name_generator", arguments: "{}" },
      },
    ]);
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("sends max_tokens as the model's largest output when the client gives none", async () => {
    const { apiKey } = await harness.createFundedUser("5");
    upstream.respondWith(() => "anthropic/text");
    const sentCount = upstream.received.length;
    await client(apiKey).chat.completions.create({
      model: HAIKU,
      messages: [{ role: "user", content: "What is the capital of France?" }],
    });
    // claude-haiku-4.5's maxOutputTokens in the catalog.
    expect(expectSentToAnthropic(upstream.received[sentCount]).max_tokens).toBe(64000);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Cases no recording covers, assembled from recorded events and served by the scripted upstream.

describe("assembled from recorded events", () => {
  it("two parallel tool calls whose deltas interleave", async () => {
    const recorded = recordedPayloads("tool-use-stream");
    const start = recorded.find((payload) => payload.type === "message_start");
    const messageDelta = recorded.find((payload) => payload.type === "message_delta");
    const toolStart = (index: number, id: string) => ({
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id, name: "weather", input: {} },
    });
    const args = (index: number, partial: string) => ({
      type: "content_block_delta",
      index,
      delta: { type: "input_json_delta", partial_json: partial },
    });
    scripted.answerWith({
      status: 200,
      headers: SSE_HEADERS,
      body: anthropicSse([
        start!,
        toolStart(0, "toolu_paris"),
        toolStart(1, "toolu_rome"),
        args(0, '{"city"'),
        args(1, '{"city": "Rome"'),
        args(0, ': "Paris"}'),
        args(1, "}"),
        { type: "content_block_stop", index: 0 },
        { type: "content_block_stop", index: 1 },
        messageDelta!,
        { type: "message_stop" },
      ]),
    });
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);
    const sentCount = scripted.received.length;
    const result = await call(apiKey, {
      model: SONNET,
      stream: true,
      messages: [{ role: "user", content: "Weather in Paris and Rome?" }],
      tools: [
        {
          type: "function",
          function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
        },
      ],
    });
    expectStreamShape(result.chunks, SONNET, false);
    const answer = accumulateChunks(result.chunks);
    expect(answer.toolCalls).toEqual([
      { id: "toolu_paris", name: "weather", arguments: '{"city": "Paris"}', namedTimes: 1 },
      { id: "toolu_rome", name: "weather", arguments: '{"city": "Rome"}', namedTimes: 1 },
    ]);
    expect(answer.finishReasons).toEqual(["tool_calls"]);
    expect(answer.usage).toEqual(expectedUsage({ input: 543, output: 40 }, SONNET_4_5));
    expect(expectSentToAnthropic(scripted.received[sentCount], "sk-ant-scripted")).toMatchSnapshot();
    await expectBilled(userId, before, {
      tokens: { input: 543, output: 40 },
      prices: SONNET_4_5,
      id: result.chunks[0]?.id,
      streamed: true,
      finishReason: "tool_calls",
    });
  });

  it("the results of parallel calls go back in one user turn, and empty arguments as an empty input", async () => {
    scripted.answerWith({ status: 200, headers: JSON_HEADERS, body: fixture("anthropic/tool-result-followup").body });
    const { apiKey } = await harness.createFundedUser("5");
    const sentCount = scripted.received.length;
    const result = await call(apiKey, {
      model: SONNET,
      messages: [
        { role: "user", content: "Where am I, and what time is it?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "toolu_where", type: "function", function: { name: "where", arguments: "" } },
            { id: "toolu_when", type: "function", function: { name: "when", arguments: '{"zone": "local"}' } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_where", content: "Paris" },
        { role: "tool", tool_call_id: "toolu_when", content: "noon" },
      ],
      tools: [
        { type: "function", function: { name: "where" } },
        { type: "function", function: { name: "when", parameters: { type: "object" } } },
      ],
    });
    expect(result.status).toBe(200);
    const sent = expectSentToAnthropic(scripted.received[sentCount], "sk-ant-scripted");
    expect(sent.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Where am I, and what time is it?" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "toolu_where", name: "where", input: {} },
          { type: "tool_use", id: "toolu_when", name: "when", input: { zone: "local" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_where", content: "Paris" },
          { type: "tool_result", tool_use_id: "toolu_when", content: "noon" },
        ],
      },
    ]);
    expect(sent).toMatchSnapshot();
  });

  it("a refusal, streamed and not, finishes with content_filter", async () => {
    const events = recordedPayloads("text-stream");
    const refusedStream = events.map((payload) =>
      payload.type === "message_delta"
        ? { ...payload, delta: { ...(payload.delta as Body), stop_reason: "refusal" } }
        : payload,
    );
    scripted.answerWith({ status: 200, headers: SSE_HEADERS, body: anthropicSse(refusedStream) });
    const { apiKey } = await harness.createFundedUser("5");
    const streamed = await call(apiKey, {
      model: SONNET,
      stream: true,
      messages: [{ role: "user", content: "Say just hello" }],
    });
    expectStreamShape(streamed.chunks, SONNET, false);
    const answer = accumulateChunks(streamed.chunks);
    expect(answer.finishReasons).toEqual(["content_filter"]);
    expect(answer.nativeFinishReason).toBe("refusal");

    const refused = { ...(JSON.parse(fixture("anthropic/text").body) as Body), stop_reason: "refusal" };
    scripted.answerWith({ status: 200, headers: JSON_HEADERS, body: JSON.stringify(refused) });
    const whole = await call(apiKey, { model: SONNET, messages: [{ role: "user", content: "Say just hello" }] });
    expect((whole.completion?.choices as Body[])[0]).toMatchObject({
      finish_reason: "content_filter",
      native_finish_reason: "refusal",
    });
  });

  it("an overloaded_error event mid-stream: the text already sent, then an in-band 503, billed what was reported", async () => {
    // The fixtures README's recipe: text-stream without its message_delta/message_stop, then the error event.
    const prefix = parseEvents(fixture("anthropic/text-stream").body).filter(
      (event) => event.event !== "message_delta" && event.event !== "message_stop",
    );
    const body = [...prefix, ...parseEvents(fixture("anthropic/stream-error-overloaded").body)]
      .map((event) => `event: ${event.event ?? "message"}\ndata: ${event.data}\n\n`)
      .join("");
    scripted.answerWith({ status: 200, headers: SSE_HEADERS, body });
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);
    const result = await call(apiKey, {
      model: SONNET,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Say just hello" }],
    });
    expect(result.status).toBe(200);
    const last = result.chunks.at(-1)!;
    expect(last).toMatchObject({
      choices: [{ index: 0, delta: {}, finish_reason: "error" }],
      error: {
        type: "service_unavailable",
        code: "upstream_overloaded",
        message: "The upstream provider is overloaded. Please retry.",
      },
    });
    expect(accumulateChunks(result.chunks.slice(0, -1)).content).toBe("Hello");
    expect(new Set(result.chunks.map((chunk) => chunk.id)).size).toBe(1);
    // message_start had reported 10 input tokens and 2 output tokens: that much was consumed upstream.
    await expectBilled(
      userId,
      before,
      { tokens: { input: 10, output: 2 }, prices: SONNET_4_5, id: last.id, streamed: true, finishReason: "error" },
      { httpStatus: 503, errorType: "service_unavailable" },
    );
  });

  it("json_object: a forced tool upstream, its input returned as the content", async () => {
    const recorded = JSON.parse(fixture("anthropic/thinking-tool-use").body) as Body;
    const answer = {
      ...recorded,
      content: [{ type: "tool_use", id: "toolu_json", name: "tollgate_json_response", input: { city: "Paris" } }],
    };
    scripted.answerWith({ status: 200, headers: JSON_HEADERS, body: JSON.stringify(answer) });
    const { apiKey } = await harness.createFundedUser("5");
    const sentCount = scripted.received.length;
    const result = await call(apiKey, {
      model: SONNET,
      response_format: { type: "json_object" },
      messages: [{ role: "user", content: "The capital of France, as JSON" }],
    });
    expect((result.completion?.choices as Body[])[0]).toMatchObject({
      message: { role: "assistant", content: '{"city":"Paris"}' },
      finish_reason: "stop",
    });
    const sent = expectSentToAnthropic(scripted.received[sentCount], "sk-ant-scripted");
    expect(sent.tool_choice).toEqual({ type: "tool", name: "tollgate_json_response" });
    expect(sent).toMatchSnapshot();
  });

  it("names the parameters Anthropic does not take in x-tollgate-dropped-parameters", async () => {
    scripted.answerWith({ status: 200, headers: JSON_HEADERS, body: fixture("anthropic/text").body });
    const { apiKey } = await harness.createFundedUser("5");
    const sentCount = scripted.received.length;
    const result = await call(apiKey, {
      model: SONNET,
      messages: [{ role: "user", content: "hi" }],
      frequency_penalty: 0.5,
      seed: 3,
    });
    expect(result.headers.get("x-tollgate-dropped-parameters")).toBe("frequency_penalty, seed");
    const sent = expectSentToAnthropic(scripted.received[sentCount], "sk-ant-scripted");
    expect(sent.frequency_penalty).toBeUndefined();
    expect(sent.seed).toBeUndefined();
  });
});

describe("Anthropic's error statuses", () => {
  const overloaded = parseEvents(fixture("anthropic/stream-error-overloaded").body)[0]!.data;

  it("529 overloaded_error becomes a retryable 503 with Retry-After", async () => {
    scripted.answerWith({ status: 529, headers: JSON_HEADERS, body: overloaded });
    const { userId, apiKey } = await harness.createFundedUser("5");
    const result = await call(apiKey, { model: SONNET, messages: [{ role: "user", content: "hi" }] });
    expect(result.status).toBe(503);
    expect(result.headers.get("retry-after")).toBe("1");
    expect(result.errorBody?.error).toMatchObject({ type: "service_unavailable", code: "upstream_overloaded" });
    await expectBilled(
      userId,
      await balanceOf(harness.container.db, userId),
      { tokens: null, prices: SONNET_4_5, id: expect.any(String), streamed: false, finishReason: null },
      { httpStatus: 503 },
    );

    // The openai client sees the status its retry logic keys on.
    scripted.answerWith({ status: 529, headers: JSON_HEADERS, body: overloaded });
    const failure = await client(apiKey)
      .chat.completions.create({ model: SONNET, messages: [{ role: "user", content: "hi" }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.InternalServerError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
  });

  it("429 rate_limit_error stays a 429 and keeps the upstream's retry hint", async () => {
    scripted.answerWith({
      status: 429,
      headers: { ...JSON_HEADERS, "retry-after": "7" },
      body: JSON.stringify({
        type: "error",
        error: {
          type: "rate_limit_error",
          message: "Number of request tokens has exceeded your per-minute rate limit",
        },
      }),
    });
    const { apiKey } = await harness.createFundedUser("5");
    const result = await call(apiKey, { model: SONNET, messages: [{ role: "user", content: "hi" }] });
    expect(result.status).toBe(429);
    expect(result.headers.get("retry-after")).toBe("7");
    expect(result.errorBody?.error).toMatchObject({
      type: "rate_limit_error",
      message: "Number of request tokens has exceeded your per-minute rate limit",
    });
  });

  it.each([
    [401, "authentication_error", "invalid x-api-key"],
    [403, "permission_error", "Your API key does not have permission to use the specified resource."],
  ])("%i %s: the channel is broken, so 502, without the upstream's words or key", async (status, type, message) => {
    scripted.answerWith({
      status,
      headers: JSON_HEADERS,
      body: JSON.stringify({ type: "error", error: { type, message } }),
    });
    const { apiKey } = await harness.createFundedUser("5");
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: SONNET, messages: [{ role: "user", content: "hi" }] }),
    });
    const raw = await response.text();
    expect(response.status, raw).toBe(502);
    expect(JSON.parse(raw)).toMatchObject({
      error: { type: "upstream_error", code: "upstream_auth_failed" },
    });
    expect(raw).not.toContain("sk-ant-scripted");
    expect(raw).not.toContain(message);
    // The refused key marks the channel broken (operators see why); an operator's fix puts it back.
    await expect
      .poll(
        async () =>
          (await harness.container.db.select().from(channels).where(eq(channels.name, "anthropic-scripted")))[0]
            ?.brokenReason,
      )
      .toBe(`upstream answered ${status}`);
    await harness.container.db
      .update(channels)
      .set({ brokenAt: null, brokenReason: null })
      .where(eq(channels.name, "anthropic-scripted"));
    await harness.container.catalog.reload();
  });
});
