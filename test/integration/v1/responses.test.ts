import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { countTokens } from "gpt-tokenizer";
import OpenAI from "openai";
import type { Response, ResponseInputItem, ResponseStreamEvent } from "openai/resources/responses/responses";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measurePrompt } from "~/server/gateway/billing/estimate-tokens";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { addChannel } from "~/server/services/channels";
import { fixture } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { loadOpenApiComponents, type OpenApiComponents } from "../../helpers/openapi-components";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";

/*
 * POST /v1/responses with OpenAI's own SDK, unmodified, against the production entry. On an OpenAI-compatible
 * channel the recorded chat completions come out as Responses (whole, streamed, with function calls and a tool round
 * trip); on an Anthropic channel the recorded thinking comes out as a reasoning item whose `encrypted_content`, sent
 * back on the next turn, gives Anthropic its signed thinking block exactly. Every answer's reported cost is its
 * ledger debit, and whole answers match the OpenAPI component the gateway publishes.
 */

type Body = Record<string, unknown>;

const HAIKU = "anthropic/claude-haiku-4.5";
const GPT_4O = "openai/gpt-4o";
/** Catalog list prices in nano-USD per token ($1/M = 1,000). */
const HAIKU_PRICES = { input: 1_000n, output: 5_000n };
const GPT_4O_PRICES = { input: 2_500n, output: 10_000n };

let harness: GatewayHarness;
let openApi: OpenApiComponents;
let anthropicUpstream: ReplayUpstream;
let openaiUpstream: ReplayUpstream;
/** Served by an OpenAI-compatible upstream that streams the start of an answer and then waits ($2 and $8 /M). */
const GPT_4_1 = "openai/gpt-4.1";
const stalling = { pieces: [] as string[], closed: Promise.resolve() };
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
    const chunk = (delta: Body) =>
      `data: ${JSON.stringify({ id: "chatcmpl-stall", object: "chat.completion.chunk", created: 1, model: "gpt-4.1", choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
    response.write(chunk({ role: "assistant", content: "" }));
    for (const piece of stalling.pieces) response.write(chunk({ content: piece }));
    // …and then nothing more: only the client leaving ends this stream.
  });
  await new Promise<void>((resolve) => stallingServer.listen(0, "127.0.0.1", resolve));
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai-compatible",
      name: "openai-stalling",
      baseUrl: `http://127.0.0.1:${(stallingServer.address() as AddressInfo).port}/v1`,
      apiKey: "sk-openai-stalling",
      models: [{ modelId: GPT_4_1, upstreamModel: "gpt-4.1" }],
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

const client = (apiKey: string) => new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 });

/**
 * A response's output items as the next turn's input, as OpenAI documents it for stateless use. The SDK types output
 * items more widely than input items (a computer call's `failed` status), none of which this gateway sends.
 */
const asInput = (output: Response["output"]): ResponseInputItem[] => output as ResponseInputItem[];

/** An answer checked against the component of the OpenAPI document the gateway publishes. */
function expectMatchesComponent(component: string, value: unknown): void {
  // The SDK adds `output_text` to what it received; the wire body has none.
  const { output_text: _outputText, ...sent } = value as Body;
  openApi.expectMatches(component, sent);
}

/** The call's debit: `costNano` taken from the balance through the ledger, once per call. */
async function expectDebited(userId: string, fundedUsd: string, costsNano: bigint[]): Promise<void> {
  await harness.container.usageWriter.flush();
  const total = costsNano.reduce((sum, cost) => sum + cost, 0n);
  expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano(fundedUsd) - total);
  const debits = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
  expect(debits.map((entry) => -entry.amountNano).sort()).toEqual(costsNano.filter((cost) => cost !== 0n).sort());
  await expectLedgerConsistent(harness.container.db, userId);
}

/** The cost a Response reports, in nano-USD (the SDK keeps fields it does not know). */
function reportedCostNano(response: Pick<Response, "usage">): bigint {
  const cost = (response.usage as { cost?: number } | undefined)?.cost;
  expect(cost).toEqual(expect.any(Number));
  return parseUsdToNano(String(cost));
}

