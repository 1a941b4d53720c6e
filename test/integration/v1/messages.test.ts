import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createAnthropic } from "@ai-sdk/anthropic";
import Anthropic from "@anthropic-ai/sdk";
import { generateText, streamText } from "ai";
import { createParser } from "eventsource-parser";
import { countTokens } from "gpt-tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { addChannel } from "~/server/services/channels";
import { anthropicSdkValidators } from "../../helpers/anthropic-sdk-schema";
import { fixture } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { loadOpenApiComponents, type OpenApiComponents } from "../../helpers/openapi-components";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";

/*
 * POST /v1/messages with Anthropic's own SDK, unmodified, against the production entry. On an Anthropic channel the
 * recorded Anthropic answers go through the gateway's internal form and back: what the SDK assembles must be what
 * Anthropic sent (thinking, signatures, tool calls, stop reasons, token counts). On an OpenAI-compatible channel
 * the recorded OpenAI answers come out in Anthropic's shapes. Every call's reported cost is its ledger debit.
 */

type Body = Record<string, unknown>;

const HAIKU = "anthropic/claude-haiku-4.5";
const GPT_4O = "openai/gpt-4o";
/** Served by the OpenAI replay upstream through a DeepSeek channel (reasoning, cache hits). */
const DEEPSEEK_REASONER = "deepseek/deepseek-reasoner";
/** Served by an Anthropic upstream that streams the start of an answer and then waits (see `stalling`). */
const SONNET = "anthropic/claude-sonnet-4.5";
/** Catalog list prices in nano-USD per token ($1/M = 1,000). */
const HAIKU_PRICES = { input: 1_000n, output: 5_000n, cacheRead: 100n, cacheWrite: 1_250n };
const GPT_4O_PRICES = { input: 2_500n, output: 10_000n, cacheRead: 1_250n, cacheWrite: 0n };
type Prices = typeof HAIKU_PRICES;

