import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk } from "~/server/gateway/protocol/chat-completion-response";
import { createGeminiAdapter } from "~/server/gateway/providers/gemini";
import type { StreamItem } from "~/server/gateway/providers/types";
import { parseSse } from "~/server/gateway/sse/parse-sse";
import { fixture } from "../../../../../helpers/fixtures";

const adapter = createGeminiAdapter();

/** The SSE body through the gateway's own parser, cut into pieces at arbitrary offsets as a network would. */
async function transformBody(body: string): Promise<StreamItem[]> {
  const bytes = new TextEncoder().encode(body);
  const cuts = [0, Math.floor(bytes.length / 3) + 1, Math.floor((2 * bytes.length) / 3) + 7, bytes.length];
  const pieces = cuts.slice(1).map((end, index) => bytes.subarray(cuts[index], end));
  const transform = adapter.createStreamTransformer();
  const items: StreamItem[] = [];
  for await (const events of parseSse(Readable.from(pieces) as AsyncIterable<Uint8Array>))
    for (const event of events) items.push(...transform(event));
  return items;
}

function chunksOf(items: StreamItem[]): ChatCompletionChunk[] {
  expect(items.every((item) => item.type === "chunk")).toBe(true);
  return items.flatMap((item) => (item.type === "chunk" ? [item.chunk] : []));
}

function text(chunks: ChatCompletionChunk[], field: "content" | "reasoning"): string {
  return chunks.map((chunk) => (chunk.choices[0]?.delta[field] as string | undefined) ?? "").join("");
}

/** Gemini's events as the API sends them: `data: <json>` separated by CRLF blank lines. */
function sse(...events: unknown[]): string {
  return events.map((event) => `data: ${JSON.stringify(event)}\r\n\r\n`).join("");
}

