import { describe, expect, it } from "vitest";
import type { AnswerUsage } from "~/server/gateway/encoders/answer-encoder";
import { chatCompletionBody, chatCompletionStream } from "~/server/gateway/encoders/chat-completion-encoder";
import type { ChatCompletionChunk } from "~/server/gateway/protocol/chat-completion-response";

const identity = { id: "gen-1", model: "openai/gpt-4.1", created: 1_700_000_000 };

const usage = (): AnswerUsage => ({
  metered: {
    usage: {
      promptTokens: 12,
      completionTokens: 3,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      upstreamCostNano: null,
    },
    billingStatus: "exact",
    costNano: 4_200n,
  },
  upstream: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, service_tier: "default" },
});

function chunk(choices: ChatCompletionChunk["choices"], extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk {
  return {
    id: identity.id,
    object: "chat.completion.chunk",
    created: identity.created,
    model: identity.model,
    choices,
    ...extra,
  };
}

const text = (index: number, content: string) => ({ index, delta: { content }, finish_reason: null });
const finish = (index: number) => ({ index, delta: {}, finish_reason: "stop", native_finish_reason: "stop" });

/** The JSON of each `data:` event, `[DONE]` as the string. */
function dataEvents(bytes: string): unknown[] {
  return bytes
    .split("\n\n")
    .filter((event) => event !== "")
    .map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      const data = event.slice("data: ".length);
      return data === "[DONE]" ? data : (JSON.parse(data) as unknown);
    });
}

const renderedUsage = {
  prompt_tokens: 12,
  completion_tokens: 3,
  total_tokens: 15,
  service_tier: "default",
  prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0 },
  cost: 0.0000042,
};

describe("chat completion stream encoder", () => {
  it("holds the last finish back and sends it with the usage, then [DONE], in one piece", () => {
    const encoder = chatCompletionStream({ usageChunk: false }).encoder(identity);
    const first = encoder.chunk(
      chunk([{ index: 0, delta: { role: "assistant", content: "Hi" }, finish_reason: null }]),
      false,
      usage,
    );
    expect(dataEvents(first)).toEqual([
      chunk([{ index: 0, delta: { role: "assistant", content: "Hi" }, finish_reason: null }]),
    ]);
    expect(
      encoder.chunk(
        chunk([finish(0)], { usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }),
        true,
        usage,
      ),
    ).toBe("");
    expect(dataEvents(encoder.end(usage))).toEqual([chunk([finish(0)], { usage: renderedUsage }), "[DONE]"]);
  });

  it("with include_usage: every chunk says usage null, and the upstream's own usage chunk goes last, priced", () => {
    const encoder = chatCompletionStream({ usageChunk: true }).encoder(identity);
    const sent = [
      encoder.chunk(chunk([text(0, "Hi")]), false, usage),
      encoder.chunk(chunk([finish(0)]), true, usage),
      // OpenAI's trailing usage chunk, with a field the gateway does not model.
      encoder.chunk(
        chunk([], { system_fingerprint: "fp_1", usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } }),
        false,
        usage,
      ),
      encoder.end(usage),
    ].join("");
    expect(dataEvents(sent)).toEqual([
      chunk([text(0, "Hi")], { usage: null }),
      chunk([finish(0)], { usage: null }),
      chunk([], { system_fingerprint: "fp_1", usage: renderedUsage }),
      "[DONE]",
    ]);
  });

  it("makes the usage chunk itself when the upstream sent none, and drops a chunk with neither choices nor usage", () => {
    const encoder = chatCompletionStream({ usageChunk: true }).encoder(identity);
    expect(encoder.chunk(chunk([], { prompt_filter_results: [] }), false, usage)).toBe("");
    encoder.chunk(chunk([finish(0)]), true, usage);
    expect(dataEvents(encoder.end(usage)).slice(-2)).toEqual([chunk([], { usage: renderedUsage }), "[DONE]"]);
  });

  it("with several choices sends each earlier finish as the next arrives, and only the last carries usage", () => {
    const encoder = chatCompletionStream({ usageChunk: false }).encoder(identity);
    expect(encoder.chunk(chunk([finish(0)]), true, usage)).toBe("");
    expect(dataEvents(encoder.chunk(chunk([text(1, "more")]), false, usage))).toEqual([chunk([text(1, "more")])]);
    expect(dataEvents(encoder.chunk(chunk([finish(1)]), true, usage))).toEqual([chunk([finish(0)])]);
    expect(dataEvents(encoder.end(usage))).toEqual([chunk([finish(1)], { usage: renderedUsage }), "[DONE]"]);
  });

  it("ends a failed stream with what was held back, then OpenAI's error chunk, then [DONE]", () => {
    const encoder = chatCompletionStream({ usageChunk: false }).encoder(identity);
    encoder.chunk(chunk([finish(0)]), true, usage);
    const failure = {
      status: 502,
      type: "upstream_error",
      code: "upstream_stream_failed",
      message: "It broke.",
      param: null,
    };
    expect(dataEvents(encoder.fail(failure, usage))).toEqual([
      chunk([finish(0)], { usage: renderedUsage }),
      chunk([{ index: 0, delta: {}, finish_reason: "error" }], {
        error: { message: "It broke.", type: "upstream_error", code: "upstream_stream_failed" },
      }),
      "[DONE]",
    ]);
  });
});

describe("chat completion body encoder", () => {
  it("names the gateway's generation and model, keeps the upstream's fields and bills the usage", () => {
    const body = chatCompletionBody(
      identity,
      {
        id: "chatcmpl-upstream",
        object: "chat.completion",
        created: 0,
        model: "gpt-4.1-2025-04-14",
        system_fingerprint: "fp_1",
        choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop", logprobs: null }],
        usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
      },
      usage(),
    );
    expect(body).toEqual({
      id: "gen-1",
      object: "chat.completion",
      created: identity.created,
      model: identity.model,
      system_fingerprint: "fp_1",
      choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop", logprobs: null }],
      usage: renderedUsage,
    });
  });
});
