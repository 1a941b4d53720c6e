import { TEST_ACTOR } from "../../helpers/audit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel } from "~/server/services/channels";
import { fixture, fixtureManifest } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { startReplayUpstream, type ReceivedRequest, type ReplayUpstream } from "../../helpers/replay-upstream";
import {
  accumulate,
  callGateway,
  expectBilledOnce,
  expectedUsage,
  expectStreamFrame,
  fromCompletion,
  type Body,
  type ListPrices,
  type Tokens,
} from "./openai-family-support";

/*
 * The native OpenAI adapter (a channel of kind `openai`) end to end, for every openai/* recording in the shared
 * fixtures: the recording's own request goes into the production entry (its model rewritten to the channel's public
 * id), a local upstream replays the recorded answer, and the test checks what the client got (OpenAI's schema, chunk
 * by chunk for streams; content, refusal, tool calls, finish reasons, usage and cost), what reached the upstream (the
 * recorded request, field by field), and what was billed (computed here from the catalog's list prices).
 */

const GPT_4O = "openai/gpt-4o";
/**
 * The catalog has no o3-mini or o1-mini: the reasoning-model recordings go through a channel that serves
 * openai/o4-mini (another small o-series model, which gets the same reasoning-model handling) as `o3-mini`.
 */
const O4_MINI = "openai/o4-mini";

/** List prices from src/server/catalog/catalog.json, in nano-USD per million tokens. */
const PRICES: Record<string, ListPrices> = {
  // $2.50 / $10.00 / $1.25 cached
  [GPT_4O]: { input: 2_500_000_000n, output: 10_000_000_000n, cacheRead: 1_250_000_000n },
  // $1.10 / $4.40 / $0.275 cached
  [O4_MINI]: { input: 1_100_000_000n, output: 4_400_000_000n, cacheRead: 275_000_000n },
};
const UPSTREAM_MODEL: Record<string, string> = { [GPT_4O]: "gpt-4o", [O4_MINI]: "o3-mini" };

/** The recordings made with an o-series model. */
const REASONING_RECORDINGS = new Set(["reasoning-model-usage", "error-400-unsupported-value"]);
const modelFor = (name: string) => (REASONING_RECORDINGS.has(name) ? O4_MINI : GPT_4O);

let harness: GatewayHarness;
let upstream: ReplayUpstream;

beforeAll(async () => {
  harness = await startGatewayHarness();
  upstream = await startReplayUpstream();
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "openai",
      name: "openai-replay",
      baseUrl: upstream.baseUrl,
      apiKey: "sk-openai-upstream",
      models: [
        { modelId: GPT_4O, upstreamModel: "gpt-4o" },
        { modelId: O4_MINI, upstreamModel: "o3-mini" },
      ],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  await upstream?.close();
  await harness?.stop();
});

/** OpenAI's endpoint, the channel's key as a bearer token, and the body. */
function sentToOpenAI(sent: ReceivedRequest | undefined, streamed: boolean): Body {
  expect(sent?.method).toBe("POST");
  expect(sent?.url).toBe("/v1/chat/completions");
  expect(sent?.headers.authorization).toBe("Bearer sk-openai-upstream");
  expect(sent?.headers["content-type"]).toBe("application/json");
  expect(sent?.headers.accept).toBe(streamed ? "text/event-stream" : "application/json");
  return sent?.body as Body;
}

/**
 * What OpenAI must receive for a recorded request: the recording itself with the channel's upstream model, and the
 * one deliberate change: streams always ask for usage (to meter them), non-streamed calls carry no stream fields.
 */
function expectedUpstreamBody(recorded: Body, upstreamModel: string, streamed: boolean): Body {
  const body: Body = { ...recorded, model: upstreamModel };
  if (streamed) {
    body.stream = true;
    body.stream_options = { ...(recorded.stream_options ?? {}), include_usage: true };
  } else {
    delete body.stream;
    delete body.stream_options;
  }
  return body;
}

interface ExpectedChoice {
  content: string | null;
  refusal?: string;
  toolCalls?: { id: string; name: string; arguments: string }[];
  finish: "stop" | "length" | "tool_calls";
  native: string;
}