describe("the Gemini stream transformer over recorded streams", () => {
  it("text-stream: CRLF events become content deltas, then the finish, then one usage chunk from the last totals", async () => {
    const chunks = chunksOf(await transformBody(fixture("gemini/text-stream").body));
    expect(text(chunks, "content")).toBe(Array.from({ length: 30 }, (_, index) => index + 1).join("\n"));
    const finishing = chunks.filter((chunk) => chunk.choices.some((choice) => choice.finish_reason !== null));
    expect(finishing).toHaveLength(1);
    expect(finishing[0]?.choices[0]).toMatchObject({ finish_reason: "stop", native_finish_reason: "STOP", delta: {} });
    // Every chunk carries the running totals (what a broken-off stream is billed for)...
    expect(chunks.map((chunk) => chunk.usage?.completion_tokens)).toEqual([
      31 + 35,
      79 + 35,
      80 + 35,
      80 + 35,
      80 + 35,
    ]);
    // ...and one usage-only chunk follows the finish, with the last (cumulative) totals: 80 candidates + 35 thoughts.
    expect(chunks.filter((chunk) => chunk.choices.length === 0)).toHaveLength(1);
    expect(chunks.at(-1)).toMatchObject({ choices: [] });
    expect(chunks.at(-1)?.usage).toEqual({
      prompt_tokens: 18,
      completion_tokens: 115,
      total_tokens: 133,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 35 },
    });
    expect(adapter.parseUsage(chunks.at(-1)?.usage)).toEqual({
      promptTokens: 18,
      completionTokens: 115,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 35,
    });
    expect(new Set(chunks.map((chunk) => chunk.id))).toEqual(new Set(["ru1garvBEoOiqtsP2fznmQw"]));
  });

  it("thinking-stream: thought parts become reasoning, the answer content, its signature a reasoning detail", async () => {
    const chunks = chunksOf(await transformBody(fixture("gemini/thinking-stream").body));
    const reasoning = text(chunks, "reasoning");
    expect(reasoning).toMatch(/^\*\*Clarifying User Goals\*\*/);
    expect(reasoning).toContain("**Crafting Safe Instructions**");
    const content = text(chunks, "content");
    expect(content).toMatch(/^This is a great question! Safely crossing the street/);
    expect(content).toMatch(/Always assume a driver might not see you\.$/);
    expect(content).not.toContain("Clarifying User Goals");
    // Reasoning comes strictly before the answer.
    const firstContent = chunks.findIndex((chunk) => chunk.choices[0]?.delta.content !== undefined);
    const lastReasoning = chunks.findLastIndex((chunk) => chunk.choices[0]?.delta.reasoning !== undefined);
    expect(lastReasoning).toBeLessThan(firstContent);

    const details = chunks.flatMap(
      (chunk) => (chunk.choices[0]?.delta.reasoning_details as unknown[] | undefined) ?? [],
    );
    expect(details).toEqual([
      {
        type: "reasoning.encrypted",
        data: expect.stringMatching(/^CiIB0e2Kb6Syj1a961EfbWv4W5C8RgAA/) as unknown,
        format: "google-gemini-v1",
        index: 0,
      },
    ]);
    expect(chunks.at(-1)?.usage).toMatchObject({
      prompt_tokens: 34,
      completion_tokens: 469 + 787,
      completion_tokens_details: { reasoning_tokens: 787 },
    });
  });

  it("function-call-stream: a whole call in one event, finish_reason tool_calls, Gemini's STOP kept as native", async () => {
    const chunks = chunksOf(await transformBody(fixture("gemini/function-call-stream").body));
    expect(chunks[0]?.choices[0]?.delta.tool_calls).toEqual([
      {
        index: 0,
        id: "call_1lpeaMTxIpW1nvgP-O3vwQY_0",
        type: "function",
        function: { name: "get_capital", arguments: '{"country":"France"}' },
      },
    ]);
    expect(chunks[1]?.choices[0]).toMatchObject({ finish_reason: "tool_calls", native_finish_reason: "STOP" });
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 52, completion_tokens: 5 });
  });

  it("function-call-thought-signature-stream: empty args become {} and the signature rides on the tool call", async () => {
    const recorded = fixture("gemini/function-call-thought-signature-stream").body;
    const signature = /"thoughtSignature": "([^"]+)"/.exec(recorded)?.[1];
    expect(signature).toBeDefined();
    const chunks = chunksOf(await transformBody(recorded));
    const delta = chunks[0]?.choices[0]?.delta;
    expect(delta?.tool_calls).toEqual([
      {
        index: 0,
        id: "call_QUVVadTSNJ6_qtsPvN7J8Q0_0",
        type: "function",
        function: { name: "get_country", arguments: "{}" },
        extra_content: { google: { thought_signature: signature } },
      },
    ]);
    expect(delta?.reasoning_details).toEqual([
      {
        type: "reasoning.encrypted",
        data: signature,
        format: "google-gemini-v1",
        index: 0,
        id: "call_QUVVadTSNJ6_qtsPvN7J8Q0_0",
      },
    ]);
    // The empty text part of the closing event adds no delta.
    expect(text(chunks, "content")).toBe("");
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 29, completion_tokens: 212 });
  });

  it("function-call-thought-signature-followup-stream: bills the last event, whose prompt count grew", async () => {
    const chunks = chunksOf(
      await transformBody(fixture("gemini/function-call-thought-signature-followup-stream").body),
    );
    expect(text(chunks, "content")).toBe("The capital of Mexico is Mexico City.");
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 257, completion_tokens: 8, total_tokens: 265 });
  });
});

