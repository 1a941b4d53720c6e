import { describe, expect, it } from "vitest";
import { GatewayError } from "~/server/gateway/errors";
import {
  chatCompletionRequestSchema,
  type ChatCompletionRequest,
} from "~/server/gateway/protocol/chat-completion-request";
import { createGeminiAdapter } from "~/server/gateway/providers/gemini";
import type { ResolvedChannel } from "~/server/gateway/routing/catalog";

const adapter = createGeminiAdapter();

const channel: ResolvedChannel = {
  id: "ch-1",
  name: "gemini",
  kind: "gemini",
  provider: "google",
  baseUrl: "https://generativelanguage.googleapis.com/v1beta/",
  apiKey: "gm-key",
  priority: 0,
  weight: 1,
  retainsData: true,
};

/** Requests go through the /v1 schema first, exactly as the handler receives them. */
function build(body: Record<string, unknown>, options: { stream?: boolean; upstreamModel?: string } = {}) {
  const request: ChatCompletionRequest = chatCompletionRequestSchema.parse({
    model: "google/gemini-2.5-flash",
    ...body,
  });
  const built = adapter.buildRequest({
    request,
    upstreamModel: options.upstreamModel ?? "gemini-2.5-flash",
    channel,
    stream: options.stream ?? false,
  });
  return { ...built, json: JSON.parse(built.body ?? "null") as Record<string, unknown> };
}

