import { TEST_ACTOR } from "../../helpers/audit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel } from "~/server/services/channels";
import { fixture, fixtureManifest } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, generationsOf } from "../../helpers/ledger-assertions";
import { startReplayUpstream, type ReceivedRequest, type ReplayUpstream } from "../../helpers/replay-upstream";
import {
  accumulate,
  callGateway,
  expectBilledOnce,
  expectedUsage,
  expectStreamFrame,
  fromCompletion,
  parseSseData,
  startScriptedUpstream,
  type Body,
  type ListPrices,
  type ScriptedUpstream,
} from "./openai-family-support";

/*
 * `openai-compatible` channels end to end, for every openai-compatible/* recording in the shared fixtures: DeepSeek,
 * Groq and OpenRouter through channels with their provider presets, and Gemini's OpenAI-compatible endpoint through
 * a channel with no preset (a provider slug the presets do not know). Each channel's base URL ends with the path its
 * provider documents, so the URL the gateway calls can be checked against the recorded one.
 *
 * One case no recording has (DeepSeek reporting cache hits only as `prompt_cache_hit_tokens`, as its API did before
 * it added `prompt_tokens_details`) is served by a scripted upstream from a recorded DeepSeek body with that one
 * field removed.
 */

const DEEPSEEK_REASONER = "deepseek/deepseek-reasoner";
const DEEPSEEK_CHAT = "deepseek/deepseek-chat";
/** The catalog lists neither MiniMax nor Llama: these channels serve catalog models under the recorded names. */
const VIA_OPENROUTER = "openai/gpt-4.1-mini";
const VIA_GROQ = "openai/gpt-4.1-nano";
const GEMINI_PRO = "google/gemini-2.5-pro";

/** List prices from src/server/catalog/catalog.json, in nano-USD per million tokens. */
const PRICES: Record<string, ListPrices> = {
  // $0.14 / $0.28 / $0.0028 cached, both DeepSeek models
  [DEEPSEEK_REASONER]: { input: 140_000_000n, output: 280_000_000n, cacheRead: 2_800_000n },
  [DEEPSEEK_CHAT]: { input: 140_000_000n, output: 280_000_000n, cacheRead: 2_800_000n },
  // $0.40 / $1.60 / $0.10 cached
  [VIA_OPENROUTER]: { input: 400_000_000n, output: 1_600_000_000n, cacheRead: 100_000_000n },
  // $0.10 / $0.40 / $0.025 cached
  [VIA_GROQ]: { input: 100_000_000n, output: 400_000_000n, cacheRead: 25_000_000n },
  // $1.25 / $10.00 / $0.125 cached
  [GEMINI_PRO]: { input: 1_250_000_000n, output: 10_000_000_000n, cacheRead: 125_000_000n },
};

let harness: GatewayHarness;
let upstream: ReplayUpstream;
let scripted: ScriptedUpstream;

/** `usage` of the last chunk of the recorded DeepSeek stream, without `prompt_tokens_details`. */
function deepseekStreamWithLegacyUsage(): string[] {
  return parseSseData(fixture("openai-compatible/deepseek-reasoner-tool-call-stream").body).map((data) => {
    if (data === "[DONE]") return "data: [DONE]\n\n";
    const chunk = JSON.parse(data) as Body;
    if (chunk.usage !== null && chunk.usage !== undefined) {
      const { prompt_tokens_details: _dropped, ...usage } = chunk.usage as Body;
      chunk.usage = usage;
    }
    return `data: ${JSON.stringify(chunk)}\n\n`;
  });
}

