import { describe, expect, it } from "vitest";
import { createGeminiAdapter } from "~/server/gateway/providers/gemini";
import { fixture } from "../../../../../helpers/fixtures";

const adapter = createGeminiAdapter();

function recorded(name: string): unknown {
  return JSON.parse(fixture(`gemini/${name}`).body) as unknown;
}

describe("generateContent answers → OpenAI chat completions (recorded)", () => {
  it("text: content, finish stop, thoughts counted inside completion tokens as reasoning", () => {
    const completion = adapter.parseResponse(recorded("text"));
    expect(completion).toEqual({
      id: "bzlXaa_EE_aHqtsPi_zw8Ao",
      object: "chat.completion",
      created: 0,
      model: "gemini-2.5-flash",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hello! How can I help you today?", refusal: null },
          finish_reason: "stop",
          native_finish_reason: "STOP",
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 9,
        completion_tokens: 43,
        total_tokens: 52,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 34 },
      },
    });
    // total_tokens agrees with Gemini's own totalTokenCount.
    expect(completion.usage?.total_tokens).toBe(52);
    expect(adapter.parseUsage(completion.usage)).toEqual({
      promptTokens: 9,
      completionTokens: 43,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 34,
    });
  });

  it("function-call: a call with empty args gets arguments {} and a stable id; finish tool_calls", () => {
    const first = adapter.parseResponse(recorded("function-call"));
    const again = adapter.parseResponse(recorded("function-call"));
    expect(first.choices[0]?.message).toEqual({
      role: "assistant",
      content: null,
      refusal: null,
      tool_calls: [
        {
          id: "call_LlteaIDvD9m7nvgPz5Sb0Aw_0",
          type: "function",
          function: { name: "get_user_country", arguments: "{}" },
        },
      ],
    });
    expect(again.choices[0]?.message.tool_calls).toEqual(first.choices[0]?.message.tool_calls);
    expect(first.choices[0]).toMatchObject({ finish_reason: "tool_calls", native_finish_reason: "STOP" });
  });

  it("function-response-followup: arguments become JSON text", () => {
    const completion = adapter.parseResponse(recorded("function-response-followup"));
    const [call] = completion.choices[0]?.message.tool_calls as { function: { name: string; arguments: string } }[];
    expect(call?.function.name).toBe("final_result");
    expect(JSON.parse(call?.function.arguments ?? "")).toEqual({ city: "Mexico City", country: "Mexico" });
    expect(completion.usage).toMatchObject({ prompt_tokens: 47, completion_tokens: 8 });
  });

  it("parallel-function-calls: three calls with distinct ids; only the first carries the signature", () => {
    const completion = adapter.parseResponse(recorded("parallel-function-calls"));
    const message = completion.choices[0]?.message as {
      tool_calls: { id: string; function: { name: string; arguments: string }; extra_content?: unknown }[];
      reasoning_details: unknown[];
    };
    expect(message.tool_calls.map((call) => call.id)).toEqual([
      "call_wOd8abGuO5rgz7IP5tLEGA_0",
      "call_wOd8abGuO5rgz7IP5tLEGA_1",
      "call_wOd8abGuO5rgz7IP5tLEGA_2",
    ]);
    expect(message.tool_calls.map((call) => call.function)).toEqual(
      Array.from({ length: 3 }, () => ({ name: "generate_topic", arguments: "{}" })),
    );
    expect(message.tool_calls[0]?.extra_content).toEqual({
      google: { thought_signature: expect.stringMatching(/^Es8FCswFAXLI2nxFGW9o/) as unknown },
    });
    expect(message.tool_calls[1]?.extra_content).toBeUndefined();
    expect(message.reasoning_details).toEqual([
      {
        type: "reasoning.encrypted",
        data: expect.stringMatching(/^Es8FCswFAXLI2nxFGW9o/) as unknown,
        format: "google-gemini-v1",
        index: 0,
        id: "call_wOd8abGuO5rgz7IP5tLEGA_0",
      },
    ]);
    expect(completion.usage).toMatchObject({
      prompt_tokens: 83,
      completion_tokens: 220,
      completion_tokens_details: { reasoning_tokens: 190 },
    });
  });

  it("json-response-schema: the JSON text is the content", () => {
    const completion = adapter.parseResponse(recorded("json-response-schema"));
    expect(JSON.parse(completion.choices[0]?.message.content as string)).toEqual({
      city: "Mexico City",
      country: "Mexico",
    });
  });

  it("image-inline-data: image tokens are prompt tokens", () => {
    const completion = adapter.parseResponse(recorded("image-inline-data"));
    expect(completion.choices[0]?.message.content).toBe("That is a potato.");
    expect(completion.usage).toMatchObject({ prompt_tokens: 1817, completion_tokens: 5, total_tokens: 1822 });
  });

  it("finish-max-tokens: MAX_TOKENS → length", () => {
    const completion = adapter.parseResponse(recorded("finish-max-tokens"));
    expect(completion.choices[0]).toMatchObject({
      message: { content: "The capital of France is" },
      finish_reason: "length",
      native_finish_reason: "MAX_TOKENS",
    });
  });
});