/** The text of a recorded OpenAI stream's first choice. */
function recordedStreamText(name: string): string {
  return fixture(name)
    .body.split("\n")
    .filter((line) => line.startsWith("data: {"))
    .map((line) => JSON.parse(line.slice("data: ".length)) as { choices: { delta: { content?: string | null } }[] })
    .map((chunk) => chunk.choices[0]?.delta.content ?? "")
    .join("");
}

describe("POST /v1/responses on an OpenAI-compatible channel", () => {
  it("answers a plain request as a Response, its usage and cost the ledger's debit", async () => {
    const user = await harness.createFundedUser("5");
    openaiUpstream.respondWith(() => "openai/text");
    const recorded = JSON.parse(fixture("openai/text").body) as {
      choices: { message: { content: string } }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const { data: response, response: raw } = await client(user.apiKey)
      .responses.create({ model: GPT_4O, instructions: "Answer briefly.", input: "What is the capital of France?" })
      .withResponse();
    expectMatchesComponent("Response", response);
    expect(response).toMatchObject({
      object: "response",
      status: "completed",
      model: GPT_4O,
      instructions: "Answer briefly.",
      store: false,
      output: [
        {
          type: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: recorded.choices[0]!.message.content, annotations: [] }],
        },
      ],
      usage: { input_tokens: recorded.usage.prompt_tokens, output_tokens: recorded.usage.completion_tokens },
    });
    expect(response.output_text).toBe(recorded.choices[0]!.message.content);
    // The response is its generation: resp_x is gen-x.
    expect(response.id).toBe(`resp_${raw.headers.get("x-generation-id")!.replace(/^gen-/, "")}`);
    const cost =
      BigInt(recorded.usage.prompt_tokens) * GPT_4O_PRICES.input +
      BigInt(recorded.usage.completion_tokens) * GPT_4O_PRICES.output;
    expect(reportedCostNano(response)).toBe(cost);
    await expectDebited(user.userId, "5", [cost]);
    // The upstream got a chat completion request: the instructions first, then the input.
    const sent = openaiUpstream.received.at(-1)!;
    expect(sent.url).toBe("/v1/chat/completions");
    expect((sent.body as Body).messages).toEqual([
      { role: "system", content: "Answer briefly." },
      { role: "user", content: "What is the capital of France?" },
    ]);
  });

  it("streams OpenAI's events, numbered, ending in response.completed with the billed usage", async () => {
    const user = await harness.createFundedUser("5");
    openaiUpstream.respondWith(() => "openai/text-stream-include-usage");
    const stream = await client(user.apiKey).responses.create({
      model: GPT_4O,
      input: [{ role: "user", content: "What is the capital of Mexico?" }],
      stream: true,
    });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, position) => position));
    expect(events.slice(0, 2).map((event) => event.type)).toEqual(["response.created", "response.in_progress"]);
    const last = events.at(-1)!;
    if (last.type !== "response.completed") throw new Error(`ended with ${last.type}`);
    const text = recordedStreamText("openai/text-stream-include-usage");
    const deltas = events.flatMap((event) => (event.type === "response.output_text.delta" ? [event.delta] : []));
    expect(deltas.join("")).toBe(text);
    expect(events.find((event) => event.type === "response.output_text.done")).toMatchObject({ text });
    expectMatchesComponent("Response", last.response);
    expect(last.response.usage).toMatchObject({ input_tokens: 14, output_tokens: 8, total_tokens: 22 });
    const cost = 14n * GPT_4O_PRICES.input + 8n * GPT_4O_PRICES.output;
    expect(reportedCostNano(last.response)).toBe(cost);
    await expectDebited(user.userId, "5", [cost]);
    expect((openaiUpstream.received.at(-1)!.body as Body).stream).toBe(true);
  });

  it("streams parallel function calls that the SDK's responses.stream() assembles", async () => {
    const user = await harness.createFundedUser("5");
    openaiUpstream.respondWith(() => "openai/parallel-tool-calls-stream");
    const tools = ["get_country", "get_product_name"].map((name) => ({
      type: "function" as const,
      name,
      parameters: { type: "object", properties: {}, additionalProperties: false },
      strict: true,
    }));
    const final = await client(user.apiKey)
      .responses.stream({ model: GPT_4O, input: "Country and product?", tools })
      .finalResponse();
    expectMatchesComponent("Response", final);
    expect(final.status).toBe("completed");
    expect(final.output).toMatchObject([
      { type: "function_call", name: "get_country", arguments: "{}", status: "completed" },
      { type: "function_call", name: "get_product_name", arguments: "{}", status: "completed" },
    ]);
    const callIds = final.output.map((item) => (item.type === "function_call" ? item.call_id : ""));
    expect(new Set(callIds).size).toBe(2);
    const cost = 364n * GPT_4O_PRICES.input + 40n * GPT_4O_PRICES.output;
    expect(reportedCostNano(final)).toBe(cost);
    await expectDebited(user.userId, "5", [cost]);
    expect((openaiUpstream.received.at(-1)!.body as Body).tools).toEqual(
      tools.map(({ name, parameters }) => ({ type: "function", function: { name, parameters, strict: true } })),
    );
  });

  it("makes a tool round trip: a function call, then its output answered with text", async () => {
    const user = await harness.createFundedUser("5");
    const tools = [
      {
        type: "function" as const,
        name: "get_user_country",
        parameters: { type: "object", properties: {} },
        strict: false,
      },
    ];
    const question = { role: "user" as const, content: "What is the largest city in the user country?" };
    openaiUpstream.respondWith(() => "openai/tool-call-required");
    const first = await client(user.apiKey).responses.create({
      model: GPT_4O,
      input: [question],
      tools,
      tool_choice: "required",
    });
    expectMatchesComponent("Response", first);
    const call = first.output[0]!;
    if (call.type !== "function_call") throw new Error(`answered ${call.type}`);
    expect(call).toMatchObject({ call_id: "call_iXFttys57ap0o16JSlC8yhYo", name: "get_user_country", arguments: "{}" });

    openaiUpstream.respondWith(() => "openai/text");
    const second = await client(user.apiKey).responses.create({
      model: GPT_4O,
      input: [
        question,
        ...asInput(first.output),
        { type: "function_call_output", call_id: call.call_id, output: "Mexico" },
      ],
      tools,
    });
    expectMatchesComponent("Response", second);
    expect(second.output_text).toBe("The capital of France is Paris.");
    // The upstream saw the call and its result as a chat completion round trip.
    expect((openaiUpstream.received.at(-1)!.body as Body).messages).toEqual([
      question,
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: call.call_id, type: "function", function: { name: "get_user_country", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: call.call_id, content: "Mexico" },
    ]);
    await expectDebited(user.userId, "5", [reportedCostNano(first), reportedCostNano(second)]);
    expect(reportedCostNano(first)).toBe(68n * GPT_4O_PRICES.input + 12n * GPT_4O_PRICES.output);
  });
});