function buildError(body: Record<string, unknown>): GatewayError {
  try {
    build(body);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a GatewayError");
}

const user = (content: unknown) => ({ role: "user", content });

describe("the Gemini request", () => {
  it("addresses generateContent or streamGenerateContent?alt=sse with the key in x-goog-api-key", () => {
    const plain = build({ messages: [user("Hi")] });
    expect(plain.url).toBe("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent");
    expect(plain.method).toBe("POST");
    expect(plain.headers).toEqual({
      "content-type": "application/json",
      accept: "application/json",
      "x-goog-api-key": "gm-key",
    });
    expect(plain.headers).not.toHaveProperty("authorization");
    const streamed = build({ messages: [user("Hi")], stream: true }, { stream: true });
    expect(streamed.url).toBe(
      "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
    expect(streamed.headers.accept).toBe("text/event-stream");
    expect(streamed.json).not.toHaveProperty("stream");
    expect(build({ messages: [user("Hi")] }, { upstreamModel: "tunedModels/my-model" }).url).toMatch(
      /\/v1beta\/tunedModels\/my-model:generateContent$/,
    );
  });

  it("sends system and developer messages as the systemInstruction, the rest as contents", () => {
    const { json } = build({
      messages: [
        { role: "system", content: "You are terse." },
        user("Hello"),
        { role: "developer", content: [{ type: "text", text: "Answer in French." }] },
        { role: "assistant", content: "Bonjour." },
        user("Again"),
      ],
    });
    expect(json).toEqual({
      systemInstruction: { parts: [{ text: "You are terse." }, { text: "Answer in French." }] },
      contents: [
        { role: "user", parts: [{ text: "Hello" }] },
        { role: "model", parts: [{ text: "Bonjour." }] },
        { role: "user", parts: [{ text: "Again" }] },
      ],
    });
  });

  it("maps sampling, limits, stop, n, seed and penalties to generationConfig", () => {
    const { json, droppedParameters } = build({
      messages: [user("Hi")],
      temperature: 0.3,
      top_p: 0.9,
      top_k: 40,
      max_tokens: 100,
      max_completion_tokens: 50,
      stop: ["END", "STOP"],
      n: 2,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
    });
    expect(json.generationConfig).toEqual({
      temperature: 0.3,
      topP: 0.9,
      topK: 40,
      // max_completion_tokens wins over the older max_tokens.
      maxOutputTokens: 50,
      stopSequences: ["END", "STOP"],
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
    });
    expect(droppedParameters).toBeUndefined();
    expect(build({ messages: [user("Hi")], stop: "END" }).json.generationConfig).toEqual({ stopSequences: ["END"] });
  });

  it("reports what Gemini cannot honour as dropped, and ignores bookkeeping fields", () => {
    const { droppedParameters, json } = build({
      messages: [user("Hi")],
      logit_bias: { "50256": -100 },
      logprobs: true,
      top_logprobs: 2,
      parallel_tool_calls: false,
      user: "end-user-1",
      metadata: { a: "b" },
      stream_options: { include_usage: true },
      provider: { sort: "price" },
    });
    expect([...(droppedParameters ?? [])].sort()).toEqual([
      "logit_bias",
      "logprobs",
      "parallel_tool_calls",
      "top_logprobs",
    ]);
    expect(json).toEqual({ contents: [{ role: "user", parts: [{ text: "Hi" }] }] });
    expect(
      build({ messages: [user("Hi")], logprobs: false, parallel_tool_calls: true }).droppedParameters,
    ).toBeUndefined();
  });

  it("json_object and json_schema become responseMimeType (+ responseJsonSchema, sent unchanged)", () => {
    expect(build({ messages: [user("Hi")], response_format: { type: "json_object" } }).json.generationConfig).toEqual({
      responseMimeType: "application/json",
    });
    const schema = {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    };
    expect(
      build({
        messages: [user("Hi")],
        response_format: {
          type: "json_schema",
          json_schema: { name: "City", description: "A city.", schema, strict: true },
        },
      }).json.generationConfig,
    ).toEqual({ responseMimeType: "application/json", responseJsonSchema: { ...schema, description: "A city." } });
    expect(build({ messages: [user("Hi")], response_format: { type: "text" } }).json).not.toHaveProperty(
      "generationConfig",
    );
  });

  describe("thinking", () => {
    const thinking = (body: Record<string, unknown>, upstreamModel?: string) =>
      (
        build({ messages: [user("Hi")], ...body }, { upstreamModel }).json.generationConfig as
          { thinkingConfig?: unknown } | undefined
      )?.thinkingConfig;

    it("sends nothing when the client says nothing", () => {
      expect(thinking({})).toBeUndefined();
    });

    it("reasoning_effort → a thinking budget on 2.x, a thinking level on 3.x, thoughts returned", () => {
      expect(thinking({ reasoning_effort: "low" })).toEqual({ thinkingBudget: 2048, includeThoughts: true });
      expect(thinking({ reasoning_effort: "high" })).toEqual({ thinkingBudget: 24576, includeThoughts: true });
      expect(thinking({ reasoning_effort: "medium" }, "gemini-3-pro-preview")).toEqual({
        thinkingLevel: "high",
        includeThoughts: true,
      });
      expect(thinking({ reasoning_effort: "minimal" }, "gemini-3-flash-preview")).toEqual({
        thinkingLevel: "low",
        includeThoughts: true,
      });
    });

    it("none switches thinking off where it can (budget 0), asks for the least on 3.x", () => {
      expect(thinking({ reasoning_effort: "none" })).toEqual({ thinkingBudget: 0 });
      expect(thinking({ reasoning: { enabled: false } })).toEqual({ thinkingBudget: 0 });
      expect(thinking({ reasoning_effort: "none" }, "gemini-3-pro-preview")).toEqual({ thinkingLevel: "low" });
    });

    it("reasoning.max_tokens is the exact budget; exclude keeps the thoughts out of the answer", () => {
      expect(thinking({ reasoning: { max_tokens: 1234 } })).toEqual({ thinkingBudget: 1234, includeThoughts: true });
      expect(thinking({ reasoning: { effort: "high", exclude: true } })).toEqual({ thinkingBudget: 24576 });
      expect(thinking({ reasoning: { enabled: true } })).toEqual({ includeThoughts: true });
      expect(thinking({ include_reasoning: true })).toEqual({ includeThoughts: true });
    });
  });

  describe("tools", () => {
    const weather = {
      type: "function",
      function: {
        name: "get_weather",
        description: "Weather for a city",
        parameters: {
          type: "object",
          properties: { city: { type: "string" }, unit: { type: ["string", "null"], enum: ["c", "f", null] } },
          required: ["city"],
          additionalProperties: false,
        },
      },
    };
    const noParameters = { type: "function", function: { name: "now" } };

    it("become functionDeclarations with converted parameters", () => {
      const { json } = build({ messages: [user("Hi")], tools: [weather, noParameters] });
      expect(json.tools).toEqual([
        {
          functionDeclarations: [
            {
              name: "get_weather",
              description: "Weather for a city",
              parameters: {
                type: "OBJECT",
                properties: { city: { type: "STRING" }, unit: { type: "STRING", enum: ["c", "f"], nullable: true } },
                required: ["city"],
              },
            },
            { name: "now" },
          ],
        },
      ]);
      expect(json).not.toHaveProperty("toolConfig");
    });

    it("a tool whose parameters cannot be converted is a 400 naming it", () => {
      const $defs: Record<string, unknown> = { D30: { type: "string" } };
      for (let level = 0; level < 30; level += 1) {
        $defs[`D${level}`] = {
          type: "object",
          properties: { a: { $ref: `#/$defs/D${level + 1}` }, b: { $ref: `#/$defs/D${level + 1}` } },
        };
      }
      const bomb = { type: "function", function: { name: "bomb", parameters: { $ref: "#/$defs/D0", $defs } } };
      const error = buildError({ messages: [user("Hi")], tools: [weather, bomb] });
      expect(error).toMatchObject({ status: 400, param: "tools[1].function.parameters" });
    });

    it.each([
      ["auto", { mode: "AUTO" }],
      ["none", { mode: "NONE" }],
      ["required", { mode: "ANY" }],
      [
        { type: "function", function: { name: "now" } },
        { mode: "ANY", allowedFunctionNames: ["now"] },
      ],
    ])("tool_choice %j → functionCallingConfig %j", (toolChoice, expected) => {
      const { json } = build({ messages: [user("Hi")], tools: [weather, noParameters], tool_choice: toolChoice });
      expect(json.toolConfig).toEqual({ functionCallingConfig: expected });
    });
  });

  describe("tool round trips", () => {
    const assistantCalls = {
      role: "assistant",
      content: "Let me look both up.",
      tool_calls: [
        { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
        { id: "call_b", type: "function", function: { name: "get_weather", arguments: "" } },
        { id: "call_c", type: "function", function: { name: "now", arguments: "{}" } },
      ],
    };

    it("text and parallel calls in one model turn; the results, matched by id to their names, in one user turn", () => {
      const { json } = build({
        messages: [
          user("Weather in Paris and Rome, and the time?"),
          assistantCalls,
          { role: "tool", tool_call_id: "call_b", content: "Rain" },
          { role: "tool", tool_call_id: "call_a", content: '{"sky":"clear","temp":21}' },
          { role: "tool", tool_call_id: "call_c", content: [{ type: "text", text: "12:00" }] },
          user("Thanks. Summarise."),
        ],
      });
      expect(json.contents).toEqual([
        { role: "user", parts: [{ text: "Weather in Paris and Rome, and the time?" }] },
        {
          role: "model",
          parts: [
            { text: "Let me look both up." },
            { functionCall: { id: "call_a", name: "get_weather", args: { city: "Paris" } } },
            // Empty arguments are an empty object.
            { functionCall: { id: "call_b", name: "get_weather", args: {} } },
            { functionCall: { id: "call_c", name: "now", args: {} } },
          ],
        },
        {
          role: "user",
          parts: [
            { functionResponse: { id: "call_b", name: "get_weather", response: { output: "Rain" } } },
            // A JSON object result is sent as the object itself.
            { functionResponse: { id: "call_a", name: "get_weather", response: { sky: "clear", temp: 21 } } },
            { functionResponse: { id: "call_c", name: "now", response: { output: "12:00" } } },
            { text: "Thanks. Summarise." },
          ],
        },
      ]);
    });

    it("a tool result whose id no earlier assistant message made is a 400 naming it", () => {
      const error = buildError({
        messages: [user("Hi"), assistantCalls, { role: "tool", tool_call_id: "call_zzz", content: "x" }],
      });
      expect(error).toMatchObject({ status: 400, type: "invalid_request_error", param: "messages[2].tool_call_id" });
      expect(error.message).toContain("call_zzz");
    });

    it("tool call arguments that are not a JSON object are a 400 naming them", () => {
      const error = buildError({
        messages: [
          user("Hi"),
          {
            role: "assistant",
            tool_calls: [{ id: "x", type: "function", function: { name: "now", arguments: "[1" } }],
          },
        ],
      });
      expect(error).toMatchObject({ status: 400, param: "messages[1].tool_calls[0].function.arguments" });
    });

    it("a thought signature comes back from extra_content (Gemini's OpenAI style) onto its function call", () => {
      const { json } = build({
        messages: [
          user("Call it"),
          {
            role: "assistant",
            tool_calls: [
              {
                id: "call_1",
                type: "function",
                function: { name: "now", arguments: "{}" },
                extra_content: { google: { thought_signature: "U0lHLTE=" } },
              },
              { id: "call_2", type: "function", function: { name: "now", arguments: "{}" } },
            ],
          },
          { role: "tool", tool_call_id: "call_1", content: "1" },
          { role: "tool", tool_call_id: "call_2", content: "2" },
        ],
      });
      const model = (json.contents as { parts: unknown[] }[])[1];
      expect(model?.parts).toEqual([
        { functionCall: { id: "call_1", name: "now", args: {} }, thoughtSignature: "U0lHLTE=" },
        { functionCall: { id: "call_2", name: "now", args: {} } },
      ]);
    });

    it("signatures come back from reasoning_details (OpenRouter style): by tool call id, or onto the text", () => {
      const { json } = build({
        messages: [
          user("Call it"),
          {
            role: "assistant",
            content: "Calling.",
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "now", arguments: "{}" } },
              { id: "call_2", type: "function", function: { name: "now", arguments: "{}" } },
            ],
            reasoning_details: [
              { type: "reasoning.text", text: "thinking", format: "google-gemini-v1", index: 0 },
              { type: "reasoning.encrypted", data: "VEVYVA==", format: "google-gemini-v1", index: 1 },
              { type: "reasoning.encrypted", data: "Q0FMTDI=", format: "google-gemini-v1", index: 2, id: "call_2" },
              // Another provider's signature would be refused by Gemini: left out.
              { type: "reasoning.encrypted", data: "QU5USFJPUElD", format: "anthropic-claude-v1", index: 3 },
            ],
          },
          { role: "tool", tool_call_id: "call_1", content: "1" },
          { role: "tool", tool_call_id: "call_2", content: "2" },
        ],
      });
      const model = (json.contents as { parts: unknown[] }[])[1];
      expect(model?.parts).toEqual([
        { text: "Calling.", thoughtSignature: "VEVYVA==" },
        { functionCall: { id: "call_1", name: "now", args: {} } },
        { functionCall: { id: "call_2", name: "now", args: {} }, thoughtSignature: "Q0FMTDI=" },
      ]);
    });
  });

  describe("user content parts", () => {
    it("data URLs become inlineData; audio and files too", () => {
      const { json } = build({
        messages: [
          user([
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
            { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=", filename: "a.pdf" } },
          ]),
        ],
      });
      expect(json.contents).toEqual([
        {
          role: "user",
          parts: [
            { text: "What is this?" },
            { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
            { inlineData: { mimeType: "audio/wav", data: "UklGRg==" } },
            { inlineData: { mimeType: "application/pdf", data: "JVBERi0=" } },
          ],
        },
      ]);
    });

    it("an https image the gateway did not inline is passed as a file reference", () => {
      const { json } = build({
        messages: [user([{ type: "image_url", image_url: { url: "https://example.com/cat.webp" } }])],
      });
      expect(json.contents).toEqual([
        { role: "user", parts: [{ fileData: { fileUri: "https://example.com/cat.webp", mimeType: "image/webp" } }] },
      ]);
    });
  });
});
