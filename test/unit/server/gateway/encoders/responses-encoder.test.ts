import { Readable } from "node:stream";
import { createParser } from "eventsource-parser";
import { accumulateResponse } from "openai/lib/responses/ResponseAccumulator";
import type { Response, ResponseStreamEvent } from "openai/resources/responses/responses";
import { describe, expect, it } from "vitest";
import type { AnswerUsage } from "~/server/gateway/encoders/answer-encoder";
import { responseIdOf, responsesBody, responsesStream } from "~/server/gateway/encoders/responses-encoder";
import type { ResponsesStreamEvent } from "~/server/gateway/encoders/responses-output";
import type { ChatCompletion, ChatCompletionChunk } from "~/server/gateway/protocol/chat-completion-response";
import { normaliseFinishReason } from "~/server/gateway/protocol/finish-reason";
import { decodeReasoningToken } from "~/server/gateway/protocol/responses-reasoning-token";
import {
  responseSettingsOf,
  responsesRequestSchema,
  toChatRequest,
  type ResponseSettings,
} from "~/server/gateway/protocol/responses-request";
import type { ResponseBody, ResponseOutputItem } from "~/server/gateway/protocol/responses-schemas";
import { createStreamToolCallIds } from "~/server/gateway/protocol/tool-call-ids";
import { createAnthropicAdapter } from "~/server/gateway/providers/anthropic";
import { REASONING_FORMAT } from "~/server/gateway/providers/anthropic/reasoning";
import { createGeminiAdapter } from "~/server/gateway/providers/gemini";
import { createOpenAICompatibleChannelAdapter } from "~/server/gateway/providers/openai";
import type { ProviderAdapter, SseEvent } from "~/server/gateway/providers/types";
import type { ResolvedChannel } from "~/server/gateway/routing/catalog";
import { parseSse } from "~/server/gateway/sse/parse-sse";
import { fixture } from "../../../../helpers/fixtures";

/*
 * The Responses encoder on recorded traffic: a provider's stream goes through its real adapter into the gateway's
 * internal chunks (stamped as the relay stamps them) and through the encoder into OpenAI's Responses events. The
 * events must be what OpenAI's SDK accepts (its own accumulator assembles them), numbered and indexed in order, and
 * what they assemble must be what the provider sent. Reasoning must come back: a client that sends the output items
 * on the next turn gives Anthropic its signed thinking and Gemini its thought signatures exactly.
 */

type Body = Record<string, unknown>;

/**
 * What OpenAI's SDK adds to a Response itself (`output_text`), or what only OpenAI's own models report
 * (`access_programs`, its Cyber access program): not sent by the gateway.
 */
type SdkOnly = "output_text" | "access_programs";
type Wire<Event> = Event extends { response: Response }
  ? Omit<Event, "response"> & { response: Omit<Response, SdkOnly> }
  : Event;

/** Compile-time proof (`npm run typecheck`): every event the encoder can send is one of OpenAI's, as its SDK types them. */
const asOpenAIEvent = (event: ResponsesStreamEvent): Wire<ResponseStreamEvent> => event;

const identity = { id: "gen-lx1-abc", model: "anthropic/claude-haiku-4.5", created: 1_700_000_000 };
const settings: ResponseSettings = responseSettingsOf(
  responsesRequestSchema.parse({ model: identity.model, input: "x" }),
);

function usageOf(promptTokens: number, completionTokens: number, costNano = 0n, reasoningTokens = 0): AnswerUsage {
  return {
    metered: {
      usage: {
        promptTokens,
        completionTokens,
        cachedTokens: 3,
        cacheWriteTokens: 2,
        reasoningTokens,
        upstreamCostNano: null,
      },
      billingStatus: "exact",
      costNano,
    },
    upstream: null,
  };
}

async function sseEvents(sse: string): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const batch of parseSse(Readable.from([new TextEncoder().encode(sse)]))) events.push(...batch);
  return events;
}