describe("POST /v1/responses on an Anthropic channel", () => {
  it("streams thinking as a reasoning item whose encrypted_content gives Anthropic its signed thinking back", async () => {
    const user = await harness.createFundedUser("5");
    anthropicUpstream.respondWith(() => "anthropic/thinking-stream");
    const question = { role: "user" as const, content: "Two names for a pet pelican, be brief" };
    const events: ResponseStreamEvent[] = [];
    const stream = client(user.apiKey).responses.stream({
      model: HAIKU,
      input: [question],
      reasoning: { effort: "low", summary: "auto" },
      max_output_tokens: 8192,
    });
    stream.on("event", (event) => events.push(event));
    const first = await stream.finalResponse();
    expectMatchesComponent("Response", first);
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining([
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
      ]),
    );
    const [reasoning, message] = first.output;
    if (reasoning?.type !== "reasoning" || message?.type !== "message") throw new Error("unexpected output");
    expect(reasoning.encrypted_content).toEqual(expect.any(String));
    // What Anthropic streamed, block by block.
    const recordedThinking = { thinking: "", signature: "" };
    for (const line of fixture("anthropic/thinking-stream").body.split("\n")) {
      if (!line.startsWith("data: ")) continue;
      const delta = (JSON.parse(line.slice("data: ".length)) as { delta?: Body }).delta;
      if (delta?.type === "thinking_delta") recordedThinking.thinking += delta.thinking as string;
      if (delta?.type === "signature_delta") recordedThinking.signature = delta.signature as string;
    }
    expect(reasoning.summary).toEqual([{ type: "summary_text", text: recordedThinking.thinking }]);
    const cost = 46n * HAIKU_PRICES.input + 133n * HAIKU_PRICES.output;
    expect(first.usage).toMatchObject({ input_tokens: 46, output_tokens: 133 });
    expect(reportedCostNano(first)).toBe(cost);
    // The reasoning asked for reached Anthropic as a thinking budget.
    expect((anthropicUpstream.received.at(-1)!.body as Body).thinking).toMatchObject({ type: "enabled" });

    anthropicUpstream.respondWith(() => "anthropic/text");
    const second = await client(user.apiKey).responses.create({
      model: HAIKU,
      input: [question, ...asInput(first.output), { role: "user", content: "One more?" }],
    });
    expect(second.status).toBe("completed");
    const sent = anthropicUpstream.received.at(-1)!.body as { messages: { role: string; content: Body[] }[] };
    expect(sent.messages[1]).toEqual({
      role: "assistant",
      content: [
        { type: "thinking", ...recordedThinking },
        { type: "text", text: message.content.map((part) => (part.type === "output_text" ? part.text : "")).join("") },
      ],
    });
    await expectDebited(user.userId, "5", [cost, reportedCostNano(second)]);
  });
});