beforeAll(async () => {
  harness = await startGatewayHarness();
  upstream = await startReplayUpstream();
  scripted = await startScriptedUpstream("", () => ({
    contentType: "text/event-stream; charset=utf-8",
    body: deepseekStreamWithLegacyUsage(),
  }));
  const origin = upstream.baseUrl.replace(/\/v1$/, "");
  const { db, secretBox, changes } = harness.container;
  const add = (provider: string, path: string, modelId: string, upstreamModel: string, baseOrigin = origin) =>
    addChannel(
      db,
      secretBox,
      changes,
      {
        kind: "openai-compatible",
        name: `${provider}-replay`,
        provider,
        baseUrl: `${baseOrigin}${path}`,
        apiKey: `sk-${provider}-upstream`,
        models: [{ modelId, upstreamModel }],
      },
      TEST_ACTOR,
    );
  // Base URLs as each provider documents them.
  await add("deepseek", "", DEEPSEEK_REASONER, "deepseek-reasoner");
  await add("openrouter", "/api/v1", VIA_OPENROUTER, "minimax/minimax-m2:free");
  await add("groq", "/openai/v1", VIA_GROQ, "llama-3.3-70b-versatile");
  await add("gemini-openai", "/v1beta/openai", GEMINI_PRO, "gemini-2.5-pro-preview-05-06");
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai-compatible",
      name: "deepseek-scripted",
      provider: "deepseek",
      baseUrl: scripted.baseUrl,
      apiKey: "sk-deepseek-scripted",
      models: [{ modelId: DEEPSEEK_CHAT, upstreamModel: "deepseek-chat" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  await scripted?.close();
  await upstream?.close();
  await harness?.stop();
});

/** The provider's chat completions URL, the channel's key as a bearer token, and the body. */
function sentUpstream(sent: ReceivedRequest | undefined, path: string, provider: string): Body {
  expect(sent?.method).toBe("POST");
  expect(sent?.url).toBe(path);
  expect(sent?.headers.authorization).toBe(`Bearer sk-${provider}-upstream`);
  return sent?.body as Body;
}

/** The path of the URL a recording was made against. */
function recordedPath(id: string): string {
  return new URL(fixture(id).url).pathname;
}

async function replay(id: string, request: Body) {
  upstream.respondWith(() => id);
  const { userId, apiKey } = await harness.createFundedUser("5");
  const before = await balanceOf(harness.container.db, userId);
  const sentCount = upstream.received.length;
  const result = await callGateway(harness, apiKey, request);
  expect(upstream.received).toHaveLength(sentCount + 1);
  return { result, userId, before, sent: upstream.received[sentCount] };
}

/** The recordings the tests below replay, one test each. */
const TESTED = [
  "deepseek-reasoner",
  "deepseek-reasoner-tool-call-stream",
  "gemini-openai-compat-tool-call",
  "groq-tool-call-stream",
  "openrouter-stream-comments-length-error",
];

/** The tool the DeepSeek and Groq streams call (their requests were not recorded). */
const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "weather",
    description: "Get the weather in a location",
    parameters: {
      type: "object",
      properties: { location: { type: "string", description: "The location to get the weather for" } },
      required: ["location"],
    },
  },
};

