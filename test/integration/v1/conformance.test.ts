import { TEST_ACTOR } from "../../helpers/audit";
import { createParser } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel } from "~/server/services/channels";
import { fixture, fixtureManifest } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";

/*
 * Conformance over real traffic: every recorded OpenAI (and OpenAI-compatible) request is sent to the gateway as a
 * client would send it, the upstream answers with the response recorded for it, and everything the gateway returns
 * must validate against OpenAI's published schema. The same requests also go to the built-in demo model, so both
 * paths are held to the spec over plain text, tools, parallel tools, json_object/json_schema, image parts, n=3, stop,
 * logprobs and include_usage on and off.
 */

let harness: GatewayHarness;
let upstream: ReplayUpstream;
let apiKey: string;

beforeAll(async () => {
  harness = await startGatewayHarness();
  upstream = await startReplayUpstream();
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "openai-compatible",
      name: "replay",
      baseUrl: upstream.baseUrl,
      apiKey: "sk-upstream-secret",
      models: [{ modelId: "openai/gpt-4o", upstreamModel: "gpt-4o" }],
    },
    TEST_ACTOR,
  );
  ({ apiKey } = await harness.createFundedUser("50"));
});

afterAll(async () => {
  await upstream?.close();
  await harness?.stop();
});

type Body = Record<string, unknown>;

/** Sends a request and validates every answer the gateway gives: the whole completion, or each SSE event. */
async function callAndValidate(body: Body): Promise<{ chunks: Body[]; completion: Body | null; raw: string }> {
  const response = await fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const raw = await response.text();
  expect(response.status, raw.slice(0, 500)).toBe(200);
  if (body.stream !== true) {
    const completion = JSON.parse(raw) as Body;
    assertMatchesOpenAISpec("response", completion);
    return { chunks: [], completion, raw };
  }
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
  const data: string[] = [];
  const parser = createParser({ onEvent: (event) => data.push(event.data) });
  parser.feed(raw);
  expect(data.at(-1)).toBe("[DONE]");
  const chunks = data.slice(0, -1).map((text) => JSON.parse(text) as Body);
  for (const chunk of chunks) {
    if (chunk.error === undefined) {
      assertMatchesOpenAISpec("chunk", chunk);
      continue;
    }
    // The one deliberate departure from OpenAI's schema: a stream that fails after its first byte ends with a chunk
    // whose finish_reason is "error" (OpenRouter's convention), which OpenAI's enum does not list.
    assertMatchesOpenAISpec("chunk", { ...chunk, choices: [], error: undefined });
    expect(chunk.choices).toEqual([expect.objectContaining({ finish_reason: "error" })]);
    expect(chunk.error).toMatchObject({ message: expect.any(String) as unknown, type: expect.any(String) as unknown });
  }
  return { chunks, completion: null, raw };
}

function expectUsageChunkRule(chunks: Body[], includeUsage: boolean): void {
  // A stream that failed (OpenRouter's recording ends with an in-band error) ends with the error chunk instead.
  if (chunks.at(-1)?.error !== undefined) return;
  const usageOnly = chunks.filter((chunk) => (chunk.choices as unknown[]).length === 0);
  expect(usageOnly).toHaveLength(includeUsage ? 1 : 0);
  if (includeUsage) expect(chunks.at(-1)).toBe(usageOnly[0]);
  // The usage and its cost go out once, on the last chunk: the usage chunk, or without one the last finish.
  const last = chunks.at(-1);
  if (!includeUsage) {
    expect((last?.choices as { finish_reason: string | null }[]).some((choice) => choice.finish_reason !== null)).toBe(
      true,
    );
  }
  expect((last?.usage as { cost?: number } | undefined)?.cost).toEqual(expect.any(Number));
  // Every other chunk has none: `usage: null` with include_usage (OpenAI's contract), absent without.
  for (const chunk of chunks.slice(0, -1)) {
    if (includeUsage) expect(chunk).toHaveProperty("usage", null);
    else expect(chunk.usage).toBeUndefined();
  }
}

const recorded = fixtureManifest().filter(
  (entry) =>
    (entry.provider === "openai" || entry.provider === "openai-compatible") &&
    entry.status === 200 &&
    entry.request !== null,
);