interface AnthropicCounts {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

function costOf(usage: AnthropicCounts, prices: Prices): bigint {
  return (
    BigInt(usage.input_tokens) * prices.input +
    BigInt(usage.output_tokens) * prices.output +
    BigInt(usage.cache_read_input_tokens ?? 0) * prices.cacheRead +
    BigInt(usage.cache_creation_input_tokens ?? 0) * prices.cacheWrite
  );
}

let harness: GatewayHarness;
let openApi: OpenApiComponents;
let anthropicUpstream: ReplayUpstream;
let openaiUpstream: ReplayUpstream;
/** Anthropic events written before the stalling upstream goes quiet, and how it ended. */
const stalling = { events: [] as Body[], closed: Promise.resolve() };
let stallingServer: ReturnType<typeof createServer>;

beforeAll(async () => {
  harness = await startGatewayHarness({ env: { CIRCUIT_BREAKER_FAILURES: "1000" } });
  openApi = await loadOpenApiComponents(harness.baseUrl);
  anthropicUpstream = await startReplayUpstream();
  openaiUpstream = await startReplayUpstream();
  const { db, secretBox, changes } = harness.container;
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "anthropic",
      name: "anthropic-replay",
      baseUrl: anthropicUpstream.baseUrl,
      apiKey: "sk-ant-test",
      models: [{ modelId: HAIKU, upstreamModel: "claude-haiku-4-5" }],
    },
    TEST_ACTOR,
  );
  stallingServer = createServer((request, response: ServerResponse) => {
    request.resume();
    stalling.closed = new Promise((resolve) => response.once("close", () => resolve()));
    response.writeHead(200, { "content-type": "text/event-stream" });
    for (const event of stalling.events) {
      response.write(`event: ${event.type as string}\ndata: ${JSON.stringify(event)}\n\n`);
    }
    // …and then nothing more: only the client leaving ends this stream.
  });
  await new Promise<void>((resolve) => stallingServer.listen(0, "127.0.0.1", resolve));
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "anthropic",
      name: "anthropic-stalling",
      baseUrl: `http://127.0.0.1:${(stallingServer.address() as AddressInfo).port}/v1`,
      apiKey: "sk-ant-stalling",
      models: [{ modelId: SONNET, upstreamModel: "claude-sonnet-4-5" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai-compatible",
      name: "deepseek-replay",
      provider: "deepseek",
      baseUrl: openaiUpstream.baseUrl,
      apiKey: "sk-deepseek-test",
      models: [{ modelId: DEEPSEEK_REASONER, upstreamModel: "deepseek-reasoner" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai-compatible",
      name: "openai-replay",
      baseUrl: openaiUpstream.baseUrl,
      apiKey: "sk-openai-test",
      models: [{ modelId: GPT_4O, upstreamModel: "gpt-4o" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  stallingServer?.closeAllConnections();
  await new Promise<void>((resolve) => (stallingServer ? stallingServer.close(() => resolve()) : resolve()));
  await openaiUpstream?.close();
  await anthropicUpstream?.close();
  await harness?.stop();
});

function sdk(apiKey: string, options: { bearer?: boolean } = {}): Anthropic {
  const baseURL = harness.baseUrl.replace(/\/v1$/, "");
  return options.bearer === true
    ? new Anthropic({ baseURL, authToken: apiKey, apiKey: null, maxRetries: 0 })
    : new Anthropic({ baseURL, apiKey, maxRetries: 0 });
}

function payloadsOf(sse: string): Body[] {
  const payloads: Body[] = [];
  const parser = createParser({ onEvent: (event) => payloads.push(JSON.parse(event.data) as Body) });
  parser.feed(sse);
  parser.feed("\n\n");
  return payloads;
}

/** A recorded Anthropic stream assembled into its message, the way Anthropic's SDK assembles one. */
function assembled(name: string): { content: Body[]; stopReason: string; usage: AnthropicCounts } {
  const content: Body[] = [];
  const partialJson = new Map<number, string>();
  let stopReason = "";
  let usage: AnthropicCounts = { input_tokens: 0, output_tokens: 0 };
  for (const payload of payloadsOf(fixture(`anthropic/${name}`).body)) {
    const index = payload.index as number;
    if (payload.type === "message_start") usage = { ...((payload.message as Body).usage as AnthropicCounts) };
    if (payload.type === "content_block_start") content[index] = { ...(payload.content_block as Body) };
    if (payload.type === "content_block_delta") {
      const delta = payload.delta as Body;
      const block = content[index]!;
      if (delta.type === "text_delta") block.text = `${block.text as string}${delta.text as string}`;
      if (delta.type === "thinking_delta") block.thinking = `${block.thinking as string}${delta.thinking as string}`;
      if (delta.type === "signature_delta") block.signature = delta.signature;
      if (delta.type === "input_json_delta") {
        partialJson.set(index, `${partialJson.get(index) ?? ""}${delta.partial_json as string}`);
      }
    }
    // An empty `partial_json` leaves the input the block started with, as Anthropic's SDK does.
    if (payload.type === "content_block_stop" && (partialJson.get(index) ?? "") !== "") {
      content[index]!.input = JSON.parse(partialJson.get(index)!) as unknown;
    }
    if (payload.type === "message_delta") {
      stopReason = (payload.delta as Body).stop_reason as string;
      usage = { ...usage, ...(payload.usage as Partial<AnthropicCounts>) };
    }
  }
  return { content, stopReason, usage };
}

/** An answer checked against the component of the OpenAPI document the gateway publishes. */
function expectMatchesComponent(component: string, value: unknown): void {
  openApi.expectMatches(component, value);
}

/** The recorded request with the catalog's model id: what a client sends the gateway. */
function recordedRequest(name: string, overrides: Body = {}): Body {
  return { ...(fixture(`anthropic/${name}`).requestBody as Body), model: HAIKU, ...overrides };
}

/** The call's generation and debit: `costNano` taken from the balance through the ledger, once. */
async function expectDebited(userId: string, fundedUsd: string, costNano: bigint): Promise<void> {
  await harness.container.usageWriter.flush();
  expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano(fundedUsd) - costNano);
  const debits = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
  expect(debits.map((entry) => entry.amountNano)).toEqual(costNano === 0n ? [] : [-costNano]);
  await expectLedgerConsistent(harness.container.db, userId);
}

/** The cost the answer reports, in nano-USD (the SDK keeps fields it does not know). */
function reportedCostNano(usage: unknown): bigint {
  const cost = (usage as { cost?: number }).cost;
  expect(cost).toEqual(expect.any(Number));
  return parseUsdToNano(String(cost));
}

describe("POST /v1/messages on an Anthropic channel", () => {
  it("answers a plain message as Anthropic did, with its usage and the cost debited", async () => {
    const user = await harness.createFundedUser("5");
    anthropicUpstream.respondWith(() => "anthropic/text");
    const recorded = JSON.parse(fixture("anthropic/text").body) as Body & { usage: AnthropicCounts };
    const message = await sdk(user.apiKey).messages.create(recordedRequest("text") as never);
    expectMatchesComponent("AnthropicMessage", message);
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: HAIKU,
      content: recorded.content,
      stop_reason: recorded.stop_reason,
    });
    expect(message.id).toMatch(/^gen-/);
    expect(message.usage).toMatchObject({
      input_tokens: recorded.usage.input_tokens,
      output_tokens: recorded.usage.output_tokens,
    });
    const cost = costOf(recorded.usage, HAIKU_PRICES);
    expect(reportedCostNano(message.usage)).toBe(cost);
    await expectDebited(user.userId, "5", cost);
    // What Anthropic received is the client's request, model aside.
    const sent = anthropicUpstream.received.at(-1)!;
    expect(sent.url).toBe("/v1/messages");
    expect(sent.headers["x-api-key"]).toBe("sk-ant-test");
    expect(sent.body).toMatchObject({
      model: "claude-haiku-4-5",
      messages: (fixture("anthropic/text").requestBody as Body).messages,
      max_tokens: 4096,
    });
  });

  it.each(["text-stream", "thinking-stream", "tool-use-stream", "redacted-thinking-stream"])(
    "streams %s so that the SDK assembles the message Anthropic sent",
    async (name) => {
      const user = await harness.createFundedUser("5");
      anthropicUpstream.respondWith(() => `anthropic/${name}`);
      const expected = assembled(name);
      const events: Body[] = [];
      const stream = sdk(user.apiKey).messages.stream(recordedRequest(name) as never);
      stream.on("streamEvent", (event) => events.push(event as unknown as Body));
      const message = await stream.finalMessage();
      expect(message.content).toEqual(expected.content);
      expect(message.stop_reason).toBe(expected.stopReason);
      // Claude Code reads the prompt's size from message_start.
      const start = events[0]!;
      expect(start.type).toBe("message_start");
      expect(((start.message as Body).usage as AnthropicCounts).input_tokens).toBe(expected.usage.input_tokens);
      expect(events.at(-1)?.type).toBe("message_stop");
      expect(message.usage).toMatchObject({
        input_tokens: expected.usage.input_tokens,
        output_tokens: expected.usage.output_tokens,
      });
      // The SDK's assembled usage keeps only the counts it knows: the cost is on message_delta's usage.
      const cost = costOf(expected.usage, HAIKU_PRICES);
      const delta = events.find((event) => event.type === "message_delta")!;
      expect(reportedCostNano(delta.usage)).toBe(cost);
      await expectDebited(user.userId, "5", cost);
    },
  );

  it("sends only events that Anthropic's SDK types describe, message_start with the prompt's tokens", async () => {
    const { event: validEvent, message: validMessage } = anthropicSdkValidators();
    // The check is sound: Anthropic's own recorded events pass it.
    for (const name of ["thinking-stream", "tool-use-stream"]) {
      for (const payload of payloadsOf(fixture(`anthropic/${name}`).body)) {
        if (payload.type !== "ping") expect(validEvent(payload), JSON.stringify(validEvent.errors)).toBe(true);
      }
    }
    const user = await harness.createFundedUser("5");
    for (const [name, upstream] of [
      ["thinking-stream", anthropicUpstream],
      ["tool-use-stream", anthropicUpstream],
      ["redacted-thinking-stream", anthropicUpstream],
      ["parallel-tool-calls-stream", openaiUpstream],
      ["text-stream-include-usage", openaiUpstream],
    ] as const) {
      upstream.respondWith(() => `${upstream === anthropicUpstream ? "anthropic" : "openai"}/${name}`);
      const body =
        upstream === anthropicUpstream
          ? recordedRequest(name)
          : { model: GPT_4O, max_tokens: 256, stream: true, messages: [{ role: "user", content: "Go." }] };
      const response = await fetch(`${harness.baseUrl}/messages`, {
        method: "POST",
        headers: { "x-api-key": user.apiKey, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      const payloads = payloadsOf(await response.text());
      expect(payloads.length).toBeGreaterThan(3);
      for (const payload of payloads) {
        if (payload.type === "ping") continue;
        expect(validEvent(payload), `${name}: ${JSON.stringify(payload)} ${JSON.stringify(validEvent.errors)}`).toBe(
          true,
        );
      }
      const start = payloads.find((payload) => payload.type === "message_start")!;
      expect(((start.message as Body).usage as AnthropicCounts).input_tokens).toBeGreaterThan(0);
    }
    anthropicUpstream.respondWith(() => "anthropic/parallel-tool-use");
    const whole = await sdk(user.apiKey).messages.create(recordedRequest("parallel-tool-use") as never);
    expect(validMessage(whole), JSON.stringify(validMessage.errors)).toBe(true);
  });

  it("carries thinking with its signature and a tool result back to Anthropic on the next turn", async () => {
    const user = await harness.createFundedUser("5");
    anthropicUpstream.respondWith(() => "anthropic/thinking-tool-use");
    const first = await sdk(user.apiKey).messages.create(recordedRequest("thinking-tool-use") as never);
    expectMatchesComponent("AnthropicMessage", first);
    const recorded = JSON.parse(fixture("anthropic/thinking-tool-use").body) as { content: Body[] };
    // The recording predates `caller`, which the gateway adds to each tool_use block as Anthropic now sends it.
    expect(first.content).toEqual(
      recorded.content.map((block) => (block.type === "tool_use" ? { ...block, caller: { type: "direct" } } : block)),
    );
    const toolUse = first.content.find((block) => block.type === "tool_use")!;

    anthropicUpstream.respondWith(() => "anthropic/thinking-tool-result-followup");
    const followup = recordedRequest("thinking-tool-result-followup");
    const second = await sdk(user.apiKey).messages.create(followup as never);
    expect(second.stop_reason).toBe("end_turn");
    // The assistant turn went back exactly as Anthropic gave it, signed thinking first; the tool result with it.
    const sent = anthropicUpstream.received.at(-1)!.body as { messages: Body[] };
    // `is_error: false` is Anthropic's default and is not repeated.
    const asked = JSON.stringify((fixture("anthropic/thinking-tool-result-followup").requestBody as Body).messages);
    expect(sent.messages).toEqual(JSON.parse(asked.replaceAll(',"is_error":false', "")));
    expect(JSON.stringify(sent.messages)).toContain(toolUse.type === "tool_use" ? toolUse.id : "");
  });

  it("reports cache reads and writes as Anthropic counts them, and bills each at its price", async () => {
    const user = await harness.createFundedUser("5");
    anthropicUpstream.respondWith(() => "anthropic/prompt-cache-read-and-write");
    const recorded = JSON.parse(fixture("anthropic/prompt-cache-read-and-write").body) as { usage: AnthropicCounts };
    const message = await sdk(user.apiKey).messages.create(recordedRequest("prompt-cache-read-and-write") as never);
    expect(message.usage).toMatchObject({
      input_tokens: recorded.usage.input_tokens,
      output_tokens: recorded.usage.output_tokens,
      cache_read_input_tokens: recorded.usage.cache_read_input_tokens ?? 0,
      cache_creation_input_tokens: recorded.usage.cache_creation_input_tokens ?? 0,
    });
    const cost = costOf(recorded.usage, HAIKU_PRICES);
    expect(reportedCostNano(message.usage)).toBe(cost);
    await expectDebited(user.userId, "5", cost);
    // cache_control breakpoints reached Anthropic where the client put them.
    const sent = anthropicUpstream.received.at(-1)!.body as Body;
    const asked = fixture("anthropic/prompt-cache-read-and-write").requestBody as Body;
    expect(sent.system).toEqual(asked.system);
    expect(sent.messages).toEqual(asked.messages);
  });

  it("passes allowlisted anthropic-beta features to Anthropic and drops the others", async () => {
    const user = await harness.createFundedUser("5");
    anthropicUpstream.respondWith(() => "anthropic/text");
    await sdk(user.apiKey).messages.create(recordedRequest("text") as never, {
      headers: { "anthropic-beta": "interleaved-thinking-2025-05-14, files-api-2025-04-14" },
    });
    expect(anthropicUpstream.received.at(-1)!.headers["anthropic-beta"]).toBe("interleaved-thinking-2025-05-14");
  });
});

describe("POST /v1/messages cut short", () => {
  it("bills a stream the client aborts for the prompt Anthropic counted and the text it received", async () => {
    const pieces = ["Alpha beta", " gamma delta", " epsilon zeta eta"];
    stalling.events = [
      {
        type: "message_start",
        message: {
          id: "msg_stall",
          type: "message",
          role: "assistant",
          model: "claude-sonnet-4-5",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 1234, output_tokens: 1 },
        },
      },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      ...pieces.map((text) => ({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })),
    ];
    const user = await harness.createFundedUser("5");
    const abort = new AbortController();
    const response = await fetch(`${harness.baseUrl}/messages`, {
      method: "POST",
      headers: { "x-api-key": user.apiKey, "content-type": "application/json" },
      body: JSON.stringify({
        model: SONNET,
        max_tokens: 1024,
        stream: true,
        messages: [{ role: "user", content: "Recite the Greek alphabet slowly." }],
      }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    let text = "";
    while (!text.includes("epsilon zeta eta")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('"input_tokens":1234');
    abort.abort();
    // The gateway hangs up on the upstream when the client leaves.
    await stalling.closed;
    // Anthropic's count of the prompt, the tokenizer's count of what the client received (Sonnet: $3 and $15 /M).
    const cost = 1234n * 3_000n + BigInt(countTokens(pieces.join(""))) * 15_000n;
    await expectDebited(user.userId, "5", cost);
    const [generation] = await generationsOf(harness.container.db, user.userId);
    expect(generation).toMatchObject({ cancelled: true, billingStatus: "estimated", costNano: cost });
  });
});

describe("POST /v1/messages on an OpenAI channel", () => {
  it("answers in Anthropic's shape, stop reason and usage translated", async () => {
    const user = await harness.createFundedUser("5");
    openaiUpstream.respondWith(() => "openai/text");
    const recorded = JSON.parse(fixture("openai/text").body) as {
      choices: { message: { content: string } }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const message = await sdk(user.apiKey).messages.create({
      model: GPT_4O,
      max_tokens: 256,
      system: "Answer briefly.",
      messages: [{ role: "user", content: "What is the capital of Mexico?" }],
    });
    expect(message.content).toEqual([{ type: "text", text: recorded.choices[0]!.message.content }]);
    expect(message.stop_reason).toBe("end_turn");
    const usage = { input_tokens: recorded.usage.prompt_tokens, output_tokens: recorded.usage.completion_tokens };
    expect(message.usage).toMatchObject(usage);
    const cost = costOf(usage, GPT_4O_PRICES);
    expect(reportedCostNano(message.usage)).toBe(cost);
    await expectDebited(user.userId, "5", cost);
    const sent = openaiUpstream.received.at(-1)!.body as Body;
    expect(sent.messages).toEqual([
      { role: "system", content: "Answer briefly." },
      { role: "user", content: "What is the capital of Mexico?" },
    ]);
    expect(sent.max_tokens ?? sent.max_completion_tokens).toBe(256);
  });

  it("streams a tool call as a tool_use block with its input, and the text stream with its usage", async () => {
    const user = await harness.createFundedUser("5");
    openaiUpstream.respondWith(() => "openai/tool-call-stream-argument-deltas");
    const stream = sdk(user.apiKey).messages.stream({
      model: GPT_4O,
      max_tokens: 256,
      messages: [{ role: "user", content: "Look it up." }],
      tools: [{ name: "lookup", input_schema: { type: "object", properties: {} } }],
    });
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe("tool_use");
    const toolUse = message.content.find((block) => block.type === "tool_use");
    expect(toolUse).toMatchObject({
      type: "tool_use",
      id: expect.any(String) as unknown,
      name: expect.any(String) as unknown,
    });
    expect(typeof (toolUse as { input: unknown }).input).toBe("object");

    openaiUpstream.respondWith(() => "openai/text-stream-include-usage");
    const text = await sdk(user.apiKey)
      .messages.stream({ model: GPT_4O, max_tokens: 256, messages: [{ role: "user", content: "Capital?" }] })
      .finalMessage();
    expect(text.content).toEqual([{ type: "text", text: "The capital of Mexico is Mexico City." }]);
    expect(text.usage.input_tokens).toBeGreaterThan(0);
    expect(text.usage.output_tokens).toBeGreaterThan(0);
    await harness.container.usageWriter.flush();
    const rows = await generationsOf(harness.container.db, user.userId);
    const total = rows.reduce((sum, row) => sum + row.costNano, 0n);
    expect(await balanceOf(harness.container.db, user.userId)).toBe(parseUsdToNano("5") - total);
  });
});

describe("POST /v1/messages with the AI SDK's Anthropic provider", () => {
  it("generates and streams text through the gateway, usage included", async () => {
    const user = await harness.createFundedUser("5");
    const anthropic = createAnthropic({ baseURL: harness.baseUrl, apiKey: user.apiKey });
    anthropicUpstream.respondWith(() => "anthropic/text");
    const whole = await generateText({ model: anthropic(HAIKU), prompt: "What is the capital of France?" });
    expect(whole.text).toBe("The capital of France is Paris.");
    expect(whole.finishReason).toBe("stop");
    expect(whole.usage).toMatchObject({ inputTokens: 20, outputTokens: 10 });

    anthropicUpstream.respondWith(() => "anthropic/thinking-stream");
    const streamed = streamText({
      model: anthropic(HAIKU),
      prompt: "Two names for a pet pelican, briefly.",
      providerOptions: { anthropic: { thinking: { type: "enabled", budgetTokens: 1024 } } },
    });
    const expected = assembled("thinking-stream");
    const thinking = expected.content.find((block) => block.type === "thinking")!;
    expect(await streamed.reasoningText).toBe(thinking.thinking);
    expect(await streamed.text).toBe(expected.content.find((block) => block.type === "text")!.text);
    expect(await streamed.usage).toMatchObject({
      inputTokens: expected.usage.input_tokens,
      outputTokens: expected.usage.output_tokens,
    });
    // The thinking budget reached Anthropic as Anthropic's own switch.
    expect(anthropicUpstream.received.at(-1)?.body).toMatchObject({
      thinking: { type: "enabled", budget_tokens: 1024 },
    });
    await harness.container.usageWriter.flush();
    const rows = await generationsOf(harness.container.db, user.userId);
    expect(rows).toHaveLength(2);
    expect(await balanceOf(harness.container.db, user.userId)).toBe(
      parseUsdToNano("5") - rows.reduce((sum, row) => sum + row.costNano, 0n),
    );
  });
});

describe("POST /v1/messages on an OpenAI-compatible channel with reasoning and cache hits", () => {
  it("streams thinking, a tool call and the cache reads, then takes the tool result back on the next turn", async () => {
    const user = await harness.createFundedUser("5");
    openaiUpstream.respondWith(() => "openai-compatible/deepseek-reasoner-tool-call-stream");
    const tools = [
      { name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } },
    ];
    const ask = { role: "user" as const, content: "What is the weather in Paris?" };
    const events: Body[] = [];
    const stream = sdk(user.apiKey).messages.stream({
      model: DEEPSEEK_REASONER,
      max_tokens: 1024,
      tools,
      messages: [ask],
    });
    stream.on("streamEvent", (event) => events.push(event as unknown as Body));
    const first = await stream.finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    expect(first.content.map((block) => block.type)).toEqual(["thinking", "tool_use"]);
    const toolUse = first.content[1] as Anthropic.ToolUseBlock;
    expect(toolUse.input).toEqual(expect.any(Object));
    // DeepSeek's 339 prompt tokens, 320 of them read from its cache: Anthropic counts the uncached part apart.
    const delta = events.find((event) => event.type === "message_delta")!;
    expect(delta.usage).toMatchObject({ input_tokens: 19, cache_read_input_tokens: 320, output_tokens: 83 });
    const firstCost = reportedCostNano(delta.usage);

    openaiUpstream.respondWith(() => "openai/text");
    const second = await sdk(user.apiKey).messages.create({
      model: DEEPSEEK_REASONER,
      max_tokens: 1024,
      tools,
      messages: [
        ask,
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "Sunny, 21 °C" }] },
      ],
    });
    expect(second.stop_reason).toBe("end_turn");
    const sent = openaiUpstream.received.at(-1)!.body as { messages: Body[] };
    expect(sent.messages.slice(1)).toEqual([
      expect.objectContaining({
        role: "assistant",
        tool_calls: [
          {
            id: toolUse.id,
            type: "function",
            function: { name: toolUse.name, arguments: JSON.stringify(toolUse.input) },
          },
        ],
      }),
      { role: "tool", tool_call_id: toolUse.id, content: "Sunny, 21 °C" },
    ]);
    // Each answer's reported cost is its own debit, to the nano-dollar.
    await harness.container.usageWriter.flush();
    const debits = (await ledgerOf(harness.container.db, user.userId)).filter((entry) => entry.kind === "usage");
    expect(debits.map((entry) => -entry.amountNano).sort()).toEqual([firstCost, reportedCostNano(second.usage)].sort());
    expect(await balanceOf(harness.container.db, user.userId)).toBe(
      parseUsdToNano("5") - firstCost - reportedCostNano(second.usage),
    );
    await expectLedgerConsistent(harness.container.db, user.userId);
  });
});

describe("POST /v1/messages errors and accounts", () => {
  it("knows a model by the name Anthropic gives it, dated or not, as Claude Code sends it", async () => {
    const user = await harness.createFundedUser("5");
    anthropicUpstream.respondWith(() => "anthropic/text");
    for (const name of ["claude-haiku-4-5-20251001", "claude-haiku-4-5"]) {
      const message = await sdk(user.apiKey).messages.create(recordedRequest("text", { model: name }) as never);
      expect(message.model).toBe(HAIKU);
      expect(anthropicUpstream.received.at(-1)?.body).toMatchObject({ model: "claude-haiku-4-5" });
    }
  });

  it("takes the key as x-api-key or as a bearer token", async () => {
    const user = await harness.createFundedUser("5");
    anthropicUpstream.respondWith(() => "anthropic/text");
    await expect(sdk(user.apiKey).messages.create(recordedRequest("text") as never)).resolves.toMatchObject({
      type: "message",
    });
    await expect(
      sdk(user.apiKey, { bearer: true }).messages.create(recordedRequest("text") as never),
    ).resolves.toMatchObject({ type: "message" });
  });

  it("answers errors in Anthropic's shape, which the SDK raises as its own classes", async () => {
    const user = await harness.createFundedUser("5");
    const broke = await harness.createFundedUser("0");
    const plain = { max_tokens: 64, messages: [{ role: "user" as const, content: "Hi" }] };
    await expect(sdk(`sk-gw-${"0".repeat(32)}`).messages.create({ model: HAIKU, ...plain })).rejects.toBeInstanceOf(
      Anthropic.AuthenticationError,
    );
    await expect(sdk(user.apiKey).messages.create({ model: "nobody/nothing", ...plain })).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    const empty = await sdk(broke.apiKey)
      .messages.create({ model: HAIKU, ...plain })
      .catch((error: unknown) => error);
    expect(empty).toBeInstanceOf(Anthropic.APIError);
    expect((empty as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
    expect((empty as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: "error",
      error: { type: "billing_error", message: expect.stringMatching(/balance|credit/i) as unknown },
    });

    const raw = await fetch(`${harness.baseUrl}/messages`, {
      method: "POST",
      headers: { "x-api-key": user.apiKey, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: HAIKU, messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(raw.status).toBe(400);
    const refusal: unknown = await raw.json();
    expectMatchesComponent("AnthropicError", refusal);
    expect(refusal).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining("max_tokens") as unknown },
    });
    await expectDebited(user.userId, "5", 0n);
  });

  it("counts a prompt's tokens without calling a provider or billing", async () => {
    const user = await harness.createFundedUser("5");
    const before = anthropicUpstream.received.length;
    const counted = await sdk(user.apiKey).messages.countTokens({
      model: HAIKU,
      system: "You are terse.",
      messages: [{ role: "user", content: "What is the capital of France?" }],
    });
    expect(counted.input_tokens).toBeGreaterThan(10);
    expect(counted.input_tokens).toBeLessThan(40);
    expect(anthropicUpstream.received.length).toBe(before);
    await expectDebited(user.userId, "5", 0n);
  });
});
