import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createAnthropicAdapter } from "~/server/gateway/providers/anthropic";
import type { SseEvent, StreamItem } from "~/server/gateway/providers/types";
import { parseSse } from "~/server/gateway/sse/parse-sse";
import { fixture, fixtureManifest } from "../../../../../helpers/fixtures";
import { accumulateChunks } from "./accumulate-chunks";

type Body = Record<string, unknown>;

const adapter = createAnthropicAdapter();

async function eventsOf(sse: string): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  // Small pieces, so that events are split across reads as they are on the wire.
  const bytes = new TextEncoder().encode(sse);
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += 97) pieces.push(bytes.subarray(offset, offset + 97));
  for await (const batch of parseSse(Readable.from(pieces))) events.push(...batch);
  return events;
}

async function translate(sse: string): Promise<StreamItem[]> {
  const transform = adapter.createStreamTransformer();
  return (await eventsOf(sse)).flatMap((event) => transform(event));
}

function chunksOf(items: StreamItem[]): Body[] {
  return items.flatMap((item) => (item.type === "chunk" ? [item.chunk as Body] : []));
}

/** The payloads of a recorded stream, for reading expected values out of the recording itself. */
async function recordedPayloads(name: string): Promise<Body[]> {
  return (await eventsOf(fixture(`anthropic/${name}`).body)).map((event) => JSON.parse(event.data) as Body);
}

function usage(prompt: number, completion: number, cached = 0, written = 0) {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached, cache_write_tokens: written },
  };
}

const SUCCESSFUL_STREAMS = fixtureManifest()
  .filter((entry) => entry.provider === "anthropic" && entry.kind === "sse" && entry.name !== "stream-error-overloaded")
  .map((entry) => entry.name);

