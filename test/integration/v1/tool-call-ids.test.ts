import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogModel as CatalogFileModel } from "~/server/catalog/catalog-file";
import { importCatalog } from "~/server/services/catalog";
import { addChannel } from "~/server/services/channels";
import { fixture } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";

/*
 * Every tool call a client gets has a non-empty id, streamed or not, fanned out or not, even from an upstream that
 * answers `id: ""` (Gemini's OpenAI-compatible endpoint, some self-hosted servers): the client must be able to send
 * the tool result back under that id. The local upstream plays such a server, and on the next turn checks what
 * Gemini's endpoint checks: every tool result names a call of an earlier assistant message.
 */

/** Listed without `n`, so that `n: 2` fans out into two upstream calls. */
const MODEL: CatalogFileModel = {
  id: "test/empty-tool-call-ids",
  name: "Empty tool-call ids (test)",
  description: "An upstream that answers tool calls with an empty id.",
  author: "test",
  upstreamModel: "gemini-2.5-pro",
  releasedAt: "2025-06-01",
  contextLength: 128_000,
  maxOutputTokens: 8_192,
  inputModalities: ["text"],
  outputModalities: ["text"],
  supportedParameters: ["tools", "tool_choice", "max_tokens"],
  pricing: { input: "1", output: "4", cacheRead: null, cacheWrite: null },
};

type Body = {
  messages: { role: string; tool_calls?: { id: string }[]; tool_call_id?: string }[];
  stream?: boolean;
};
type Answer = (body: Body, response: ServerResponse) => void;

let harness: GatewayHarness;
let answer: Answer = (_body, response) => response.writeHead(500).end();
const received: Body[] = [];
const upstream = createServer((request, response) => {
  const parts: Buffer[] = [];
  request.on("data", (part: Buffer) => parts.push(part));
  request.on("end", () => {
    const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as Body;
    received.push(body);
    answer(body, response);
  });
});