describe("the Gemini stream transformer on shapes no recording has", () => {
  const usage = { promptTokenCount: 10, candidatesTokenCount: 4, totalTokenCount: 14 };

  it("a prompt blocked before any candidate: one content_filter finish, then the usage", async () => {
    const chunks = chunksOf(
      await transformBody(
        sse({
          promptFeedback: { blockReason: "PROHIBITED_CONTENT" },
          usageMetadata: { promptTokenCount: 10, totalTokenCount: 10 },
          responseId: "r1",
        }),
      ),
    );
    expect(chunks.map((chunk) => chunk.choices)).toEqual([
      [{ index: 0, delta: {}, finish_reason: "content_filter", native_finish_reason: "PROHIBITED_CONTENT" }],
      [],
    ]);
    expect(chunks[1]?.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 0 });
  });

  it("an error event after some text ends the stream with the upstream's error", async () => {
    const items = await transformBody(
      sse(
        {
          candidates: [{ content: { parts: [{ text: "Hel" }], role: "model" }, index: 0 }],
          usageMetadata: usage,
          responseId: "r2",
        },
        { error: { code: 503, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE" } },
      ),
    );
    expect(items[0]).toMatchObject({ type: "chunk" });
    expect(items[1]).toEqual({
      type: "error",
      error: {
        status: 502,
        type: "upstream_error",
        code: "upstream_error",
        message: "The upstream provider failed mid-stream.",
        param: null,
      },
    });
  });

  it("a rate-limit error event keeps its status and message", () => {
    const transform = adapter.createStreamTransformer();
    const [item] = transform({
      data: JSON.stringify({
        error: { code: 429, message: "Resource has been exhausted.", status: "RESOURCE_EXHAUSTED" },
      }),
    });
    expect(item).toMatchObject({
      type: "error",
      error: { status: 429, type: "rate_limit_error", code: "resource_exhausted" },
    });
  });

  it("an event that is not JSON or not Gemini's shape is an error, not a crash", () => {
    expect(adapter.createStreamTransformer()({ data: "{not json" })[0]).toMatchObject({ type: "error" });
    expect(adapter.createStreamTransformer()({ data: '{"candidates": "nope"}' })[0]).toMatchObject({ type: "error" });
  });

  it("text and a function call in one event, then parallel calls: indexes count per choice, ids per response", async () => {
    const chunks = chunksOf(
      await transformBody(
        sse(
          {
            candidates: [
              {
                content: {
                  parts: [{ text: "Let me check." }, { functionCall: { name: "lookup", args: { q: "a" } } }],
                  role: "model",
                },
                index: 0,
              },
            ],
            responseId: "r3",
          },
          {
            candidates: [
              {
                content: { parts: [{ functionCall: { name: "lookup", args: { q: "b" } } }], role: "model" },
                finishReason: "STOP",
                index: 0,
              },
            ],
            usageMetadata: usage,
            responseId: "r3",
          },
        ),
      ),
    );
    expect(chunks[0]?.choices[0]?.delta).toEqual({
      content: "Let me check.",
      tool_calls: [
        { index: 0, id: "call_r3_0", type: "function", function: { name: "lookup", arguments: '{"q":"a"}' } },
      ],
    });
    expect(chunks[1]?.choices[0]?.delta).toEqual({
      tool_calls: [
        { index: 1, id: "call_r3_1", type: "function", function: { name: "lookup", arguments: '{"q":"b"}' } },
      ],
    });
    expect(chunks[2]?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(chunks[3]?.choices).toEqual([]);
  });

  it("several candidates map to choice indexes; usage follows only once every candidate has finished", async () => {
    const chunks = chunksOf(
      await transformBody(
        sse(
          {
            candidates: [
              { content: { parts: [{ text: "A" }], role: "model" }, index: 0 },
              { content: { parts: [{ text: "B" }], role: "model" }, finishReason: "MAX_TOKENS", index: 1 },
            ],
            usageMetadata: usage,
          },
          {
            candidates: [{ content: { parts: [{ text: "!" }], role: "model" }, finishReason: "SAFETY", index: 0 }],
            usageMetadata: usage,
          },
        ),
      ),
    );
    const summary = chunks.map((chunk) =>
      chunk.choices.map((choice) => [choice.index, choice.delta.content ?? null, choice.finish_reason]),
    );
    expect(summary).toEqual([
      [[0, "A", null]],
      [[1, "B", null]],
      [[1, null, "length"]],
      [[0, "!", null]],
      [[0, null, "content_filter"]],
      [],
    ]);
    expect(chunks.filter((chunk) => chunk.choices.length === 0)).toHaveLength(1);
  });
});
