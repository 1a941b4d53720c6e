import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectDebited,
  expectNothingBilled,
  RATE_LIMITED_MODEL,
  RECORDED_STREAM_TEXT,
  recordedCostNano,
  recordedStructuredOutput,
  recordedText,
  recordedToolCall,
  REPLAY_MODEL,
  replayToolRoundTrip,
  startClientsWorld,
  TOOL_RESULT,
  UNKNOWN_KEY,
  UNKNOWN_MODEL,
  type ClientsWorld,
} from "./support";

// The official `openai` package, pointed at the gateway exactly as a user would point it.
let world: ClientsWorld;

beforeAll(async () => {
  world = await startClientsWorld();
});

afterAll(async () => {
  await world?.stop();
});

function client(apiKey: string): OpenAI {
  return new OpenAI({ baseURL: world.harness.baseUrl, apiKey, maxRetries: 0 });
}

const getUserCountry: ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_user_country",
    description: "The country the user is in.",
    parameters: { type: "object", properties: {}, additionalProperties: false },
  },
};

describe("the openai package against the gateway", () => {
  it("completes a plain call", async () => {
    world.upstream.respondWith(() => "openai/text");
    const user = await world.harness.createFundedUser("5");

    const completion = await client(user.apiKey).chat.completions.create({
      model: REPLAY_MODEL,
      messages: [
        { role: "system", content: "You are a helpful assistant." },
        { role: "user", content: "What is the capital of France?" },
      ],
    });

    expect(completion.model).toBe(REPLAY_MODEL);
    expect(completion.choices[0]?.message.content).toBe(recordedText("openai/text"));
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    await expectDebited(world.harness, user, "5", recordedCostNano("openai/text"));
  });

  it("streams a call", async () => {
    world.upstream.respondWith(() => "openai/text-stream-include-usage");
    const user = await world.harness.createFundedUser("5");

    const stream = await client(user.apiKey).chat.completions.create({
      model: REPLAY_MODEL,
      messages: [{ role: "user", content: "What is the capital of Mexico?" }],
      stream: true,
    });
    let text = "";
    const finishReasons: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      const finish = chunk.choices[0]?.finish_reason;
      if (finish) finishReasons.push(finish);
    }

    expect(text).toBe(RECORDED_STREAM_TEXT);
    expect(finishReasons).toEqual(["stop"]);
    await expectDebited(world.harness, user, "5", recordedCostNano("openai/text-stream-include-usage"));
  });

  it("completes a tool-calling round trip", async () => {
    const start = replayToolRoundTrip(world.upstream);
    const recordedCall = recordedToolCall();
    const user = await world.harness.createFundedUser("5");
    const openai = client(user.apiKey);
    const messages: ChatCompletionMessageParam[] = [
      { role: "user", content: "What is the largest city in the user country?" },
    ];

    const first = await openai.chat.completions.create({
      model: REPLAY_MODEL,
      messages,
      tools: [getUserCountry],
      tool_choice: "required",
    });
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    const assistant = first.choices[0]!.message;
    const call = assistant.tool_calls?.[0];
    expect(assistant.tool_calls).toHaveLength(1);
    expect(call).toMatchObject({
      id: recordedCall.id,
      type: "function",
      function: { name: "get_user_country", arguments: recordedCall.arguments },
    });

    // The usual client loop: append the assistant message as received, then the tool's result.
    messages.push(assistant, { role: "tool", tool_call_id: call!.id, content: TOOL_RESULT });
    const second = await openai.chat.completions.create({ model: REPLAY_MODEL, messages, tools: [getUserCountry] });

    expect(second.choices[0]?.message.content).toBe(recordedText("openai/text"));
    const sent = world.upstream.received.slice(start);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.body).toMatchObject({
      model: "gpt-4o",
      tool_choice: "required",
      tools: [{ type: "function", function: { name: "get_user_country" } }],
    });
    expect((sent[1]?.body as { messages: unknown[] }).messages).toMatchObject([
      { role: "user" },
      {
        role: "assistant",
        tool_calls: [{ id: recordedCall.id, type: "function", function: { name: "get_user_country" } }],
      },
      { role: "tool", tool_call_id: recordedCall.id, content: TOOL_RESULT },
    ]);
    await expectDebited(world.harness, user, "5", recordedCostNano("openai/tool-call-required", "openai/text"));
  });

  it("returns structured output for a json_schema response format", async () => {
    world.upstream.respondWith(() => "openai/json-schema-response-format");
    const user = await world.harness.createFundedUser("5");
    const start = world.upstream.received.length;
    const responseFormat = {
      type: "json_schema" as const,
      json_schema: {
        name: "result",
        strict: false,
        schema: {
          type: "object",
          properties: { city: { type: "string" }, country: { type: "string" } },
          required: ["city", "country"],
        },
      },
    };

    const completion = await client(user.apiKey).chat.completions.create({
      model: REPLAY_MODEL,
      messages: [{ role: "user", content: "What is the largest city in Mexico?" }],
      response_format: responseFormat,
    });

    const content = completion.choices[0]?.message.content;
    expect(typeof content).toBe("string");
    expect(JSON.parse(content!)).toEqual(recordedStructuredOutput());
    expect(world.upstream.received[start]?.body).toMatchObject({ response_format: responseFormat });
    await expectDebited(world.harness, user, "5", recordedCostNano("openai/json-schema-response-format"));
  });
});

describe("the openai package's own error types", () => {
  const hello = { model: REPLAY_MODEL, messages: [{ role: "user" as const, content: "hello" }] };

  it("raises AuthenticationError for an unknown key (401)", async () => {
    const error = await client(UNKNOWN_KEY)
      .chat.completions.create(hello)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: "invalid_api_key", type: "authentication_error" });
  });

  it("raises an APIError with status 402 for an empty balance", async () => {
    const broke = await world.harness.createFundedUser("0");
    const error = await client(broke.apiKey)
      .chat.completions.create(hello)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 402, code: "insufficient_credits" });
    await expectNothingBilled(world.harness, broke, "0");
  });

  it("raises NotFoundError for an unknown model (404)", async () => {
    const user = await world.harness.createFundedUser("1");
    const error = await client(user.apiKey)
      .chat.completions.create({ ...hello, model: UNKNOWN_MODEL })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: "model_not_found" });
    await expectNothingBilled(world.harness, user, "1");
  });

  it("raises RateLimitError when the upstream answers 429", async () => {
    const user = await world.harness.createFundedUser("1");
    const refusedBefore = world.rateLimitedCalls();
    const error = await client(user.apiKey)
      .chat.completions.create({ ...hello, model: RATE_LIMITED_MODEL })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, type: "rate_limit_error" });
    // The upstream's own Retry-After reaches the client, which times its retries by it.
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get("retry-after")).toBe("7");
    expect(world.rateLimitedCalls()).toBe(refusedBefore + 1);
    await expectNothingBilled(world.harness, user, "1");
  });
});
