import { Readable } from "node:stream";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import type { AnswerUsage } from "~/server/gateway/encoders/answer-encoder";
import { anthropicMessageBody, anthropicMessagesStream } from "~/server/gateway/encoders/anthropic-messages-encoder";
import { createAnthropicAdapter } from "~/server/gateway/providers/anthropic";
import type { ProviderAdapter, SseEvent } from "~/server/gateway/providers/types";
import { parseSse } from "~/server/gateway/sse/parse-sse";
import { fixture } from "../../../../helpers/fixtures";

/*
 * The Messages encoder on recorded traffic: an Anthropic stream goes through the Anthropic adapter into the
 * gateway's internal chunks and through the encoder back into Anthropic's events. What comes out, assembled as
 * Anthropic's SDK assembles it, must be what Anthropic sent.
 */

type Body = Record<string, unknown>;

const identity = { id: "gen-1", model: "anthropic/claude-haiku-4.5", created: 1_700_000_000 };
const anthropic = createAnthropicAdapter();

function usageOf(promptTokens: number, completionTokens: number, costNano = 0n): () => AnswerUsage {
  return () => ({
    metered: {
      usage: {
        promptTokens,
        completionTokens,
        cachedTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        upstreamCostNano: null,
      },
      billingStatus: "exact",
      costNano,
    },
    upstream: null,
  });
}

async function sseEvents(sse: string): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const batch of parseSse(Readable.from([new TextEncoder().encode(sse)]))) events.push(...batch);
  return events;
}

/** The encoder's output for a recorded upstream stream, as (event name, payload) pairs. */
async function encode(
  adapter: ProviderAdapter,
  recorded: string,
  usage: () => AnswerUsage,
): Promise<{ event: string; data: Body }[]> {
  const transform = adapter.createStreamTransformer();
  const encoder = anthropicMessagesStream(99).encoder(identity);
  let out = "";
  for (const event of await sseEvents(recorded)) {
    for (const item of transform(event)) {
      if (item.type === "chunk") out += encoder.chunk(item.chunk, false, usage);
    }
  }
  out += encoder.end(usage);
  const events: { event: string; data: Body }[] = [];
  const parser = createParser({
    onEvent: (event) => events.push({ event: event.event ?? "", data: JSON.parse(event.data) as Body }),
  });
  parser.feed(out);
  return events;
}

function assemble(events: { data: Body }[]): Body[] {
  const content: Body[] = [];
  const json = new Map<number, string>();
  for (const { data } of events) {
    const index = data.index as number;
    if (data.type === "content_block_start") content[index] = { ...(data.content_block as Body) };
    if (data.type === "content_block_delta") {
      const delta = data.delta as Body;
      const block = content[index]!;
      if (delta.type === "text_delta") block.text = `${block.text as string}${delta.text as string}`;
      if (delta.type === "thinking_delta") block.thinking = `${block.thinking as string}${delta.thinking as string}`;
      if (delta.type === "signature_delta") block.signature = delta.signature;
      if (delta.type === "input_json_delta") json.set(index, `${json.get(index) ?? ""}${delta.partial_json as string}`);
    }
    // An empty `partial_json` leaves the input the block started with, as Anthropic's SDK does.
    if (data.type === "content_block_stop" && (json.get(index) ?? "") !== "") {
      content[index]!.input = JSON.parse(json.get(index)!);
    }
  }
  return content;
}

describe("Anthropic Messages stream encoder", () => {
  it.each(["text-stream", "thinking-stream", "tool-use-stream", "redacted-thinking-stream", "image-base64-stream"])(
    "gives back what Anthropic streamed in %s",
    async (name) => {
      const recorded = fixture(`anthropic/${name}`).body;
      const sent = await encode(anthropic, recorded, usageOf(46, 12, 106_000n));
      // The recording itself, assembled the same way, is the expectation.
      const expected = assemble((await sseEvents(recorded)).map((event) => ({ data: JSON.parse(event.data) as Body })));
      // Each tool_use block says the model called it (`caller`, as Anthropic now sends it, older recordings lack it).
      expect(assemble(sent)).toEqual(
        expected.map((block) => (block.type === "tool_use" ? { ...block, caller: { type: "direct" } } : block)),
      );
      // Every event is named after its payload's type, as Anthropic frames them; blocks open and close in order.
      for (const event of sent) expect(event.event).toBe(event.data.type);
      const names = sent.map((event) => event.event);
      expect(names[0]).toBe("message_start");
      expect(names.slice(-2)).toEqual(["message_delta", "message_stop"]);
      const starts = names.filter((n) => n === "content_block_start").length;
      expect(names.filter((n) => n === "content_block_stop")).toHaveLength(starts);
      expect(sent.at(-2)?.data).toMatchObject({
        delta: { stop_reason: expect.any(String) as unknown, stop_sequence: null },
        usage: { input_tokens: 46, output_tokens: 12, cost: 0.000106 },
      });
    },
  );

  it("opens with the prompt's tokens the upstream reported, or the gateway's count when it reported none", async () => {
    const recorded = fixture("anthropic/text-stream").body;
    const fromAnthropic = await encode(anthropic, recorded, usageOf(21, 0));
    expect(((fromAnthropic[0]!.data.message as Body).usage as Body).input_tokens).toBe(21);
    const counted = await encode(anthropic, recorded, usageOf(0, 0));
    expect(((counted[0]!.data.message as Body).usage as Body).input_tokens).toBe(99);
  });

  it("ends a failed stream with Anthropic's error event, after closing the open block", () => {
    const encoder = anthropicMessagesStream(10).encoder(identity);
    const usage = usageOf(10, 0);
    const begun = encoder.chunk(
      {
        id: identity.id,
        object: "chat.completion.chunk",
        created: identity.created,
        model: identity.model,
        choices: [{ index: 0, delta: { role: "assistant", content: "Hel" }, finish_reason: null }],
      },
      false,
      usage,
    );
    expect(begun).toContain("event: message_start");
    expect(begun).toContain('"type":"text_delta","text":"Hel"');
    const failed = encoder.fail(
      { status: 503, type: "upstream_error", code: null, message: "Overloaded", param: null },
      usage,
    );
    expect(failed).toBe(
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
    );
  });
});

describe("Anthropic Messages body encoder", () => {
  it.each(["text", "parallel-tool-use", "thinking-tool-use", "prompt-cache-read-and-write"])(
    "gives back the content and stop reason Anthropic answered in %s",
    (name) => {
      const recorded = JSON.parse(fixture(`anthropic/${name}`).body) as Body;
      const completion = anthropic.parseResponse(recorded);
      const body = anthropicMessageBody(identity, completion, usageOf(30, 5, 55_000n)()) as Body;
      expect(body).toMatchObject({
        id: "gen-1",
        type: "message",
        role: "assistant",
        model: identity.model,
        content: recorded.content,
        stop_reason: recorded.stop_reason,
        stop_sequence: null,
        usage: { input_tokens: 30, output_tokens: 5, cost: 0.000055 },
      });
    },
  );
});