describe("every recorded Anthropic stream", () => {
  it("is covered here", () => {
    expect([...SUCCESSFUL_STREAMS].sort()).toEqual([
      "image-base64-stream",
      "json-output-format-stream",
      "prompt-cache-read-max-tokens-stream",
      "prompt-cache-write-max-tokens-stream",
      "redacted-thinking-stream",
      "stop-sequence-prefill-stream",
      "text-stream",
      "thinking-stream",
      "tool-use-stream",
    ]);
  });

  it.each(SUCCESSFUL_STREAMS)("%s becomes well-formed OpenAI chunks ending in finish, usage, done", async (name) => {
    const items = await translate(fixture(`anthropic/${name}`).body);
    expect(items.at(-1)).toEqual({ type: "done" });
    expect(items.filter((item) => item.type === "error")).toEqual([]);
    const chunks = chunksOf(items);
    const start = (await recordedPayloads(name))[0]!.message as Body;
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "chat.completion.chunk", id: start.id, model: start.model });
    }
    // The role first (with the usage known so far), the finish, then the final usage alone.
    expect(chunks[0]?.choices).toEqual([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]);
    expect(chunks[0]?.usage).toEqual(expect.objectContaining({ prompt_tokens: expect.any(Number) as unknown }));
    const finishing = chunks.filter((chunk) =>
      (chunk.choices as Body[]).some((choice) => choice.finish_reason !== null),
    );
    expect(finishing).toHaveLength(1);
    expect(chunks.at(-2)).toBe(finishing[0]);
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.slice(1, -1).every((chunk) => chunk.usage === undefined)).toBe(true);
    expect(chunks).toMatchSnapshot();
  });

  it.each([
    ["text-stream", { content: "Hello", finish: "stop", native: "end_turn", usage: usage(10, 4) }],
    [
      "image-base64-stream",
      { content: "Red square, green square.", finish: "stop", native: "end_turn", usage: usage(83, 9) },
    ],
    [
      "stop-sequence-prefill-stream",
      {
        content:
          '\ndef pelican():\n    return "A large waterbird with a long bill and a throat pouch for catching fish."\n',
        finish: "stop",
        native: "stop_sequence",
        usage: usage(16, 28),
      },
    ],
    [
      "prompt-cache-write-max-tokens-stream",
      { content: "OK", finish: "length", native: "max_tokens", usage: usage(3 + 18639, 1, 0, 18639) },
    ],
    [
      "prompt-cache-read-max-tokens-stream",
      { content: "OK", finish: "length", native: "max_tokens", usage: usage(3 + 18639, 1, 18639, 0) },
    ],
  ])("%s: text, finish reason and final usage", async (name, expected) => {
    const result = accumulateChunks(chunksOf(await translate(fixture(`anthropic/${name}`).body)));
    expect(result.role).toBe("assistant");
    expect(result.content).toBe(expected.content);
    expect(result.finishReasons).toEqual([expected.finish]);
    expect(result.nativeFinishReason).toBe(expected.native);
    expect(result.usage).toEqual(expected.usage);
    expect(result.toolCalls).toEqual([]);
    expect(result.reasoning).toBe("");
  });

  it("json-output-format-stream: the structured output arrives as content", async () => {
    const result = accumulateChunks(chunksOf(await translate(fixture("anthropic/json-output-format-stream").body)));
    expect(JSON.parse(result.content)).toMatchObject({ name: "Biscuit", age: 4 });
    expect(result.usage).toEqual(usage(230, 94));
  });

  it("tool-use-stream: an argument-less call gets id and name once, and `{}` as arguments", async () => {
    const items = await translate(fixture("anthropic/tool-use-stream").body);
    const result = accumulateChunks(chunksOf(items));
    expect(result.toolCalls).toEqual([
      { id: "toolu_01CzN6riCPqw4pVSuTd9Dwn7", name: "pelican_name_generator", arguments: "{}", namedTimes: 1 },
    ]);
    expect(result.content).toBe("");
    expect(result.finishReasons).toEqual(["tool_calls"]);
    expect(result.nativeFinishReason).toBe("tool_use");
    expect(result.usage).toEqual(usage(543, 40));
  });

  it("thinking-stream: thinking as reasoning, with the signature in reasoning_details, then the answer", async () => {
    const payloads = await recordedPayloads("thinking-stream");
    const deltas = payloads.filter((payload) => payload.type === "content_block_delta").map((p) => p.delta as Body);
    const thinking = deltas
      .flatMap((delta) => (delta.type === "thinking_delta" ? [delta.thinking as string] : []))
      .join("");
    const signature = deltas.find((delta) => delta.type === "signature_delta")?.signature;
    expect(thinking.startsWith("The user wants two names")).toBe(true);
    expect(typeof signature).toBe("string");

    const result = accumulateChunks(chunksOf(await translate(fixture("anthropic/thinking-stream").body)));
    expect(result.reasoning).toBe(thinking);
    expect(result.reasoningDetails).toEqual([
      { type: "reasoning.text", text: thinking, signature, format: "anthropic-claude-v1", index: 0 },
    ]);
    expect(result.content).toBe(
      '1. **Pouch** - references their iconic bill pouch\n2. **Pelé** - playful take on "pelican"',
    );
    expect(result.finishReasons).toEqual(["stop"]);
    expect(result.usage).toEqual(usage(46, 133));
  });

  it("redacted-thinking-stream: redacted thinking as encrypted reasoning_details, no reasoning text", async () => {
    const starts = (await recordedPayloads("redacted-thinking-stream"))
      .filter((payload) => payload.type === "content_block_start")
      .map((payload) => payload.content_block as Body)
      .filter((block) => block.type === "redacted_thinking");
    expect(starts).toHaveLength(2);
    const result = accumulateChunks(chunksOf(await translate(fixture("anthropic/redacted-thinking-stream").body)));
    expect(result.reasoning).toBe("");
    expect(result.reasoningDetails).toEqual(
      starts.map((block, index) => ({
        type: "reasoning.encrypted",
        data: block.data,
        format: "anthropic-claude-v1",
        index,
      })),
    );
    expect(result.content.startsWith("I notice that you've sent what appears to be some kind of test string")).toBe(
      true,
    );
    expect(result.usage).toEqual(usage(92, 189));
  });
});

/** An Anthropic SSE body, framed as Anthropic frames it (`event:` named after the payload's type). */
function sse(payloads: Body[]): string {
  return payloads.map((payload) => `event: ${payload.type as string}\ndata: ${JSON.stringify(payload)}\n\n`).join("");
}

