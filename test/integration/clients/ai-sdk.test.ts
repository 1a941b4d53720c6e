import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, generateText, isStepCount, Output, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
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

// The Vercel AI SDK (`ai`) through its OpenAI-compatible provider, configured as its docs say for a third-party host.
let world: ClientsWorld;

beforeAll(async () => {
  world = await startClientsWorld();
});

afterAll(async () => {
  await world?.stop();
});

function gateway(apiKey: string) {
  return createOpenAICompatible({
    name: "tollgate",
    baseURL: world.harness.baseUrl,
    apiKey,
    includeUsage: true,
    supportsStructuredOutputs: true,
  });
}

describe("the AI SDK against the gateway", () => {
  it("completes a plain call with generateText", async () => {
    world.upstream.respondWith(() => "openai/text");
    const user = await world.harness.createFundedUser("5");

    const result = await generateText({
      model: gateway(user.apiKey)(REPLAY_MODEL),
      instructions: "You are a helpful assistant.",
      prompt: "What is the capital of France?",
      maxRetries: 0,
    });

    expect(result.text).toBe(recordedText("openai/text"));
    expect(result.finishReason).toBe("stop");
    expect(result.usage).toMatchObject({ inputTokens: 24, outputTokens: 8 });
    await expectDebited(world.harness, user, "5", recordedCostNano("openai/text"));
  });

  it("streams a call with streamText", async () => {
    world.upstream.respondWith(() => "openai/text-stream-include-usage");
    const user = await world.harness.createFundedUser("5");
    const errors: unknown[] = [];

    const result = streamText({
      model: gateway(user.apiKey)(REPLAY_MODEL),
      prompt: "What is the capital of Mexico?",
      maxRetries: 0,
      onError: ({ error }) => void errors.push(error),
    });
    const parts: string[] = [];
    for await (const part of result.textStream) parts.push(part);

    expect(errors).toEqual([]);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join("")).toBe(RECORDED_STREAM_TEXT);
    expect(await result.finishReason).toBe("stop");
    expect(await result.usage).toMatchObject({ inputTokens: 14, outputTokens: 8 });
    await expectDebited(world.harness, user, "5", recordedCostNano("openai/text-stream-include-usage"));
  });

  it("completes a tool-calling round trip, executing the tool between the two calls", async () => {
    const start = replayToolRoundTrip(world.upstream);
    const recordedCall = recordedToolCall();
    const user = await world.harness.createFundedUser("5");
    const executed: unknown[] = [];

    const result = await generateText({
      model: gateway(user.apiKey)(REPLAY_MODEL),
      prompt: "What is the largest city in the user country?",
      tools: {
        get_user_country: tool({
          description: "The country the user is in.",
          inputSchema: z.object({}),
          execute: (input) => {
            executed.push(input);
            return TOOL_RESULT;
          },
        }),
      },
      stopWhen: isStepCount(2),
      maxRetries: 0,
    });

    expect(executed).toEqual([{}]);
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.finishReason).toBe("tool-calls");
    expect(result.steps[0]?.toolCalls).toMatchObject([{ toolCallId: recordedCall.id, toolName: "get_user_country" }]);
    expect(result.steps[0]?.toolResults).toMatchObject([{ toolCallId: recordedCall.id, output: TOOL_RESULT }]);
    expect(result.text).toBe(recordedText("openai/text"));

    const sent = world.upstream.received.slice(start);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.body).toMatchObject({ tools: [{ type: "function", function: { name: "get_user_country" } }] });
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

  it("returns structured output with generateText and Output.object", async () => {
    world.upstream.respondWith(() => "openai/json-schema-response-format");
    const user = await world.harness.createFundedUser("5");
    const start = world.upstream.received.length;

    const result = await generateText({
      model: gateway(user.apiKey)(REPLAY_MODEL),
      prompt: "What is the largest city in Mexico?",
      output: Output.object({ name: "result", schema: z.object({ city: z.string(), country: z.string() }) }),
      maxRetries: 0,
    });

    expect(result.output).toEqual(recordedStructuredOutput());
    expect(world.upstream.received[start]?.body).toMatchObject({
      response_format: { type: "json_schema", json_schema: { name: "result" } },
    });
    await expectDebited(world.harness, user, "5", recordedCostNano("openai/json-schema-response-format"));
  });
});

describe("the AI SDK's own error type", () => {
  async function failure(apiKey: string, model: string): Promise<APICallError> {
    const error = await generateText({ model: gateway(apiKey)(model), prompt: "hello", maxRetries: 0 }).catch(
      (caught: unknown) => caught,
    );
    expect(APICallError.isInstance(error)).toBe(true);
    return error as APICallError;
  }

  it("raises APICallError 401 for an unknown key", async () => {
    const error = await failure(UNKNOWN_KEY, REPLAY_MODEL);
    expect(error).toMatchObject({ statusCode: 401, isRetryable: false });
    expect(error.data).toMatchObject({ error: { type: "authentication_error", code: "invalid_api_key" } });
  });

  it("raises APICallError 402 for an empty balance", async () => {
    const broke = await world.harness.createFundedUser("0");
    const error = await failure(broke.apiKey, REPLAY_MODEL);
    expect(error).toMatchObject({ statusCode: 402, isRetryable: false });
    expect(error.data).toMatchObject({ error: { code: "insufficient_credits" } });
    await expectNothingBilled(world.harness, broke, "0");
  });

  it("raises APICallError 404 for an unknown model", async () => {
    const user = await world.harness.createFundedUser("1");
    const error = await failure(user.apiKey, UNKNOWN_MODEL);
    expect(error).toMatchObject({ statusCode: 404, isRetryable: false });
    expect(error.data).toMatchObject({ error: { code: "model_not_found" } });
    await expectNothingBilled(world.harness, user, "1");
  });

  it("raises a retryable APICallError 429 when the upstream is rate limited", async () => {
    const user = await world.harness.createFundedUser("1");
    const refusedBefore = world.rateLimitedCalls();
    const error = await failure(user.apiKey, RATE_LIMITED_MODEL);
    expect(error).toMatchObject({ statusCode: 429, isRetryable: true });
    expect(error.data).toMatchObject({ error: { type: "rate_limit_error" } });
    expect(world.rateLimitedCalls()).toBe(refusedBefore + 1);
    await expectNothingBilled(world.harness, user, "1");
  });
});