describe("every recorded OpenAI-compatible answer, replayed through a channel with its provider's preset", () => {
  it("deepseek-reasoner: reasoning_content becomes `reasoning`, the missing fields are filled in", async () => {
    const id = "openai-compatible/deepseek-reasoner";
    const recorded = fixture(id).requestBody as Body;
    const recordedMessage = (JSON.parse(fixture(id).body) as { choices: { message: Body }[] }).choices[0]!.message;
    const { result, userId, before, sent } = await replay(id, { ...recorded, model: DEEPSEEK_REASONER });
    expect(result.status).toBe(200);
    expect(result.headers.get("x-tollgate-provider")).toBe("deepseek");
    expect(result.headers.get("x-tollgate-dropped-parameters")).toBeNull();

    const body = sentUpstream(sent, recordedPath(id), "deepseek");
    const { stream: _stream, ...unstreamed } = recorded;
    expect(body).toEqual({ ...unstreamed, model: "deepseek-reasoner" });

    const completion = result.completion!;
    expect(completion).toMatchObject({ object: "chat.completion", model: DEEPSEEK_REASONER });
    const choice = (completion.choices as Body[])[0]!;
    // OpenAI's schema requires `refusal` and `logprobs`, which DeepSeek leaves out (the response passed the
    // unrelaxed schema in callGateway).
    expect(choice).toMatchObject({ finish_reason: "stop", native_finish_reason: "stop", logprobs: null });
    expect(choice.message).toMatchObject({
      role: "assistant",
      content: recordedMessage.content,
      refusal: null,
      reasoning: recordedMessage.reasoning_content,
    });
    expect((recordedMessage.reasoning_content as string).length).toBeGreaterThan(100);
    const tokens = { prompt: 12, completion: 789, reasoning: 415, cached: 0 };
    expect(completion.usage).toMatchObject({
      ...expectedUsage(tokens, PRICES[DEEPSEEK_REASONER]!),
      // DeepSeek's own counters ride along.
      prompt_cache_hit_tokens: 0,
      prompt_cache_miss_tokens: 12,
    });
    await expectBilledOnce(harness, userId, before, {
      id: completion.id,
      tokens,
      prices: PRICES[DEEPSEEK_REASONER]!,
      streamed: false,
      finishReason: "stop",
    });
  });

  it("deepseek-reasoner-tool-call-stream: streamed reasoning, a streamed tool call, cache hits billed as such", async () => {
    const { result, userId, before, sent } = await replay("openai-compatible/deepseek-reasoner-tool-call-stream", {
      model: DEEPSEEK_REASONER,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "What is the weather in San Francisco?" }],
      tools: [WEATHER_TOOL],
    });
    expect(result.status).toBe(200);
    expect(result.errorChunk).toBeNull();
    // No request was recorded for this stream: DeepSeek's path (its base URL has no /v1) and a snapshot.
    expect(sentUpstream(sent, "/chat/completions", "deepseek")).toMatchSnapshot();

    // DeepSeek reports usage on its finish chunk, not on a trailing chunk (the gateway adds that one: see the regression tests below).
    expectStreamFrame(result.chunks, DEEPSEEK_REASONER, null);
    const { choices, usage } = accumulate(result.chunks);
    const answer = choices[0]!;
    expect(answer.reasoning).toBe(
      'The user is asking for the weather in San Francisco. I need to use the weather tool to get this information. Let me invoke the weather tool with the location parameter set to "San Francisco".',
    );
    expect(answer.content ?? "").toBe("");
    expect(answer.toolCalls).toEqual([
      {
        id: "call_00_ioIn7yN9p1ZOMNpDLwd4MgAF",
        type: "function",
        name: "weather",
        arguments: '{"location": "San Francisco"}',
        namedTimes: 1,
      },
    ]);
    expect(answer.finishReasons).toEqual(["tool_calls"]);
    expect(answer.nativeFinishReasons).toEqual(["tool_calls"]);
    const tokens = { prompt: 339, completion: 83, cached: 320, reasoning: 39 };
    expect(usage).toMatchObject(expectedUsage(tokens, PRICES[DEEPSEEK_REASONER]!));
    await expectBilledOnce(harness, userId, before, {
      id: result.chunks[0]?.id,
      tokens,
      prices: PRICES[DEEPSEEK_REASONER]!,
      streamed: true,
      finishReason: "tool_calls",
    });
  });

  it("gemini-openai-compat-tool-call: content, refusal and logprobs filled in, thought signatures passed on", async () => {
    const id = "openai-compatible/gemini-openai-compat-tool-call";
    const recorded = fixture(id).requestBody as Body;
    const recordedMessage = (JSON.parse(fixture(id).body) as { choices: { message: Body }[] }).choices[0]!.message;
    const { result, userId, before, sent } = await replay(id, { ...recorded, model: GEMINI_PRO });
    expect(result.status).toBe(200);
    expect(result.headers.get("x-tollgate-provider")).toBe("gemini-openai");

    const body = sentUpstream(sent, recordedPath(id), "gemini-openai");
    const { stream: _stream, ...unstreamed } = recorded;
    expect(body).toEqual({ ...unstreamed, model: "gemini-2.5-pro-preview-05-06" });

    const completion = result.completion!;
    const choice = (completion.choices as Body[])[0]!;
    expect(choice).toMatchObject({ finish_reason: "tool_calls", native_finish_reason: "tool_calls", logprobs: null });
    expect(choice.message).toMatchObject({
      role: "assistant",
      content: null,
      refusal: null,
      // Gemini wants the signature back with the call: a client that resends the message as it got it can.
      extra_content: recordedMessage.extra_content,
      thought_signature: recordedMessage.thought_signature,
    });
    // Gemini's compatible endpoint gives its calls an empty id; the client gets one it can send the result back under.
    const toolCalls = fromCompletion(completion).choices[0]?.toolCalls;
    expect(toolCalls).toMatchObject([{ type: "function", name: "get_current_time", arguments: "{}", namedTimes: 1 }]);
    expect(toolCalls?.[0]?.id).toMatch(/^call_[A-Za-z0-9]+$/);
    // The recording's total_tokens (109) counts 62 thinking tokens that its completion_tokens (12) leave out, and
    // Google bills thinking as output: they are billed and reported as reasoning inside completion_tokens.
    const tokens = { prompt: 35, completion: 12 + 62, reasoning: 62 };
    expect(completion.usage).toMatchObject(expectedUsage(tokens, PRICES[GEMINI_PRO]!));
    await expectBilledOnce(harness, userId, before, {
      id: completion.id,
      tokens,
      prices: PRICES[GEMINI_PRO]!,
      streamed: false,
      finishReason: "tool_calls",
    });
  });

  it("groq-tool-call-stream: a whole call in one delta, usage from the finish chunk", async () => {
    const { result, userId, before, sent } = await replay("openai-compatible/groq-tool-call-stream", {
      model: VIA_GROQ,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "What is the weather like?" }],
      tools: [{ type: "function", function: { name: "weather", parameters: { type: "object", properties: {} } } }],
      tool_choice: "auto",
    });
    expect(result.status).toBe(200);
    expect(result.errorChunk).toBeNull();
    expect(sentUpstream(sent, "/openai/v1/chat/completions", "groq")).toMatchSnapshot();

    // Groq reports usage on its finish chunk, not on a trailing chunk (the gateway adds that one: see the regression tests below).
    expectStreamFrame(result.chunks, VIA_GROQ, null);
    const { choices, usage } = accumulate(result.chunks);
    expect(choices[0]?.toolCalls).toEqual([
      { id: "tk85n1k4m", type: "function", name: "weather", arguments: "{}", namedTimes: 1 },
    ]);
    expect(choices[0]?.content ?? "").toBe("");
    expect(choices[0]?.finishReasons).toEqual(["tool_calls"]);
    expect(choices[0]?.nativeFinishReasons).toEqual(["tool_calls"]);
    const tokens = { prompt: 210, completion: 15 };
    expect(usage).toMatchObject(expectedUsage(tokens, PRICES[VIA_GROQ]!));
    await expectBilledOnce(harness, userId, before, {
      id: result.chunks[0]?.id,
      tokens,
      prices: PRICES[VIA_GROQ]!,
      streamed: true,
      finishReason: "tool_calls",
    });
  });

  it("openrouter-stream-comments-length-error: comments skipped, reasoning streamed, the in-band error passed on", async () => {
    const id = "openai-compatible/openrouter-stream-comments-length-error";
    const recorded = fixture(id).requestBody as Body;
    const { result, userId, sent } = await replay(id, { ...recorded, model: VIA_OPENROUTER });
    expect(result.status).toBe(200);
    // OpenRouter takes the request as it is (stream_options.include_usage was already set).
    expect(sentUpstream(sent, recordedPath(id), "openrouter")).toEqual({
      ...recorded,
      model: "minimax/minimax-m2:free",
    });

    for (const chunk of result.chunks) {
      expect(chunk.id).toBe(result.chunks[0]?.id);
      expect(chunk.id).toMatch(/^gen-/);
      expect(chunk.model).toBe(VIA_OPENROUTER);
    }
    const { choices } = accumulate(result.chunks);
    expect(choices[0]?.role).toBe("assistant");
    expect(choices[0]?.reasoning).toBe("We need to respond to a greeting. The user");
    expect(choices[0]?.content ?? "").toBe("");
    // OpenRouter's reasoning_details are passed on as they came.
    const details = result.chunks.flatMap((chunk) =>
      (chunk.choices as Body[]).flatMap(
        (choice) => ((choice.delta as Body).reasoning_details as Body[] | undefined) ?? [],
      ),
    );
    expect(details).toEqual([
      { type: "reasoning.text", text: "We need", index: 0, format: null },
      { type: "reasoning.text", text: " to respond to a greeting. The user", index: 0, format: null },
    ]);
    expect(choices[0]?.finishReasons[0]).toBe("length");
    // The in-band error ends the stream with OpenRouter's message; checked by its own rule in callGateway. OpenRouter
    // gave it status 400 (`"code": 400`), so it is a request error, as the same status in the headers would be.
    expect(result.errorChunk).toMatchObject({
      id: result.chunks[0]?.id,
      model: VIA_OPENROUTER,
      choices: [{ index: 0, delta: {}, finish_reason: "error" }],
      error: { message: "Token limit reached", type: "invalid_request_error", code: "invalid_request" },
    });
    await harness.container.usageWriter.flush();
    const rows = await generationsOf(harness.container.db, userId);
    expect(rows).toEqual([
      expect.objectContaining({
        id: result.chunks[0]?.id,
        streamed: true,
        finishReason: "error",
        httpStatus: 400,
        errorType: "invalid_request_error",
        upstreamId: "gen-1762179802-UN8pkJI4AGZvryk0kFnb",
      }),
    ]);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("covers every openai-compatible recording", () => {
    const names = fixtureManifest()
      .filter((entry) => entry.provider === "openai-compatible")
      .map((entry) => entry.name);
    expect([...TESTED].sort()).toEqual(names.sort());
  });
});