beforeAll(async () => {
  harness = await startGatewayHarness();
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  await importCatalog(harness.container.db, harness.container.changes, [MODEL], TEST_ACTOR);
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "openai-compatible",
      name: "empty-ids",
      baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`,
      apiKey: "sk-upstream",
      models: [{ modelId: MODEL.id, upstreamModel: "gemini-2.5-pro" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  await harness?.stop();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

function client(apiKey: string): OpenAI {
  return new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 });
}

const TOOLS: ChatCompletionTool[] = ["get_weather", "get_time"].map((name) => ({
  type: "function",
  function: { name, parameters: { type: "object", properties: { city: { type: "string" } } } },
}));

const USAGE = { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 };

function json(response: ServerResponse, body: unknown, status = 200): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function chunk(choices: unknown[], usage: unknown = null): string {
  const base = { id: "stream-1", object: "chat.completion.chunk", created: 1_700_000_000, model: "gemini-2.5-pro" };
  return `data: ${JSON.stringify({ ...base, choices, usage })}\n\n`;
}

const toolDelta = (call: object) => ({ index: 0, delta: { tool_calls: [call] }, finish_reason: null });

/** Two calls streamed the way such servers do: `id: ""` on each call's first delta and on some argument deltas. */
function streamTwoCalls(response: ServerResponse): void {
  response.writeHead(200, { "content-type": "text/event-stream" });
  response.end(
    chunk([{ index: 0, delta: { role: "assistant" }, finish_reason: null }]) +
      chunk([toolDelta({ index: 0, id: "", type: "function", function: { name: "get_weather", arguments: "" } })]) +
      chunk([toolDelta({ index: 0, function: { arguments: '{"ci' } })]) +
      chunk([toolDelta({ index: 0, id: "", function: { arguments: 'ty":"Pa' } })]) +
      chunk([toolDelta({ index: 0, function: { arguments: 'ris"}' } })]) +
      chunk([toolDelta({ index: 1, id: "", type: "function", function: { name: "get_time", arguments: "" } })]) +
      chunk([toolDelta({ index: 1, function: { arguments: '{"city":' } })]) +
      chunk([toolDelta({ index: 1, id: "", function: { arguments: '"Rome"}' } })]) +
      chunk([{ index: 0, delta: {}, finish_reason: "tool_calls" }]) +
      chunk([], USAGE) +
      "data: [DONE]\n\n",
  );
}

/**
 * The next turn, judged as Gemini's compatible endpoint does: a tool result whose `tool_call_id` names no earlier
 * call is refused (it cannot find the function's name), anything else is answered.
 */
const answerToolResults: Answer = (body, response) => {
  const calls = new Set(body.messages.flatMap((message) => (message.tool_calls ?? []).map((call) => call.id)));
  for (const message of body.messages) {
    if (message.role === "tool" && (!message.tool_call_id || !calls.has(message.tool_call_id))) {
      json(response, [{ error: { code: 400, message: "* function_response.name: Name cannot be empty.\n" } }], 400);
      return;
    }
  }
  json(response, {
    id: "answer-2",
    object: "chat.completion",
    created: 1_700_000_001,
    model: "gemini-2.5-pro",
    choices: [{ index: 0, message: { role: "assistant", content: "Sunny, at noon." }, finish_reason: "stop" }],
    usage: USAGE,
  });
};

/** Sends the tool results back under the ids the client got, and checks they reached the upstream unchanged. */
async function answerCalls(
  apiKey: string,
  assistant: ChatCompletionMessageParam,
  ids: string[],
): Promise<OpenAI.Chat.Completions.ChatCompletion> {
  answer = answerToolResults;
  const next = await client(apiKey).chat.completions.create({
    model: MODEL.id,
    tools: TOOLS,
    messages: [
      { role: "user", content: "Weather and time in Paris?" },
      assistant,
      ...ids.map((id): ChatCompletionMessageParam => ({ role: "tool", tool_call_id: id, content: "ok" })),
    ],
  });
  const sent = received.at(-1)!;
  expect(sent.messages[1]?.tool_calls?.map((call) => call.id)).toEqual(ids);
  expect(sent.messages.slice(2).map((message) => message.tool_call_id)).toEqual(ids);
  return next;
}

const SYNTHESISED = /^call_[A-Za-z0-9]{16,}$/;

describe("tool-call ids", () => {
  it("gives Gemini's recorded empty tool-call id a call_ id, and the tool result sent back under it is answered", async () => {
    const recorded = fixture("openai-compatible/gemini-openai-compat-tool-call");
    answer = (_body, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(recorded.body);
    };
    const { apiKey } = await harness.createFundedUser("1");
    const completion = await client(apiKey).chat.completions.create({
      model: MODEL.id,
      tools: TOOLS,
      messages: [{ role: "user", content: "What is the current time?" }],
    });
    assertMatchesOpenAISpec("response", completion);
    const message = completion.choices[0]!.message;
    expect(message.tool_calls).toHaveLength(1);
    const [call] = message.tool_calls!;
    expect(call).toMatchObject({ type: "function", function: { name: "get_current_time", arguments: "{}" } });
    expect(call!.id).toMatch(SYNTHESISED);

    const next = await answerCalls(apiKey, message, [call!.id]);
    expect(next.choices[0]?.message.content).toBe("Sunny, at noon.");
  });

  it("gives every call of a non-streamed answer its own id where the upstream gave an empty one or none", async () => {
    answer = (_body, response) =>
      json(response, {
        id: "answer-1",
        object: "chat.completion",
        created: 1_700_000_000,
        model: "gemini-2.5-pro",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: null,
              tool_calls: [
                { id: "", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
                { type: "function", function: { name: "get_time", arguments: '{"city":"Paris"}' } },
                { id: "kept-1", type: "function", function: { name: "get_time", arguments: '{"city":"Rome"}' } },
              ],
            },
            finish_reason: "tool_calls",
          },
        ],
        usage: USAGE,
      });
    const { apiKey } = await harness.createFundedUser("1");
    const completion = await client(apiKey).chat.completions.create({
      model: MODEL.id,
      tools: TOOLS,
      messages: [{ role: "user", content: "Weather and time in Paris?" }],
    });
    const ids = completion.choices[0]!.message.tool_calls!.map((call) => call.id);
    expect(ids[0]).toMatch(SYNTHESISED);
    expect(ids[1]).toMatch(SYNTHESISED);
    // An upstream's own id is its to keep.
    expect(ids[2]).toBe("kept-1");
    expect(new Set(ids).size).toBe(3);

    await answerCalls(apiKey, completion.choices[0]!.message, ids);
  });

  it("streams each call's id once, on its first delta, stable over its argument deltas, and takes the results back", async () => {
    answer = (_body, response) => streamTwoCalls(response);
    const { apiKey } = await harness.createFundedUser("1");
    const stream = await client(apiKey).chat.completions.create({
      model: MODEL.id,
      tools: TOOLS,
      messages: [{ role: "user", content: "Weather and time in Paris?" }],
      stream: true,
    });
    const deltas: NonNullable<ChatCompletionChunk.Choice.Delta["tool_calls"]> = [];
    for await (const part of stream) {
      assertMatchesOpenAISpec("chunk", part);
      for (const choice of part.choices) deltas.push(...(choice.delta.tool_calls ?? []));
    }
    const firsts = deltas.filter((delta) => delta.function?.name);
    expect(firsts.map((delta) => delta.index)).toEqual([0, 1]);
    for (const first of firsts) expect(first.id).toMatch(SYNTHESISED);
    // Like OpenAI's, the argument deltas carry no id (the upstream's empty ones are dropped, not filled in).
    const continuations = deltas.filter((delta) => !delta.function?.name);
    expect(continuations).toHaveLength(5);
    for (const continuation of continuations) expect(continuation).not.toHaveProperty("id");
    const ids = firsts.map((first) => first.id!);
    expect(new Set(ids).size).toBe(2);

    // The openai package's own accumulator builds the same calls.
    answer = (_body, response) => streamTwoCalls(response);
    const runner = client(apiKey).chat.completions.stream({
      model: MODEL.id,
      tools: TOOLS,
      messages: [{ role: "user", content: "Weather and time in Paris?" }],
    });
    const final = await runner.finalChatCompletion();
    const calls = final.choices[0]!.message.tool_calls!;
    expect(calls.map((call) => call.type === "function" && call.function.arguments)).toEqual([
      '{"city":"Paris"}',
      '{"city":"Rome"}',
    ]);
    for (const call of calls) expect(call.id).toMatch(SYNTHESISED);
    // Every answer gets new ids: a conversation never holds two calls under one id.
    expect(calls.some((call) => ids.includes(call.id))).toBe(false);

    const next = await answerCalls(
      apiKey,
      { role: "assistant", content: null, tool_calls: calls },
      calls.map((call) => call.id),
    );
    expect(next.choices[0]?.message.content).toBe("Sunny, at noon.");
  });

  it("gives the calls of a fanned-out stream (n: 2) distinct ids, one per call", async () => {
    answer = (_body, response) => streamTwoCalls(response);
    const { apiKey } = await harness.createFundedUser("1");
    const stream = await client(apiKey).chat.completions.create({
      model: MODEL.id,
      tools: TOOLS,
      n: 2,
      messages: [{ role: "user", content: "Weather and time in Paris?" }],
      stream: true,
    });
    const idsByChoice = new Map<number, string[]>();
    for await (const part of stream) {
      for (const choice of part.choices) {
        for (const delta of choice.delta.tool_calls ?? []) {
          if (!delta.function?.name) {
            expect(delta).not.toHaveProperty("id");
            continue;
          }
          expect(delta.id).toMatch(SYNTHESISED);
          idsByChoice.set(choice.index, [...(idsByChoice.get(choice.index) ?? []), delta.id!]);
        }
      }
    }
    expect([...idsByChoice.keys()].sort()).toEqual([0, 1]);
    const ids = [...idsByChoice.values()].flat();
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
  });
});