/** A recorded stream through an adapter, each chunk stamped as the relay stamps it (finish reasons, tool call ids). */
async function relayedChunks(adapter: ProviderAdapter, recorded: string): Promise<ChatCompletionChunk[]> {
  const transform = adapter.createStreamTransformer();
  let ids = 0;
  const giveToolCallIds = createStreamToolCallIds(() => `call_made_${(ids += 1)}`);
  const chunks: ChatCompletionChunk[] = [];
  for (const event of await sseEvents(recorded)) {
    for (const item of transform(event)) {
      if (item.type !== "chunk") continue;
      for (const choice of item.chunk.choices) {
        giveToolCallIds(choice);
        if (choice.finish_reason !== null) {
          choice.native_finish_reason ??= choice.finish_reason;
          choice.finish_reason = normaliseFinishReason(choice.finish_reason);
        }
      }
      chunks.push(item.chunk);
    }
  }
  return chunks;
}

interface Sent {
  /** Each event's SSE name and payload. */
  events: { name: string; data: ResponsesStreamEvent }[];
  bytes: string;
}

function encodeStream(chunks: ChatCompletionChunk[], usage: AnswerUsage, failure = false): Sent {
  const encoder = responsesStream(settings).encoder(identity);
  let bytes = "";
  for (const chunk of chunks) bytes += encoder.chunk(chunk, false, () => usage);
  bytes += failure
    ? encoder.fail({ status: 502, type: "upstream_error", code: null, message: "Overloaded", param: null }, () => usage)
    : encoder.end(() => usage);
  const events: Sent["events"] = [];
  const parser = createParser({
    onEvent: (event) => events.push({ name: event.event ?? "", data: JSON.parse(event.data) as ResponsesStreamEvent }),
  });
  parser.feed(bytes);
  return { events, bytes };
}

/**
 * The stream's order, as OpenAI's SDK and its users rely on it: numbered from 0 without gaps, named after each
 * payload's type, opened by response.created and response.in_progress and closed by one final lifecycle event; each
 * item added at the next output index, written while open, done once; each content and summary part likewise.
 */
function expectWellFormed(sent: Sent): void {
  const { events } = sent;
  expect(sent.bytes).not.toContain("[DONE]");
  events.forEach(({ name, data }, position) => {
    expect(data.sequence_number).toBe(position);
    expect(name).toBe(data.type);
  });
  const types = events.map(({ data }) => data.type);
  expect(types.slice(0, 2)).toEqual(["response.created", "response.in_progress"]);
  const final = ["response.completed", "response.incomplete", "response.failed"];
  expect(final).toContain(types.at(-1));
  expect(types.slice(2, -1).filter((type) => type.startsWith("response.") && !type.includes("."))).toEqual([]);
  expect(types.filter((type) => final.includes(type))).toHaveLength(1);

  const open = new Map<number, { id: string; parts: Set<number>; partsSeen: number; done: boolean }>();
  let added = 0;
  for (const { data: event } of events.slice(2, -1)) {
    if (event.type === "response.output_item.added") {
      expect(event.output_index).toBe(added);
      added += 1;
      open.set(event.output_index, { id: event.item.id, parts: new Set(), partsSeen: 0, done: false });
      continue;
    }
    if (!("output_index" in event)) continue;
    const item = open.get(event.output_index);
    expect(item, `${event.type} for an item never added`).toBeDefined();
    expect(item!.done, `${event.type} after the item was done`).toBe(false);
    if ("item_id" in event) expect(event.item_id).toBe(item!.id);
    const partIndex =
      "content_index" in event ? event.content_index : "summary_index" in event ? event.summary_index : null;
    if (event.type.endsWith("_part.added")) {
      expect(partIndex).toBe(item!.partsSeen);
      item!.partsSeen += 1;
      item!.parts.add(partIndex!);
    } else if (event.type.endsWith("_part.done")) {
      expect(item!.parts.delete(partIndex!)).toBe(true);
    } else if (partIndex !== null) {
      expect(item!.parts.has(partIndex), `${event.type} outside an open part`).toBe(true);
    }
    if (event.type === "response.output_item.done") {
      expect(item!.parts.size).toBe(0);
      item!.done = true;
    }
  }
  if (types.at(-1) !== "response.failed") {
    expect([...open.values()].every((item) => item.done)).toBe(true);
  }
}