describe("streams the recordings do not cover", () => {
  it("an overloaded_error event after text becomes a retryable 503 error, after the text already sent", async () => {
    // The fixtures README's recipe: a prefix of text-stream (no message_delta/message_stop), then the error event.
    const events = await eventsOf(fixture("anthropic/text-stream").body);
    const prefix = events.filter((event) => event.event !== "message_delta" && event.event !== "message_stop");
    const error = await eventsOf(fixture("anthropic/stream-error-overloaded").body);
    const transform = adapter.createStreamTransformer();
    const items = [...prefix, ...error].flatMap((event) => transform(event));
    expect(accumulateChunks(chunksOf(items)).content).toBe("Hello");
    expect(items.at(-1)).toEqual({
      type: "error",
      error: {
        status: 503,
        type: "service_unavailable",
        code: "upstream_overloaded",
        message: "The upstream provider is overloaded. Please retry.",
        param: null,
      },
    });
    expect(items.some((item) => item.type === "done")).toBe(false);
  });

  it("two parallel tool calls whose blocks interleave keep their own index, id, name and arguments", async () => {
    const start = (await recordedPayloads("tool-use-stream"))[0]!;
    const tool = (index: number, id: string, name: string) => ({
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id, name, input: {} },
    });
    const json = (index: number, partial: string) => ({
      type: "content_block_delta",
      index,
      delta: { type: "input_json_delta", partial_json: partial },
    });
    const body = sse([
      start,
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Looking up both." } },
      { type: "content_block_stop", index: 0 },
      tool(1, "toolu_paris", "weather"),
      tool(2, "toolu_rome", "weather"),
      json(1, '{"city": '),
      json(2, '{"city": "Ro'),
      json(1, '"Paris"}'),
      json(2, 'me"}'),
      { type: "content_block_stop", index: 2 },
      { type: "content_block_stop", index: 1 },
      { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 61 } },
      { type: "message_stop" },
    ]);
    const chunks = chunksOf(await translate(body));
    const result = accumulateChunks(chunks);
    expect(result.content).toBe("Looking up both.");
    expect(result.toolCalls).toEqual([
      { id: "toolu_paris", name: "weather", arguments: '{"city": "Paris"}', namedTimes: 1 },
      { id: "toolu_rome", name: "weather", arguments: '{"city": "Rome"}', namedTimes: 1 },
    ]);
    // The first delta of each call carries its id, type and name; later ones only arguments.
    const calls = chunks.flatMap((chunk) =>
      (chunk.choices as Body[]).flatMap((choice) => ((choice.delta as Body).tool_calls as Body[] | undefined) ?? []),
    );
    expect(calls[0]).toEqual({
      index: 0,
      id: "toolu_paris",
      type: "function",
      function: { name: "weather", arguments: "" },
    });
    expect(calls[1]).toEqual({
      index: 1,
      id: "toolu_rome",
      type: "function",
      function: { name: "weather", arguments: "" },
    });
    expect(calls.slice(2).every((call) => call.id === undefined && (call.function as Body).name === undefined)).toBe(
      true,
    );
    expect(result.finishReasons).toEqual(["tool_calls"]);
    // message_start's input count stays; message_delta's output count replaces message_start's.
    expect(result.usage).toEqual(usage(543, 61));
  });

  it("a refusal ends with content_filter", async () => {
    const start = (await recordedPayloads("text-stream"))[0]!;
    const body = sse([
      start,
      { type: "message_delta", delta: { stop_reason: "refusal", stop_sequence: null }, usage: { output_tokens: 2 } },
      { type: "message_stop" },
    ]);
    const result = accumulateChunks(chunksOf(await translate(body)));
    expect(result.finishReasons).toEqual(["content_filter"]);
    expect(result.nativeFinishReason).toBe("refusal");
  });

  it("a json_object answer given through the JSON tool streams as content and finishes with stop", async () => {
    const start = (await recordedPayloads("tool-use-stream"))[0]!;
    const body = sse([
      start,
      {
        type: "content_block_start",
        index: 0,
        content_block: { type: "tool_use", id: "toolu_json", name: "tollgate_json_response", input: {} },
      },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"ok":' } },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: " true}" } },
      { type: "content_block_stop", index: 0 },
      { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 9 } },
      { type: "message_stop" },
    ]);
    const result = accumulateChunks(chunksOf(await translate(body)));
    expect(result.content).toBe('{"ok": true}');
    expect(result.toolCalls).toEqual([]);
    expect(result.finishReasons).toEqual(["stop"]);
  });

  it("an unparseable event ends the stream with an error", () => {
    const items = adapter.createStreamTransformer()({ event: "message_start", data: "{not json" });
    expect(items).toEqual([expect.objectContaining({ type: "error" })]);
  });
});
