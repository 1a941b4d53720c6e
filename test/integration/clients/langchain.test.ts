import { AIMessage, HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import OpenAI from "openai";
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

// LangChain's ChatOpenAI (Chat Completions API) with its base URL pointed at the gateway.
let world: ClientsWorld;

beforeAll(async () => {
  world = await startClientsWorld();
});

afterAll(async () => {
  await world?.stop();
});

function chat(apiKey: string, model = REPLAY_MODEL): ChatOpenAI {
  return new ChatOpenAI({ model, apiKey, configuration: { baseURL: world.harness.baseUrl }, maxRetries: 0 });
}

const getUserCountry = tool(() => TOOL_RESULT, {
  name: "get_user_country",
  description: "The country the user is in.",
  schema: z.object({}),
});

describe("LangChain's ChatOpenAI against the gateway", () => {
  it("completes a plain call", async () => {
    world.upstream.respondWith(() => "openai/text");
    const user = await world.harness.createFundedUser("5");

    const answer = await chat(user.apiKey).invoke([
      new SystemMessage("You are a helpful assistant."),
      new HumanMessage("What is the capital of France?"),
    ]);

    expect(answer.content).toBe(recordedText("openai/text"));
    expect(answer.response_metadata).toMatchObject({ finish_reason: "stop" });
    expect(answer.usage_metadata).toMatchObject({ input_tokens: 24, output_tokens: 8 });
    await expectDebited(world.harness, user, "5", recordedCostNano("openai/text"));
  });

  it("streams a call", async () => {
    world.upstream.respondWith(() => "openai/text-stream-include-usage");
    const user = await world.harness.createFundedUser("5");

    const stream = await chat(user.apiKey).stream("What is the capital of Mexico?");
    const parts: string[] = [];
    let usage: unknown;
    for await (const chunk of stream) {
      if (typeof chunk.content !== "string") throw new Error(`unexpected chunk content ${JSON.stringify(chunk)}`);
      parts.push(chunk.content);
      usage = chunk.usage_metadata ?? usage;
    }

    expect(parts.filter((part) => part !== "").length).toBeGreaterThan(1);
    expect(parts.join("")).toBe(RECORDED_STREAM_TEXT);
    expect(usage).toMatchObject({ input_tokens: 14, output_tokens: 8 });
    await expectDebited(world.harness, user, "5", recordedCostNano("openai/text-stream-include-usage"));
  });

  it("completes a tool-calling round trip with bindTools and a ToolMessage", async () => {
    const start = replayToolRoundTrip(world.upstream);
    const recordedCall = recordedToolCall();
    const user = await world.harness.createFundedUser("5");
    const model = chat(user.apiKey).bindTools([getUserCountry]);
    const messages: BaseMessage[] = [new HumanMessage("What is the largest city in the user country?")];

    const first = await model.invoke(messages);
    expect(first.tool_calls).toEqual([
      expect.objectContaining({ id: recordedCall.id, name: "get_user_country", args: {} }),
    ]);
    // Running the tool on LangChain's tool call yields the ToolMessage that answers it.
    const toolMessage = await getUserCountry.invoke(first.tool_calls![0]!);
    expect(toolMessage.tool_call_id).toBe(recordedCall.id);
    messages.push(first, toolMessage);
    const second = await model.invoke(messages);

    expect(second).toBeInstanceOf(AIMessage);
    expect(second.content).toBe(recordedText("openai/text"));
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

  it("returns structured output with withStructuredOutput (json schema)", async () => {
    world.upstream.respondWith(() => "openai/json-schema-response-format");
    const user = await world.harness.createFundedUser("5");
    const start = world.upstream.received.length;
    const schema = z.object({ city: z.string(), country: z.string() });

    const output = await chat(user.apiKey)
      .withStructuredOutput(schema, { name: "result", method: "jsonSchema" })
      .invoke("What is the largest city in Mexico?");

    expect(output).toEqual(recordedStructuredOutput());
    expect(world.upstream.received[start]?.body).toMatchObject({
      response_format: { type: "json_schema", json_schema: { name: "result" } },
    });
    await expectDebited(world.harness, user, "5", recordedCostNano("openai/json-schema-response-format"));
  });
});

describe("LangChain's own error types", () => {
  // @langchain/openai rethrows the OpenAI SDK's error classes, stamped with a LangChain error code where it has one.
  async function failure(apiKey: string, model: string): Promise<unknown> {
    return chat(apiKey, model)
      .invoke("hello")
      .catch((caught: unknown) => caught);
  }

  it("raises AuthenticationError coded MODEL_AUTHENTICATION for an unknown key (401)", async () => {
    const error = await failure(UNKNOWN_KEY, REPLAY_MODEL);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: "invalid_api_key", lc_error_code: "MODEL_AUTHENTICATION" });
  });

  it("raises an APIError with status 402 for an empty balance", async () => {
    const broke = await world.harness.createFundedUser("0");
    const error = await failure(broke.apiKey, REPLAY_MODEL);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 402, code: "insufficient_credits" });
    await expectNothingBilled(world.harness, broke, "0");
  });

  it("raises NotFoundError coded MODEL_NOT_FOUND for an unknown model (404)", async () => {
    const user = await world.harness.createFundedUser("1");
    const error = await failure(user.apiKey, UNKNOWN_MODEL);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: "model_not_found", lc_error_code: "MODEL_NOT_FOUND" });
    await expectNothingBilled(world.harness, user, "1");
  });

  it("raises RateLimitError coded MODEL_RATE_LIMIT when the upstream answers 429", async () => {
    const user = await world.harness.createFundedUser("1");
    const refusedBefore = world.rateLimitedCalls();
    const error = await failure(user.apiKey, RATE_LIMITED_MODEL);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, type: "rate_limit_error", lc_error_code: "MODEL_RATE_LIMIT" });
    expect(world.rateLimitedCalls()).toBe(refusedBefore + 1);
    await expectNothingBilled(world.harness, user, "1");
  });
});