/** The response OpenAI's SDK assembles from the events before the last, and the one the last event carries. */
function assembled(sent: Sent): { accumulated: Response; final: ResponseBody } {
  let snapshot: Response | undefined;
  for (const { data } of sent.events.slice(0, -1)) {
    snapshot = accumulateResponse(asOpenAIEvent(data) as ResponseStreamEvent, snapshot);
  }
  const last = sent.events.at(-1)!.data;
  if (!("response" in last)) throw new Error("the stream did not end with a response");
  return { accumulated: snapshot!, final: last.response };
}

interface Answer {
  text: string;
  refusal: string;
  reasoning: string;
  calls: { name: string; arguments: unknown }[];
}

const argumentsOf = (text: string): unknown => (text === "" ? {} : JSON.parse(text));

/** What an answer's output items say, as a client reads them. */
function answerOf(output: readonly (ResponseOutputItem | Response["output"][number])[]): Answer {
  const answer: Answer = { text: "", refusal: "", reasoning: "", calls: [] };
  for (const item of output) {
    if (item.type === "message") {
      for (const part of item.content) {
        if (part.type === "output_text") answer.text += part.text;
        else answer.refusal += part.refusal;
      }
    } else if (item.type === "reasoning") {
      answer.reasoning += item.summary.map((part) => part.text).join("");
    } else if (item.type === "function_call") {
      answer.calls.push({ name: item.name, arguments: argumentsOf(item.arguments) });
    }
  }
  return answer;
}

/** What an OpenAI-format recording sent for its first choice, read straight from its chunks. */
function recordedOpenAIAnswer(recorded: string): Answer {
  const answer: Answer = { text: "", refusal: "", reasoning: "", calls: [] };
  const calls = new Map<number, { name: string; arguments: string }>();
  const parser = createParser({
    onEvent: ({ data }) => {
      if (data === "[DONE]") return;
      const chunk = JSON.parse(data) as { choices?: { index: number; delta: Body }[] };
      for (const { index, delta } of chunk.choices ?? []) {
        if (index !== 0) continue;
        answer.text += (delta.content as string | null) ?? "";
        answer.refusal += (delta.refusal as string | null) ?? "";
        answer.reasoning += (delta.reasoning_content as string | null) ?? "";
        for (const call of (delta.tool_calls as { index: number; function: Body }[] | undefined) ?? []) {
          const entry = calls.get(call.index) ?? { name: "", arguments: "" };
          entry.name ||= (call.function.name as string | undefined) ?? "";
          entry.arguments += (call.function.arguments as string | undefined) ?? "";
          calls.set(call.index, entry);
        }
      }
    },
  });
  parser.feed(recorded);
  answer.calls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, call]) => ({ name: call.name, arguments: argumentsOf(call.arguments) }));
  return answer;
}

/** What an Anthropic recording sent, block by block. */
function recordedAnthropicBlocks(recorded: string): Body[] {
  const blocks: Body[] = [];
  const json = new Map<number, string>();
  const parser = createParser({
    onEvent: ({ data }) => {
      const event = JSON.parse(data) as Body;
      const index = event.index as number;
      if (event.type === "content_block_start") blocks[index] = { ...(event.content_block as Body) };
      if (event.type !== "content_block_delta") return;
      const delta = event.delta as Body;
      const block = blocks[index]!;
      if (delta.type === "text_delta") block.text = `${block.text as string}${delta.text as string}`;
      if (delta.type === "thinking_delta") block.thinking = `${block.thinking as string}${delta.thinking as string}`;
      if (delta.type === "signature_delta") block.signature = delta.signature;
      if (delta.type === "input_json_delta") json.set(index, `${json.get(index) ?? ""}${delta.partial_json as string}`);
    },
  });
  parser.feed(recorded);
  for (const [index, text] of json) blocks[index]!.input = argumentsOf(text);
  return blocks;
}