describe("assembled from a recording", () => {
  it("DeepSeek cache hits reported only as prompt_cache_hit_tokens become cached_tokens and are billed as such", async () => {
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);
    const result = await callGateway(harness, apiKey, {
      model: DEEPSEEK_CHAT,
      stream: true,
      messages: [{ role: "user", content: "What is the weather in San Francisco?" }],
      tools: [WEATHER_TOOL],
    });
    expect(result.status).toBe(200);
    expect(scripted.received.at(-1)?.body).toMatchObject({ model: "deepseek-chat" });
    expectStreamFrame(result.chunks, DEEPSEEK_CHAT, false);
    const { usage } = accumulate(result.chunks);
    const tokens = { prompt: 339, completion: 83, cached: 320, reasoning: 39 };
    expect(usage).toMatchObject({
      ...expectedUsage(tokens, PRICES[DEEPSEEK_CHAT]!),
      prompt_cache_hit_tokens: 320,
      prompt_cache_miss_tokens: 19,
    });
    await expectBilledOnce(harness, userId, before, {
      id: result.chunks[0]?.id,
      tokens,
      prices: PRICES[DEEPSEEK_CHAT]!,
      streamed: true,
      finishReason: "tool_calls",
    });
  });
});

/*
 * Gateway bugs these recordings revealed, each kept as a regression test now that it is fixed.
 */