interface Expectation {
  choices: ExpectedChoice[];
  tokens: Tokens;
  check?: (chunks: Body[]) => void;
}

const one = (choice: ExpectedChoice): ExpectedChoice[] => [choice];

const EXPECTED: Record<string, Expectation> = {
  text: {
    choices: one({ content: "The capital of France is Paris.", finish: "stop", native: "stop" }),
    tokens: { prompt: 24, completion: 8 },
  },
  "text-stream-include-usage": {
    choices: one({ content: "The capital of Mexico is Mexico City.", finish: "stop", native: "stop" }),
    tokens: { prompt: 14, completion: 8 },
  },
  "tool-call-required": {
    choices: one({
      content: null,
      toolCalls: [{ id: "call_iXFttys57ap0o16JSlC8yhYo", name: "get_user_country", arguments: "{}" }],
      finish: "tool_calls",
      native: "tool_calls",
    }),
    tokens: { prompt: 68, completion: 12 },
  },
  "tool-result-followup": {
    choices: one({
      content: null,
      toolCalls: [
        {
          id: "call_gmD2oUZUzSoCkmNmp3JPUF7R",
          name: "final_result",
          arguments: '{"city": "Mexico City", "country": "Mexico"}',
        },
      ],
      finish: "tool_calls",
      native: "tool_calls",
    }),
    tokens: { prompt: 89, completion: 36 },
  },
  "parallel-tool-calls-stream": {
    choices: one({
      // The recording's first delta says `content: null`, and no text follows.
      content: null,
      toolCalls: [
        { id: "call_q2UyBRP7eXNTzAoR8lEhjc9Z", name: "get_country", arguments: "{}" },
        { id: "call_b51ijcpFkDiTQG1bQzsrmtW5", name: "get_product_name", arguments: "{}" },
      ],
      finish: "tool_calls",
      native: "tool_calls",
    }),
    tokens: { prompt: 364, completion: 40 },
  },
  "tool-call-stream-argument-deltas": {
    choices: one({
      content: null,
      toolCalls: [{ id: "call_LwxJUB9KppVyogRRLQsamRJv", name: "get_weather", arguments: '{"city":"Mexico City"}' }],
      finish: "tool_calls",
      native: "tool_calls",
    }),
    tokens: { prompt: 423, completion: 15 },
    check: (chunks) => {
      // The arguments stay in the many small deltas they came in (no buffering).
      const argumentDeltas = chunks.filter((chunk) =>
        (chunk.choices as Body[]).some((choice) => (choice.delta as Body).tool_calls !== undefined),
      );
      expect(argumentDeltas.length).toBeGreaterThanOrEqual(7);
    },
  },
  "json-schema-response-format": {
    choices: one({ content: '{"city":"Mexico City","country":"Mexico"}', finish: "stop", native: "stop" }),
    tokens: { prompt: 92, completion: 15 },
  },
  "image-url-input": {
    choices: one({ content: "The image shows a potato.", finish: "stop", native: "stop" }),
    tokens: { prompt: 503, completion: 8 },
  },
  "reasoning-model-usage": {
    choices: one({ content: "Hello there! How can I help you today?", finish: "stop", native: "stop" }),
    tokens: { prompt: 7, completion: 87, reasoning: 64 },
  },
  refusal: {
    choices: one({
      content: null,
      refusal: "I'm very sorry, but I can't assist with that.",
      finish: "stop",
      native: "stop",
    }),
    tokens: { prompt: 79, completion: 12 },
  },
  "refusal-stream": {
    choices: one({
      content: null,
      refusal: "I'm sorry, I can't assist with that request.",
      finish: "stop",
      native: "stop",
    }),
    tokens: { prompt: 79, completion: 11 },
  },
  "finish-length": {
    choices: one({ content: '{"', finish: "length", native: "length" }),
    tokens: { prompt: 79, completion: 1 },
  },
  "finish-length-stream": {
    choices: one({ content: '{"', finish: "length", native: "length" }),
    tokens: { prompt: 79, completion: 1 },
  },
  "multiple-choices-n3-stream": {
    choices: [65, 61, 59].map((temperature) => ({
      content: `{"city":"San Francisco","temperature":${temperature},"units":"f"}`,
      finish: "stop" as const,
      native: "stop",
    })),
    tokens: { prompt: 79, completion: 42 },
  },
  "logprobs-stream": {
    choices: one({ content: "Foo!", finish: "stop", native: "stop" }),
    tokens: { prompt: 9, completion: 2 },
    check: (chunks) => {
      const tokens = chunks.flatMap((chunk) =>
        (chunk.choices as Body[]).flatMap(
          (choice) => ((choice.logprobs as Body | null | undefined)?.content as Body[] | undefined) ?? [],
        ),
      );
      expect(tokens).toEqual([
        { token: "Foo", logprob: -0.0025094282, bytes: [70, 111, 111], top_logprobs: [] },
        { token: "!", logprob: -0.26638845, bytes: [33], top_logprobs: [] },
      ]);
    },
  },
  "parallel-tool-calls-two-functions-stream": {
    choices: one({
      content: null,
      toolCalls: [
        {
          id: "call_JMW1whyEaYG438VE1OIflxA2",
          name: "GetWeatherArgs",
          arguments: '{"city": "Edinburgh", "country": "GB", "units": "c"}',
        },
        {
          id: "call_DNYTawLBoN8fj3KN6qU9N1Ou",
          name: "get_stock_price",
          arguments: '{"ticker": "AAPL", "exchange": "NASDAQ"}',
        },
      ],
      finish: "tool_calls",
      native: "tool_calls",
    }),
    tokens: { prompt: 149, completion: 60 },
  },
};