function recordedAnthropicAnswer(recorded: string): Answer {
  const answer: Answer = { text: "", refusal: "", reasoning: "", calls: [] };
  for (const block of recordedAnthropicBlocks(recorded)) {
    if (block.type === "text") answer.text += block.text as string;
    if (block.type === "thinking") answer.reasoning += block.thinking as string;
    if (block.type === "tool_use") answer.calls.push({ name: block.name as string, arguments: block.input });
  }
  return answer;
}

const openai = createOpenAICompatibleChannelAdapter();
const anthropic = createAnthropicAdapter();
const gemini = createGeminiAdapter();

describe("asOpenAIEvent", () => {
  it("is the identity: the proof is in its type", () => {
    const event = { type: "response.output_text.delta", sequence_number: 3 } as unknown as ResponsesStreamEvent;
    expect(asOpenAIEvent(event)).toBe(event);
  });
});

describe("Responses stream encoder on recorded streams", () => {
  it.each([
    "openai/text-stream-include-usage",
    "openai/parallel-tool-calls-stream",
    "openai/parallel-tool-calls-two-functions-stream",
    "openai/tool-call-stream-argument-deltas",
    "openai/refusal-stream",
    "openai/finish-length-stream",
    "openai/logprobs-stream",
    "openai/multiple-choices-n3-stream",
    "openai-compatible/deepseek-reasoner-tool-call-stream",
    "openai-compatible/groq-tool-call-stream",
  ])("gives back what %s sent, in OpenAI's events", async (name) => {
    const recorded = fixture(name).body;
    const sent = encodeStream(await relayedChunks(openai, recorded), usageOf(46, 12, 106_000n, 5));
    expectWellFormed(sent);
    const { accumulated, final } = assembled(sent);
    expect(answerOf(final.output)).toEqual(recordedOpenAIAnswer(recorded));
    // OpenAI's SDK assembles from the events exactly the output the last event carries.
    expect(accumulated.output).toEqual(final.output);
    expect(final).toMatchObject({
      id: "resp_lx1-abc",
      object: "response",
      model: identity.model,
      store: false,
      usage: {
        input_tokens: 46,
        input_tokens_details: { cached_tokens: 3, cache_write_tokens: 2 },
        output_tokens: 12,
        output_tokens_details: { reasoning_tokens: 5 },
        total_tokens: 58,
        cost: 0.000106,
      },
    });
  });

  it.each([
    "anthropic/text-stream",
    "anthropic/thinking-stream",
    "anthropic/tool-use-stream",
    "anthropic/redacted-thinking-stream",
    "anthropic/image-base64-stream",
    "anthropic/json-output-format-stream",
    "anthropic/prompt-cache-write-max-tokens-stream",
  ])("gives back what %s sent, in OpenAI's events", async (name) => {
    const recorded = fixture(name).body;
    const sent = encodeStream(await relayedChunks(anthropic, recorded), usageOf(46, 12, 106_000n));
    expectWellFormed(sent);
    const { accumulated, final } = assembled(sent);
    expect(answerOf(final.output)).toEqual(recordedAnthropicAnswer(recorded));
    expect(accumulated.output).toEqual(final.output);
    // Tool calls keep Anthropic's ids, which the next turn's tool results must name.
    const toolUses = recordedAnthropicBlocks(recorded).filter((block) => block.type === "tool_use");
    const calls = final.output.filter((item) => item.type === "function_call");
    expect(calls.map((call) => call.call_id)).toEqual(toolUses.map((block) => block.id));
  });

  it("names the output items after the response, each once", async () => {
    const sent = encodeStream(
      await relayedChunks(anthropic, fixture("anthropic/thinking-stream").body),
      usageOf(46, 12),
    );
    const { final } = assembled(sent);
    expect(final.output.map((item) => [item.type, item.id])).toEqual([
      ["reasoning", "rs_lx1-abc_0"],
      ["message", "msg_lx1-abc_1"],
    ]);
  });

  it("ends a cut-off answer with response.incomplete and the reason", async () => {
    const sent = encodeStream(
      await relayedChunks(openai, fixture("openai/finish-length-stream").body),
      usageOf(10, 1, 30n),
    );
    const { final } = assembled(sent);
    expect(sent.events.at(-1)!.name).toBe("response.incomplete");
    expect(final).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
    expect(final.output).toMatchObject([{ type: "message", status: "incomplete" }]);
  });

  it("sends refusals as refusal parts", async () => {
    const sent = encodeStream(await relayedChunks(openai, fixture("openai/refusal-stream").body), usageOf(1, 1));
    const types = sent.events.map(({ data }) => data.type);
    expect(types).toContain("response.refusal.delta");
    expect(types).toContain("response.refusal.done");
    expect(types).not.toContain("response.output_text.delta");
    expect(assembled(sent).final.output).toMatchObject([{ type: "message", content: [{ type: "refusal" }] }]);
  });

  it("ends a stream that fails with response.failed, the output so far and what it cost", async () => {
    const chunks = await relayedChunks(anthropic, fixture("anthropic/text-stream").body);
    // The stream breaks off after its first piece of text.
    const firstText = chunks.findIndex((chunk) => (chunk.choices[0]?.delta.content ?? "") !== "");
    const sent = encodeStream(chunks.slice(0, firstText + 1), usageOf(21, 2, 500n), true);
    expectWellFormed(sent);
    const last = sent.events.at(-1)!;
    expect(last.name).toBe("response.failed");
    expect(last.data).toMatchObject({
      response: {
        status: "failed",
        error: { code: "server_error", message: "Overloaded" },
        output: [{ type: "message", status: "incomplete" }],
        usage: { input_tokens: 21, output_tokens: 2, cost: 0.0000005 },
      },
    });
  });

  it("opens and ends an answer with no output", () => {
    const sent = encodeStream([], usageOf(5, 0));
    expectWellFormed(sent);
    expect(sent.events.map(({ name }) => name)).toEqual([
      "response.created",
      "response.in_progress",
      "response.completed",
    ]);
  });
});