describe("fixed gateway bugs", () => {
  it.each([
    ["DeepSeek", "openai-compatible/deepseek-reasoner-tool-call-stream", DEEPSEEK_REASONER],
    ["Groq", "openai-compatible/groq-tool-call-stream", VIA_GROQ],
  ])(
    "stream_options.include_usage: a %s stream (usage on its finish chunk) gets no trailing choices:[] usage chunk",
    async (_provider, id, model) => {
      upstream.respondWith(() => id);
      const { apiKey } = await harness.createFundedUser("5");
      const result = await callGateway(harness, apiKey, {
        model,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: "What is the weather in San Francisco?" }],
        tools: [WEATHER_TOOL],
      });
      expect(result.status).toBe(200);
      // OpenAI's contract for include_usage: one more chunk before [DONE], with `choices: []` and the usage. The
      // gateway keeps it for OpenAI (which sends one), Anthropic and Gemini, but not for these upstreams.
      expectStreamFrame(result.chunks, model, true);
    },
  );

  it("OpenRouter: the usage reported on the in-band error chunk (43 + 10 tokens) is billed and shown", async () => {
    const id = "openai-compatible/openrouter-stream-comments-length-error";
    const recorded = fixture(id).requestBody as Body;
    const { result, userId, before } = await replay(id, { ...recorded, model: VIA_OPENROUTER });
    expect(result.status).toBe(200);
    const tokens = { prompt: 43, completion: 10, reasoning: 11 };
    await expectBilledOnce(
      harness,
      userId,
      before,
      {
        id: result.chunks[0]?.id,
        tokens,
        prices: PRICES[VIA_OPENROUTER]!,
        streamed: true,
        finishReason: "error",
        httpStatus: 400,
      },
      { errorType: "invalid_request_error" },
    );
    // And the client is shown that usage, priced by the gateway: OpenRouter's own charge (usage.cost,
    // cost_details, is_byok) is recorded for margin reports but never shown.
    const usage = accumulate(result.chunks).usage as Body;
    expect(usage).toMatchObject(expectedUsage(tokens, PRICES[VIA_OPENROUTER]!));
    expect(usage).not.toHaveProperty("cost_details");
    expect(usage).not.toHaveProperty("is_byok");
    const [row] = await generationsOf(harness.container.db, userId);
    expect(row?.upstreamCostNano).toBe(0n); // the recorded model is a free one: OpenRouter reports cost 0
  });
});