describe("generateContent answers no recording has", () => {
  it("a blocked prompt becomes one empty content_filter choice, billed for its prompt", () => {
    const completion = adapter.parseResponse({
      promptFeedback: { blockReason: "PROHIBITED_CONTENT" },
      usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
      modelVersion: "gemini-2.5-flash",
      responseId: "blocked-1",
    });
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: { role: "assistant", content: null, refusal: null },
        finish_reason: "content_filter",
        native_finish_reason: "PROHIBITED_CONTENT",
        logprobs: null,
      },
    ]);
    expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 0 });
  });

  it.each([
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
    ["BLOCKLIST", "content_filter"],
    ["PROHIBITED_CONTENT", "content_filter"],
    ["MAX_TOKENS", "length"],
    ["STOP", "stop"],
    ["OTHER", "stop"],
    ["MALFORMED_FUNCTION_CALL", "error"],
  ])("finishReason %s → %s", (native, expected) => {
    const completion = adapter.parseResponse({
      candidates: [{ content: { parts: [{ text: "x" }], role: "model" }, finishReason: native }],
    });
    expect(completion.choices[0]).toMatchObject({ finish_reason: expected, native_finish_reason: native });
  });

  it("text, thoughts and a call in one candidate; a cached prompt; several candidates", () => {
    const completion = adapter.parseResponse({
      candidates: [
        {
          content: {
            parts: [
              { text: "Considering the weather.", thought: true },
              { text: "Checking.", thoughtSignature: "c2ln" },
              { functionCall: { id: "fc-7", name: "weather", args: { city: "Paris" } } },
            ],
            role: "model",
          },
          finishReason: "STOP",
          index: 0,
        },
        { content: { parts: [{ text: "Sunny." }], role: "model" }, finishReason: "STOP", index: 1 },
      ],
      usageMetadata: {
        promptTokenCount: 100,
        cachedContentTokenCount: 60,
        candidatesTokenCount: 7,
        thoughtsTokenCount: 3,
      },
      responseId: "multi",
    });
    expect(completion.choices[0]?.message).toEqual({
      role: "assistant",
      content: "Checking.",
      refusal: null,
      reasoning: "Considering the weather.",
      // An id Gemini gives is kept.
      tool_calls: [{ id: "fc-7", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }],
      reasoning_details: [{ type: "reasoning.encrypted", data: "c2ln", format: "google-gemini-v1", index: 0 }],
    });
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(completion.choices[1]).toMatchObject({ index: 1, message: { content: "Sunny." }, finish_reason: "stop" });
    expect(adapter.parseUsage(completion.usage)).toEqual({
      promptTokens: 100,
      completionTokens: 10,
      cachedTokens: 60,
      cacheWriteTokens: 0,
      reasoningTokens: 3,
    });
  });

  it("an answer with neither candidates nor a block reason is refused as invalid", () => {
    expect(() => adapter.parseResponse({ usageMetadata: { promptTokenCount: 1 } })).toThrow();
    expect(() => adapter.parseResponse({ candidates: "x" })).toThrow();
  });
});

describe("Gemini errors", () => {
  it("error-404-model-not-found: a 404 with Google's message and model_not_found", () => {
    const { body, status } = fixture("gemini/error-404-model-not-found");
    expect(adapter.parseError(status, body)).toEqual({
      status: 404,
      type: "not_found_error",
      code: "model_not_found",
      message: expect.stringMatching(/^models\/gemini-3\.6-flahs is not found for API version v1beta/) as unknown,
      param: null,
    });
  });

  it("a bad request passes Google's message on", () => {
    const body = JSON.stringify({
      error: { code: 400, message: 'Invalid JSON payload received. Unknown name "foo".', status: "INVALID_ARGUMENT" },
    });
    expect(adapter.parseError(400, body)).toEqual({
      status: 400,
      type: "invalid_request_error",
      code: "invalid_argument",
      message: 'Invalid JSON payload received. Unknown name "foo".',
      param: null,
    });
  });

  it("an invalid channel key (Gemini says 400) is the gateway's problem: 502, message masked", () => {
    const body = JSON.stringify({
      error: {
        code: 400,
        message: "API key not valid. Please pass a valid API key.",
        status: "INVALID_ARGUMENT",
        details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" }],
      },
    });
    expect(adapter.parseError(400, body)).toMatchObject({ status: 502, code: "upstream_auth_failed" });
    expect(adapter.parseError(400, body).message).not.toContain("API key not valid");
  });

  it("rate limits, timeouts and server failures", () => {
    const quota = JSON.stringify({ error: { code: 429, message: "Quota exceeded.", status: "RESOURCE_EXHAUSTED" } });
    expect(adapter.parseError(429, quota)).toMatchObject({
      status: 429,
      type: "rate_limit_error",
      message: "Quota exceeded.",
    });
    expect(adapter.parseError(504, "")).toMatchObject({ status: 504, type: "timeout_error" });
    const internal = JSON.stringify({ error: { code: 500, message: "internal detail", status: "INTERNAL" } });
    expect(adapter.parseError(500, internal)).toMatchObject({ status: 502, type: "upstream_error" });
    expect(adapter.parseError(500, internal).message).not.toContain("internal detail");
    expect(adapter.parseError(503, "<html>busy</html>")).toMatchObject({ status: 502, type: "upstream_error" });
  });
});