describe("recorded OpenAI traffic through an OpenAI-compatible channel", () => {
  const cases = recorded.flatMap((entry): { id: string; includeUsage: boolean | null }[] => {
    const id = `${entry.provider}/${entry.name}`;
    return entry.kind === "json"
      ? [{ id, includeUsage: null }]
      : [
          { id, includeUsage: true },
          { id, includeUsage: false },
        ];
  });

  it.each(cases)("$id (include_usage: $includeUsage)", async ({ id, includeUsage }) => {
    const { requestBody } = fixture(id);
    const sent: Body = { ...(requestBody as Body), model: "openai/gpt-4o" };
    if (includeUsage !== null) {
      sent.stream = true;
      sent.stream_options = { include_usage: includeUsage };
    }
    upstream.respondWith(() => id);
    const before = upstream.received.length;
    const { chunks } = await callAndValidate(sent);
    if (includeUsage !== null) expectUsageChunkRule(chunks, includeUsage);

    // What the upstream got is what the client sent, addressed to the upstream's model name.
    // A non-streamed call is sent without `stream` at all, which means the same as `stream: false`.
    const { model: _model, stream_options: _options, stream: _stream, ...rest } = sent;
    expect(upstream.received[before]?.body).toMatchObject({ ...rest, model: "gpt-4o" });
  });
});

describe("the same requests to the demo model", () => {
  const cases = recorded.flatMap((entry) => [
    { id: `${entry.provider}/${entry.name}`, stream: false, includeUsage: false },
    { id: `${entry.provider}/${entry.name}`, stream: true, includeUsage: true },
    { id: `${entry.provider}/${entry.name}`, stream: true, includeUsage: false },
  ]);

  it.each(cases)("$id (stream: $stream, include_usage: $includeUsage)", async ({ id, stream, includeUsage }) => {
    const { requestBody } = fixture(id);
    const sent: Body = { ...(requestBody as Body), model: "tollgate/echo", stream };
    if (stream) sent.stream_options = { include_usage: includeUsage };
    else delete sent.stream_options;
    const { chunks, completion } = await callAndValidate(sent);
    if (stream) expectUsageChunkRule(chunks, includeUsage);
    else expect((completion?.usage as { cost: number }).cost).toBeGreaterThan(0);
  });
});

/** Request shapes the recordings do not cover, each answered by both paths. */
const question = [{ role: "user", content: "Answer in JSON: what is the capital of Mexico?" }];
const extraShapes: Record<string, Body> = {
  json_object: { messages: question, response_format: { type: "json_object" } },
  "stop sequences": { messages: question, stop: ["\n\n", "END"], max_tokens: 50 },
  "n=3": { messages: question, n: 3, temperature: 1 },
  "logprobs with top_logprobs": { messages: question, logprobs: true, top_logprobs: 2 },
  "image part (data URL)": {
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "What is in this image?" },
          {
            type: "image_url",
            image_url: {
              url: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
              detail: "low",
            },
          },
        ],
      },
    ],
  },
};

describe("request shapes beyond the recordings", () => {
  const cases = Object.keys(extraShapes).flatMap((shape) =>
    [true, false].flatMap((stream) => [
      { shape, model: "tollgate/echo", stream },
      { shape, model: "openai/gpt-4o", stream },
    ]),
  );

  it.each(cases)("$shape to $model (stream: $stream)", async ({ shape, model, stream }) => {
    // The replay upstream answers these with plain recorded text; the demo model answers them itself.
    upstream.respondWith(() => (stream ? "openai/text-stream-include-usage" : "openai/text"));
    const sent: Body = { ...extraShapes[shape], model, stream };
    if (stream) sent.stream_options = { include_usage: true };
    const { chunks, completion } = await callAndValidate(sent);
    if (stream) expectUsageChunkRule(chunks, true);
    else expect((completion?.usage as { cost: number }).cost).toBeGreaterThan(0);
    if (shape === "n=3" && model === "tollgate/echo") {
      const indexes = stream
        ? new Set(chunks.flatMap((chunk) => (chunk.choices as { index: number }[]).map((choice) => choice.index)))
        : new Set((completion?.choices as { index: number }[]).map((choice) => choice.index));
      expect([...indexes].sort()).toEqual([0, 1, 2]);
    }
  });
});
