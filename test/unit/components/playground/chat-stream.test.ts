import { describe, expect, it } from "vitest";
import { readChatStream, type StreamedAnswer } from "~/components/playground/chat-stream";

const sse = (events: unknown[]) =>
  [...events.map((event) => `data: ${JSON.stringify(event)}\n\n`), "data: [DONE]\n\n"].join("");

/** A streamed body cut into pieces at awkward places, as a network delivers it. */
function streamedResponse(text: string, headers: Record<string, string> = {}, pieceSize = 7): Response {
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += pieceSize) {
        controller.enqueue(bytes.slice(offset, offset + pieceSize));
      }
      controller.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", ...headers } });
}

const chunk = (delta: object, extra: object = {}) => ({
  choices: [{ index: 0, delta, finish_reason: null }],
  ...extra,
});

describe("readChatStream", () => {
  it("folds content, reasoning, the finish reason and the usage into one answer, updating as it goes", async () => {
    const updates: StreamedAnswer[] = [];
    const response = streamedResponse(
      sse([
        chunk({ role: "assistant", content: "" }),
        chunk({ reasoning: "Think" }),
        chunk({ reasoning: "ing." }),
        chunk({ content: "Hello" }),
        chunk({ content: ", *world*" }),
        { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
        {
          choices: [],
          usage: {
            prompt_tokens: 12,
            completion_tokens: 30,
            cost: 0.000072,
            completion_tokens_details: { reasoning_tokens: 20 },
            prompt_tokens_details: { cached_tokens: 4 },
          },
        },
      ]),
      {
        "x-generation-id": "gen-1",
        "x-tollgate-provider": "openai",
        "x-tollgate-dropped-parameters": "reasoning, seed",
      },
    );
    const answer = await readChatStream(response, (update) => updates.push(update));
    expect(answer).toEqual({
      content: "Hello, *world*",
      reasoning: "Thinking.",
      finishReason: "stop",
      usage: { promptTokens: 12, completionTokens: 30, reasoningTokens: 20, cachedTokens: 4, cost: 0.000072 },
      generationId: "gen-1",
      provider: "openai",
      droppedParameters: ["reasoning", "seed"],
      error: null,
      stopped: false,
      done: true,
    });
    // Each update is a new object (React state), and the text grows through them.
    expect(new Set(updates).size).toBe(updates.length);
    expect(updates.map((update) => update.content)).toContain("Hello");
  });

  it("reads an OpenAI-shaped error response as its message", async () => {
    const response = new Response(
      JSON.stringify({
        error: { message: "Insufficient balance.", type: "payment_required", param: null, code: null },
      }),
      { status: 402, headers: { "content-type": "application/json" } },
    );
    const answer = await readChatStream(response, () => undefined);
    expect(answer).toMatchObject({ error: "Insufficient balance.", done: true, content: "" });
  });

  it("reads an error event in the middle of a stream", async () => {
    const response = streamedResponse(
      sse([chunk({ content: "Partial" }), { error: { message: "The provider failed mid-answer.", code: 502 } }]),
    );
    expect(await readChatStream(response, () => undefined)).toMatchObject({
      content: "Partial",
      error: "The provider failed mid-answer.",
    });
  });

  it("ends as stopped, keeping what arrived, when the reader aborts", async () => {
    const abort = new AbortController();
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunk({ content: "Half an answ" }))}\n\n`));
        abort.signal.addEventListener("abort", () => controller.error(new DOMException("aborted", "AbortError")));
      },
    });
    const response = new Response(body, { headers: { "content-type": "text/event-stream" } });
    const reading = readChatStream(response, (update) => {
      if (update.content !== "") abort.abort();
    });
    expect(await reading).toMatchObject({ content: "Half an answ", stopped: true, done: true, error: null });
  });
});