const recordings = fixtureManifest().filter((entry) => entry.provider === "openai");
const answered = recordings.filter((entry) => entry.status === 200);

describe("every recorded OpenAI answer, replayed through an openai channel", () => {
  it("has an expectation here for each recording", () => {
    expect(answered.map((entry) => entry.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(answered.map((entry) => ({ name: entry.name, streamed: entry.kind === "sse" })))(
    "$name",
    async ({ name, streamed }) => {
      const expected = EXPECTED[name]!;
      const model = modelFor(name);
      const recorded = fixture(`openai/${name}`).requestBody as Body;
      expect(recorded.stream === true).toBe(streamed);
      upstream.respondWith(() => `openai/${name}`);
      const { userId, apiKey } = await harness.createFundedUser("5");
      const before = await balanceOf(harness.container.db, userId);
      const sentCount = upstream.received.length;

      const result = await callGateway(harness, apiKey, { ...recorded, model });
      expect(result.status).toBe(200);
      expect(result.headers.get("x-tollgate-dropped-parameters")).toBeNull();
      expect(result.headers.get("x-tollgate-provider")).toBe("openai");

      // Exactly one upstream call, carrying the recorded request.
      expect(upstream.received).toHaveLength(sentCount + 1);
      const sent = sentToOpenAI(upstream.received[sentCount], streamed);
      expect(sent).toEqual(expectedUpstreamBody(recorded, UPSTREAM_MODEL[model]!, streamed));

      let answer: ReturnType<typeof accumulate>;
      let id: unknown;
      if (streamed) {
        expect(result.errorChunk).toBeNull();
        const includeUsage = (recorded.stream_options as Body | undefined)?.include_usage === true;
        expectStreamFrame(result.chunks, model, includeUsage, expected.choices.length);
        answer = accumulate(result.chunks);
        id = result.chunks[0]?.id;
        for (const choice of answer.choices) for (const call of choice.toolCalls) expect(call.namedTimes).toBe(1);
      } else {
        const completion = result.completion!;
        expect(completion).toMatchObject({ object: "chat.completion", model });
        expect(completion.id).toMatch(/^gen-/);
        answer = fromCompletion(completion);
        id = completion.id;
      }

      expect(answer.choices).toHaveLength(expected.choices.length);
      expected.choices.forEach((want, index) => {
        const got = answer.choices[index]!;
        expect(got.role).toBe("assistant");
        // A stream may open with `content: ""`; what a client assembles is then the empty string, not null.
        expect(got.content ?? "").toBe(want.content ?? "");
        if (!streamed) expect(got.content).toBe(want.content);
        expect(got.refusal).toBe(want.refusal ?? null);
        expect(got.reasoning).toBeNull();
        expect(got.toolCalls.map((call) => ({ id: call.id, name: call.name, arguments: call.arguments }))).toEqual(
          want.toolCalls ?? [],
        );
        for (const call of got.toolCalls) expect(call.type).toBe("function");
        expect(got.finishReasons).toEqual([want.finish]);
        expect(got.nativeFinishReasons).toEqual([want.native]);
      });
      expect(answer.usage).toMatchObject(expectedUsage(expected.tokens, PRICES[model]!));
      expected.check?.(result.chunks);

      await expectBilledOnce(harness, userId, before, {
        id,
        tokens: expected.tokens,
        prices: PRICES[model]!,
        streamed,
        finishReason: expected.choices[0]!.finish,
      });
      const [row] = await generationsOf(harness.container.db, userId);
      expect(row).toMatchObject({ modelId: model, provider: "openai", upstreamModel: UPSTREAM_MODEL[model] });
    },
  );
});

describe("recorded OpenAI errors", () => {
  it("has a case here for each error recording", () => {
    expect(recordings.filter((entry) => entry.status !== 200).map((entry) => entry.name)).toEqual([
      "error-400-unsupported-value",
      "error-404-model-not-found",
    ]);
  });

  it.each([
    {
      name: "error-400-unsupported-value",
      status: 400,
      error: {
        message: "Unsupported value: 'messages[0].role' does not support 'system' with this model.",
        type: "invalid_request_error",
        param: "messages[0].role",
        code: "unsupported_value",
      },
    },
    {
      name: "error-404-model-not-found",
      status: 404,
      error: {
        message: "The model `gpt-5.2-proo` does not exist or you do not have access to it.",
        type: "not_found_error",
        param: null,
        code: "model_not_found",
      },
    },
  ])("$name comes back as $status with OpenAI's error envelope, and costs nothing", async ({ name, status, error }) => {
    const model = modelFor(name);
    const recorded = fixture(`openai/${name}`).requestBody as Body;
    upstream.respondWith(() => `openai/${name}`);
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);
    const sentCount = upstream.received.length;

    const result = await callGateway(harness, apiKey, { ...recorded, model });
    expect(result.status).toBe(status);
    // The gateway adds its own `metadata` (the error's class) beside OpenAI's four fields.
    expect(result.errorBody?.error).toMatchObject(error);
    expect(upstream.received).toHaveLength(sentCount + 1);
    expect(sentToOpenAI(upstream.received[sentCount], false)).toEqual(
      expectedUpstreamBody(recorded, UPSTREAM_MODEL[model]!, false),
    );

    await harness.container.usageWriter.flush();
    const rows = await generationsOf(harness.container.db, userId);
    expect(rows).toEqual([expect.objectContaining({ httpStatus: status, costNano: 0n, errorType: error.type })]);
    expect(await balanceOf(harness.container.db, userId)).toBe(before);
    expect((await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage")).toEqual([]);
  });

  it("a recorded 400 to a stream is a real HTTP 400 before any byte, not an in-band error", async () => {
    const recorded = fixture("openai/error-400-unsupported-value").requestBody as Body;
    upstream.respondWith(() => "openai/error-400-unsupported-value");
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);
    const sentCount = upstream.received.length;
    const result = await callGateway(harness, apiKey, { ...recorded, model: O4_MINI, stream: true });
    expect(result.status).toBe(400);
    expect(result.errorBody?.error).toMatchObject({ type: "invalid_request_error", code: "unsupported_value" });
    expect(sentToOpenAI(upstream.received[sentCount], true)).toEqual(
      expectedUpstreamBody({ ...recorded, stream: true }, "o3-mini", true),
    );
    await harness.container.usageWriter.flush();
    expect(await balanceOf(harness.container.db, userId)).toBe(before);
  });
});