describe("Responses body encoder", () => {
  it.each([
    ["openai/text", openai],
    ["openai/tool-call-required", openai],
    ["openai/refusal", openai],
    ["anthropic/parallel-tool-use", anthropic],
    ["anthropic/thinking-tool-use", anthropic],
    ["gemini/parallel-function-calls", gemini],
  ] as const)("builds from %s the output its stream would give", (name, adapter) => {
    const completion = wholeAnswer(adapter, name);
    const body = responsesBody(settings)(identity, completion, usageOf(30, 5, 55_000n));
    expect(body).toMatchObject({ id: "resp_lx1-abc", status: "completed", usage: { cost: 0.000055 } });
    // The same answer as one chunk through the stream encoder gives the same output items.
    const message = completion.choices[0]!.message;
    const sent = encodeStream(
      [
        {
          id: identity.id,
          object: "chat.completion.chunk",
          created: identity.created,
          model: identity.model,
          choices: [
            {
              index: 0,
              delta: message,
              finish_reason: completion.choices[0]!.finish_reason,
              native_finish_reason: completion.choices[0]!.native_finish_reason,
            },
          ],
        },
      ],
      usageOf(30, 5, 55_000n),
    );
    expect(assembled(sent).final.output).toEqual((body as ResponseBody).output);
  });
});

/** A recorded whole answer through its adapter, normalised as the gateway reads one. */
function wholeAnswer(adapter: ProviderAdapter, name: string): ChatCompletion {
  const completion = adapter.parseResponse(JSON.parse(fixture(name).body));
  for (const choice of completion.choices) {
    choice.native_finish_reason ??= choice.finish_reason;
    choice.finish_reason = normaliseFinishReason(choice.finish_reason);
  }
  return completion;
}

const anthropicChannel: ResolvedChannel = {
  id: "channel-1",
  name: "anthropic",
  kind: "anthropic",
  provider: "anthropic",
  baseUrl: "https://api.anthropic.com/v1/",
  apiKey: "sk-ant-test",
  priority: 0,
  weight: 1,
  retainsData: true,
};

const geminiChannel: ResolvedChannel = {
  ...anthropicChannel,
  id: "channel-2",
  name: "gemini",
  kind: "gemini",
  provider: "google",
  baseUrl: "https://generativelanguage.googleapis.com",
};

