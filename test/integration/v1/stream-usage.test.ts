import { TEST_ACTOR } from "../../helpers/audit";
import type { ServerResponse } from "node:http";
import { createParser } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel } from "~/server/services/channels";
import { contentChunk, sseChunk, startFaultUpstream, type FaultUpstream } from "../../helpers/fault-upstream";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";

/*
 * A stream carries its usage once, on its last chunk, so a client that adds up every usage it sees counts the call
 * once: with `stream_options.include_usage` every chunk but the trailing `choices: []` one has `usage: null` (OpenAI's
 * contract); without it the finish chunk, the last one, carries it, as OpenRouter sends it. Whatever the upstream
 * does: usage in a trailing chunk (OpenAI), on the finish chunk (DeepSeek, Groq), or not at all; and for a fan-out.
 */

const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

interface Chunk {
  choices: { finish_reason: string | null }[];
  usage?: { prompt_tokens: number; cost: number } | null;
}

const UPSTREAMS = {
  "usage in a trailing chunk": (response: ServerResponse) =>
    response.end(
      contentChunk("Hello") +
        sseChunk([{ index: 0, delta: {}, finish_reason: "stop" }]) +
        sseChunk([], USAGE) +
        "data: [DONE]\n\n",
    ),
  "usage on the finish chunk": (response: ServerResponse) =>
    response.end(
      contentChunk("Hello") + sseChunk([{ index: 0, delta: {}, finish_reason: "stop" }], USAGE) + "data: [DONE]\n\n",
    ),
  "no usage": (response: ServerResponse) =>
    response.end(
      contentChunk("Hello") + sseChunk([{ index: 0, delta: {}, finish_reason: "stop" }]) + "data: [DONE]\n\n",
    ),
  // Azure opens with a chunk that has no choices and no usage (its prompt filter results).
  "a leading chunk without choices": (response: ServerResponse) =>
    response.end(
      `data: ${JSON.stringify({ id: "", object: "", created: 0, model: "", choices: [], prompt_filter_results: [] })}\n\n` +
        contentChunk("Hello") +
        sseChunk([{ index: 0, delta: {}, finish_reason: "stop" }]) +
        sseChunk([], USAGE) +
        "data: [DONE]\n\n",
    ),
  // Two choices (native n), each finish chunk carrying the running usage.
  "usage on each of two finishes": (response: ServerResponse) =>
    response.end(
      sseChunk([
        { index: 0, delta: { role: "assistant", content: "One" }, finish_reason: null },
        { index: 1, delta: { role: "assistant", content: "Two" }, finish_reason: null },
      ]) +
        sseChunk([{ index: 0, delta: {}, finish_reason: "stop" }], USAGE) +
        sseChunk([{ index: 1, delta: {}, finish_reason: "stop" }], USAGE) +
        "data: [DONE]\n\n",
    ),
} as const;
type UpstreamKind = keyof typeof UPSTREAMS;

describe("usage in a stream, once", () => {
  let harness: GatewayHarness;
  let upstream: FaultUpstream;
  let apiKey: string;
  let kind: UpstreamKind = "usage in a trailing chunk";

  beforeAll(async () => {
    harness = await startGatewayHarness();
    upstream = await startFaultUpstream((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      UPSTREAMS[kind](response);
    });
    await addChannel(
      harness.container.db,
      harness.container.secretBox,
      harness.container.changes,
      {
        kind: "openai-compatible",
        name: "usage-upstream",
        baseUrl: upstream.baseUrl,
        models: [{ modelId: "openai/gpt-4.1-nano", upstreamModel: "gpt-4.1-nano" }],
      },
      TEST_ACTOR,
    );
    ({ apiKey } = await harness.createFundedUser("1"));
  });

  afterAll(async () => {
    await harness?.stop();
    await upstream?.close();
  });

  /** The raw chunk objects of a stream, checked against OpenAI's schema, and whether each had a `usage` key. */
  async function stream(body: Record<string, unknown>): Promise<{ chunks: Chunk[]; raw: Record<string, unknown>[] }> {
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], stream: true, ...body }),
    });
    expect(response.status).toBe(200);
    const data: string[] = [];
    createParser({ onEvent: (event) => data.push(event.data) }).feed(await response.text());
    expect(data.at(-1)).toBe("[DONE]");
    const raw = data.slice(0, -1).map((item) => JSON.parse(item) as Record<string, unknown>);
    for (const chunk of raw) assertMatchesOpenAISpec("chunk", chunk);
    return { chunks: raw as unknown as Chunk[], raw };
  }

  const models = [
    ["one upstream call", { model: "openai/gpt-4.1-nano" }],
    ["a fan-out of n = 2", { model: "tollgate/echo", n: 2 }],
  ] as const;

  for (const upstreamKind of Object.keys(UPSTREAMS) as UpstreamKind[]) {
    for (const [name, request] of models) {
      // The demo model answers in-process: one upstream kind is enough for it.
      if (request.model === "tollgate/echo" && upstreamKind !== "usage in a trailing chunk") continue;
      const asked = upstreamKind === "usage on each of two finishes" ? { ...request, n: 2 } : request;

      it(`with include_usage: usage: null on every chunk but the trailing one (${name}, ${upstreamKind})`, async () => {
        kind = upstreamKind;
        const { chunks, raw } = await stream({ ...asked, stream_options: { include_usage: true } });
        const last = chunks.at(-1)!;
        expect(last.choices).toEqual([]);
        expect(last.usage).toMatchObject({
          prompt_tokens: expect.any(Number) as number,
          cost: expect.any(Number) as number,
        });
        for (const chunk of raw.slice(0, -1)) {
          expect(chunk).toHaveProperty("usage", null);
        }
        expect(chunks.filter((chunk) => chunk.usage != null)).toHaveLength(1);
      });

      it(`without include_usage: usage once, on the last chunk (${name}, ${upstreamKind})`, async () => {
        kind = upstreamKind;
        const { chunks } = await stream(asked);
        const withUsage = chunks.filter((chunk) => chunk.usage != null);
        expect(withUsage).toHaveLength(1);
        expect(chunks.at(-1)!.usage).toMatchObject({ cost: expect.any(Number) as number });
        expect(chunks.at(-1)!.choices.some((choice) => choice.finish_reason !== null)).toBe(true);
      });
    }
  }
});