describe("POST /v1/responses refusals", () => {
  it("refuses stored state and built-in tools with a 400 that says why, billing nothing", async () => {
    const user = await harness.createFundedUser("5");
    const before = openaiUpstream.received.length;
    const refused = async (body: Body) => {
      const error = await client(user.apiKey)
        .responses.create({ model: GPT_4O, input: "Hi", ...body } as never)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      return (error as InstanceType<typeof OpenAI.BadRequestError>).error as Body;
    };
    expect(await refused({ store: true })).toMatchObject({
      type: "invalid_request_error",
      param: "store",
      message: expect.stringContaining("Tollgate keeps no conversation state") as unknown,
    });
    expect(await refused({ previous_response_id: "resp_123" })).toMatchObject({
      param: "previous_response_id",
      message: expect.stringContaining("send the whole conversation in `input`") as unknown,
    });
    expect(await refused({ tools: [{ type: "web_search" }] })).toMatchObject({
      param: "tools[0].type",
      message: expect.stringContaining("built-in tools") as unknown,
    });
    expect(
      await refused({ input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1" }] }] }),
    ).toMatchObject({ param: "input[0].content[0].file_id" });
    expect(openaiUpstream.received.length).toBe(before);
    await expectDebited(user.userId, "5", []);
  });
});

describe("POST /v1/responses cut short", () => {
  it("bills a stream the client aborts for the prompt and the text it received, and hangs up upstream", async () => {
    stalling.pieces = ["Alpha beta", " gamma delta", " epsilon zeta eta"];
    const user = await harness.createFundedUser("5");
    const abort = new AbortController();
    const input = "Recite the Greek alphabet slowly.";
    const response = await fetch(`${harness.baseUrl}/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: GPT_4_1, input, stream: true }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    let text = "";
    while (!text.includes("epsilon zeta eta")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain("response.output_text.delta");
    abort.abort();
    await stalling.closed;
    // The upstream reported nothing: the gateway's count of the prompt and of the text the client received.
    const promptTokens = measurePrompt({ model: GPT_4_1, messages: [{ role: "user", content: input }] }).tokens;
    const cost = BigInt(promptTokens) * 2_000n + BigInt(countTokens(stalling.pieces.join(""))) * 8_000n;
    await harness.container.usageWriter.flush();
    const [generation] = await generationsOf(harness.container.db, user.userId);
    expect(generation).toMatchObject({ cancelled: true, billingStatus: "estimated", costNano: cost });
    expect(await balanceOf(harness.container.db, user.userId)).toBe(parseUsdToNano("5") - cost);
    await expectLedgerConsistent(harness.container.db, user.userId);
  });
});