/** A Responses request through the door and on to a provider: what the provider receives. */
function sentUpstream(adapter: ProviderAdapter, channel: ResolvedChannel, upstreamModel: string, request: Body): Body {
  const chat = toChatRequest(responsesRequestSchema.parse({ model: identity.model, ...request }));
  const built = adapter.buildRequest({ request: chat, upstreamModel, channel, stream: false, maxOutputTokens: 8192 });
  return JSON.parse(built.body ?? "null") as Body;
}

describe("reasoning round trip: output items sent back on the next turn", () => {
  it.each(["anthropic/thinking-stream", "anthropic/redacted-thinking-stream"])(
    "gives Anthropic back the thinking blocks of %s as it signed them",
    async (name) => {
      const recorded = fixture(name).body;
      const { final } = assembled(encodeStream(await relayedChunks(anthropic, recorded), usageOf(46, 12)));
      const reasoning = final.output.filter((item) => item.type === "reasoning");
      expect(reasoning).toHaveLength(1);
      expect(reasoning[0]!.encrypted_content).toEqual(expect.any(String));

      const sent = sentUpstream(anthropic, anthropicChannel, "claude-haiku-4-5", {
        input: [{ role: "user", content: "Hello" }, ...final.output, { role: "user", content: "Go on." }],
      });
      // Exactly the blocks Anthropic answered with, thinking first, as Anthropic requires them back.
      expect(sent.messages).toEqual([
        { role: "user", content: [{ type: "text", text: "Hello" }] },
        { role: "assistant", content: recordedAnthropicBlocks(recorded) },
        { role: "user", content: [{ type: "text", text: "Go on." }] },
      ]);
    },
  );

  it("carries signed thinking and a tool result back as the recorded follow-up sent them", () => {
    const answer = wholeAnswer(anthropic, "anthropic/thinking-tool-use");
    const body = responsesBody(settings)(identity, answer, usageOf(1, 1));
    const output = (body as ResponseBody).output;
    const call = output.find((item) => item.type === "function_call")!;
    const reasoning = output.find((item) => item.type === "reasoning")!;
    expect(decodeReasoningToken(reasoning.encrypted_content!)).toEqual([
      {
        type: "reasoning.text",
        text: expect.stringContaining("get_user_country") as unknown,
        signature: expect.any(String) as unknown,
        format: REASONING_FORMAT,
      },
    ]);

    const followup = fixture("anthropic/thinking-tool-result-followup").requestBody as { messages: Body[] };
    const sent = sentUpstream(anthropic, anthropicChannel, "claude-sonnet-4-0", {
      input: [
        { role: "user", content: [{ type: "input_text", text: "What is the largest city in the user country?" }] },
        ...output,
        { type: "function_call_output", call_id: call.call_id, output: "Mexico" },
      ],
    });
    // `is_error: false` is Anthropic's default and is not repeated.
    expect(sent.messages).toEqual(JSON.parse(JSON.stringify(followup.messages).replaceAll(',"is_error":false', "")));
  });

  it("gives Gemini back its thought signature on the function call it belongs to", async () => {
    const recorded = fixture("gemini/function-call-thought-signature-stream").body;
    const { final } = assembled(encodeStream(await relayedChunks(gemini, recorded), usageOf(1, 1)));
    const call = final.output.find((item) => item.type === "function_call")!;
    const signature = /"thoughtSignature": "([^"]+)"/.exec(recorded)![1]!;
    const sent = sentUpstream(gemini, geminiChannel, "gemini-3-pro-preview", {
      input: [
        { role: "user", content: "What is the capital of the user country? Call the tool" },
        ...final.output,
        { type: "function_call_output", call_id: call.call_id, output: "Mexico" },
      ],
    }) as { contents: { role: string; parts: Body[] }[] };
    expect(sent.contents[1]).toEqual({
      role: "model",
      parts: [{ functionCall: { id: call.call_id, name: "get_country", args: {} }, thoughtSignature: signature }],
    });
  });

  it("makes the response id from the generation id", () => {
    expect(responseIdOf("gen-lx1-abc")).toBe("resp_lx1-abc");
  });
});
