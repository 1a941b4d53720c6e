import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createParser } from "eventsource-parser";
import { expect } from "vitest";
import type { GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import type { ReceivedRequest } from "../../helpers/replay-upstream";

/*
 * Shared by the OpenAI-family provider tests (openai.test.ts, openai-compatible.test.ts) and the cross-provider
 * transcript test: calling /v1 with every answer checked against OpenAI's schema, folding streams back into
 * messages, computing costs from list prices restated in the tests, and checking what was billed.
 */

export type Body = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------
// Money

/** List prices in nano-USD per million tokens ($1/M = 1_000_000_000n), restated by each test from the catalog. */
export interface ListPrices {
  input: bigint;
  output: bigint;
  cacheRead: bigint;
  cacheWrite?: bigint;
}

export interface Tokens {
  /** All prompt tokens, cached ones and cache writes included (OpenAI's convention). */
  prompt: number;
  completion: number;
  cached?: number;
  cacheWrite?: number;
  reasoning?: number;
}

/** The cost of one call, computed here: an exact sum per million tokens, then one rounding up to a nano-dollar. */
export function costNano(tokens: Tokens, prices: ListPrices): bigint {
  const cached = BigInt(tokens.cached ?? 0);
  const cacheWrite = BigInt(tokens.cacheWrite ?? 0);
  const uncached = BigInt(tokens.prompt) - cached - cacheWrite;
  const scaled =
    uncached * prices.input +
    cached * prices.cacheRead +
    cacheWrite * (prices.cacheWrite ?? prices.input) +
    BigInt(tokens.completion) * prices.output;
  return (scaled + 999_999n) / 1_000_000n;
}

/** `usage.cost` as a client reads it: costs here are far below 2^53, so this is the double nearest the exact amount. */
export function costUsd(nano: bigint): number {
  return Number(nano) / 1e9;
}

/**
 * The usage fields a client must see for these counts, for `toMatchObject` (other fields the upstream reported may
 * ride along, at the top level and in the details).
 */
export function expectedUsage(tokens: Tokens, prices: ListPrices): Body {
  return {
    prompt_tokens: tokens.prompt,
    completion_tokens: tokens.completion,
    total_tokens: tokens.prompt + tokens.completion,
    prompt_tokens_details: { cached_tokens: tokens.cached ?? 0, cache_write_tokens: tokens.cacheWrite ?? 0 },
    completion_tokens_details: { reasoning_tokens: tokens.reasoning ?? 0 },
    cost: costUsd(costNano(tokens, prices)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Calling /v1

export interface Called {
  status: number;
  headers: Headers;
  completion: Body | null;
  /** Every streamed chunk but the in-band error chunk, each already checked against OpenAI's chunk schema. */
  chunks: Body[];
  /** The chunk that ended a stream which failed after its first byte, checked by its own rule. */
  errorChunk: Body | null;
  errorBody: Body | null;
}

export function parseSseData(text: string): string[] {
  const data: string[] = [];
  const parser = createParser({ onEvent: (event) => data.push(event.data) });
  parser.feed(text);
  parser.feed("\n\n");
  return data;
}

/**
 * The gateway's one chunk outside OpenAI's schema: a stream that fails after its first byte ends with a chunk whose
 * only choice finishes with "error" (OpenRouter's convention) and which carries an OpenAI error object.
 */
export function expectInBandErrorChunk(chunk: Body): void {
  const { choices, error, ...rest } = chunk;
  assertMatchesOpenAISpec("chunk", { ...rest, choices: [] });
  expect(choices).toEqual([{ index: 0, delta: {}, finish_reason: "error" }]);
  const { message, type, code, ...more } = error as Body;
  expect(more).toEqual({});
  expect(typeof message).toBe("string");
  expect(typeof type).toBe("string");
  expect(code === null || typeof code === "string").toBe(true);
}

/** One call through the production entry as any HTTP client makes it; everything that comes back is validated. */
export async function callGateway(harness: GatewayHarness, apiKey: string, body: Body): Promise<Called> {
  const response = await fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const raw = await response.text();
  const base = { status: response.status, headers: response.headers, completion: null, chunks: [], errorChunk: null };
  if (response.status !== 200) {
    const errorBody = JSON.parse(raw) as Body;
    assertMatchesOpenAISpec("error", errorBody);
    return { ...base, errorBody };
  }
  if (body.stream !== true) {
    const completion = JSON.parse(raw) as Body;
    assertMatchesOpenAISpec("response", completion);
    return { ...base, completion, errorBody: null };
  }
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const data = parseSseData(raw);
  expect(data.at(-1)).toBe("[DONE]");
  const all = data.slice(0, -1).map((text) => JSON.parse(text) as Body);
  const chunks: Body[] = [];
  let errorChunk: Body | null = null;
  for (const [position, chunk] of all.entries()) {
    if (chunk.error !== undefined) {
      // Only ever the last one.
      expect(position).toBe(all.length - 1);
      expectInBandErrorChunk(chunk);
      errorChunk = chunk;
      continue;
    }
    assertMatchesOpenAISpec("chunk", chunk);
    chunks.push(chunk);
  }
  return { ...base, chunks, errorChunk, errorBody: null };
}

// ---------------------------------------------------------------------------------------------------------------
// Folding answers into comparable messages

export interface ToolCallSeen {
  id: string | undefined;
  type: string | undefined;
  name: string | undefined;
  arguments: string;
  /** How many deltas named the call: OpenAI's clients expect exactly one (the first). */
  namedTimes: number;
}

export interface ChoiceSeen {
  role: string | undefined;
  /** null when no content came at all (a non-streamed null, or a stream without a content delta). */
  content: string | null;
  refusal: string | null;
  reasoning: string | null;
  toolCalls: ToolCallSeen[];
  finishReasons: string[];
  nativeFinishReasons: unknown[];
}

function emptyChoice(): ChoiceSeen {
  return {
    role: undefined,
    content: null,
    refusal: null,
    reasoning: null,
    toolCalls: [],
    finishReasons: [],
    nativeFinishReasons: [],
  };
}

function append(previous: string | null, next: unknown): string | null {
  return typeof next === "string" ? (previous ?? "") + next : previous;
}

/** Folds chunks the way OpenAI's SDKs do: by choice index, text concatenated, tool calls by their own index. */
export function accumulate(chunks: readonly Body[]): { choices: ChoiceSeen[]; usage: Body | null } {
  const choices: ChoiceSeen[] = [];
  let usage: Body | null = null;
  for (const chunk of chunks) {
    if (chunk.usage !== undefined && chunk.usage !== null) usage = chunk.usage as Body;
    for (const choice of chunk.choices as Body[]) {
      const seen = (choices[choice.index as number] ??= emptyChoice());
      const delta = (choice.delta ?? {}) as Body;
      if (typeof delta.role === "string") seen.role ??= delta.role;
      seen.content = append(seen.content, delta.content);
      seen.refusal = append(seen.refusal, delta.refusal);
      seen.reasoning = append(seen.reasoning, delta.reasoning);
      for (const call of (delta.tool_calls as Body[] | undefined) ?? []) {
        const fn = (call.function ?? {}) as Body;
        const known = (seen.toolCalls[call.index as number] ??= {
          id: undefined,
          type: undefined,
          name: undefined,
          arguments: "",
          namedTimes: 0,
        });
        if (typeof call.id === "string") known.id ??= call.id;
        if (typeof call.type === "string") known.type ??= call.type;
        if (typeof fn.name === "string") {
          known.name ??= fn.name;
          known.namedTimes += 1;
        }
        if (typeof fn.arguments === "string") known.arguments += fn.arguments;
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        seen.finishReasons.push(choice.finish_reason as string);
        seen.nativeFinishReasons.push(choice.native_finish_reason);
      }
    }
  }
  return { choices, usage };
}

/** A non-streamed completion in the same shape as a folded stream. */
export function fromCompletion(completion: Body): { choices: ChoiceSeen[]; usage: Body | null } {
  const choices = (completion.choices as Body[]).map((choice): ChoiceSeen => {
    const message = choice.message as Body;
    return {
      role: message.role as string,
      content: (message.content as string | null | undefined) ?? null,
      refusal: (message.refusal as string | null | undefined) ?? null,
      reasoning: (message.reasoning as string | null | undefined) ?? null,
      toolCalls: ((message.tool_calls as Body[] | undefined) ?? []).map((call) => {
        const fn = call.function as Body;
        return {
          id: call.id as string,
          type: call.type as string,
          name: fn.name as string,
          arguments: fn.arguments as string,
          namedTimes: 1,
        };
      }),
      finishReasons: [choice.finish_reason as string],
      nativeFinishReasons: [choice.native_finish_reason],
    };
  });
  return { choices, usage: (completion.usage as Body | null | undefined) ?? null };
}

/**
 * The frame of one stream: the gateway's id and public model on every chunk, each choice opened with the assistant
 * role and finished once, usage on the last finish chunk and, when the client asked, on one trailing choices:[]
 * chunk; nowhere else. `includeUsage: null` leaves the trailing chunk unchecked but still requires that, if it is
 * there, it repeats the finish chunk's usage.
 */
export function expectStreamFrame(chunks: Body[], model: string, includeUsage: boolean | null, choiceCount = 1): void {
  expect(new Set(chunks.map((chunk) => chunk.id))).toEqual(new Set([chunks[0]?.id]));
  expect(chunks[0]?.id).toMatch(/^gen-/);
  for (const chunk of chunks) expect(chunk.model).toBe(model);
  const opened = new Map<number, Body>();
  for (const chunk of chunks) {
    for (const choice of chunk.choices as Body[]) {
      if (!opened.has(choice.index as number)) opened.set(choice.index as number, choice.delta as Body);
    }
  }
  expect(opened.size).toBe(choiceCount);
  for (const delta of opened.values()) expect(delta.role).toBe("assistant");
  const usageOnly = chunks.filter((chunk) => (chunk.choices as unknown[]).length === 0);
  if (includeUsage !== null) expect(usageOnly).toHaveLength(includeUsage ? 1 : 0);
  expect(usageOnly.length).toBeLessThanOrEqual(1);
  const finishing = chunks.filter((chunk) => (chunk.choices as Body[]).some((choice) => choice.finish_reason !== null));
  expect(finishing).toHaveLength(choiceCount);
  const lastFinish = finishing.at(-1);
  // The usage goes out once, on the last chunk: the usage chunk when there is one (every other chunk then says
  // `usage: null`), else the last finish.
  const withUsage = chunks.filter((chunk) => chunk.usage !== undefined && chunk.usage !== null);
  expect(withUsage).toEqual(usageOnly.length === 1 ? [usageOnly[0]] : [lastFinish]);
  expect(chunks.at(-1)).toBe(withUsage[0]);
  if (usageOnly.length === 1) {
    for (const chunk of chunks.slice(0, -1)) expect(chunk).toHaveProperty("usage", null);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Billing

export interface BilledExpectation {
  id: unknown;
  tokens: Tokens | null;
  prices: ListPrices;
  streamed: boolean;
  finishReason: string | null;
  httpStatus?: number;
}

/** One generation row and, unless it cost nothing, exactly one debit of exactly its cost, through the ledger. */
export async function expectBilledOnce(
  harness: GatewayHarness,
  userId: string,
  before: bigint,
  expected: BilledExpectation,
  extra: Body = {},
): Promise<bigint> {
  const { db, usageWriter } = harness.container;
  await usageWriter.flush();
  const cost = expected.tokens === null ? 0n : costNano(expected.tokens, expected.prices);
  const tokens = expected.tokens ?? { prompt: 0, completion: 0 };
  const rows = await generationsOf(db, userId);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    id: expected.id,
    streamed: expected.streamed,
    finishReason: expected.finishReason,
    httpStatus: expected.httpStatus ?? 200,
    promptTokens: tokens.prompt,
    completionTokens: tokens.completion,
    cachedTokens: tokens.cached ?? 0,
    cacheWriteTokens: tokens.cacheWrite ?? 0,
    reasoningTokens: tokens.reasoning ?? 0,
    costNano: cost,
    ...extra,
  });
  expect(await balanceOf(db, userId)).toBe(before - cost);
  const debits = (await ledgerOf(db, userId)).filter((entry) => entry.kind === "usage");
  expect(debits).toEqual(cost === 0n ? [] : [expect.objectContaining({ externalId: expected.id, amountNano: -cost })]);
  await expectLedgerConsistent(db, userId);
  return cost;
}

// ---------------------------------------------------------------------------------------------------------------
// A scripted upstream, for shapes no recording has

export interface ScriptedAnswer {
  status?: number;
  contentType?: string;
  /** The whole body, or the events of a stream written one by one. */
  body: string | string[];
}

export interface ScriptedUpstream {
  /** `http://127.0.0.1:<port>` followed by `prefix`. */
  baseUrl: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/** A local HTTP server whose answer to each request is chosen by `answer`, from the request it received. */
export async function startScriptedUpstream(
  prefix: string,
  answer: (request: ReceivedRequest) => ScriptedAnswer,
): Promise<ScriptedUpstream> {
  const received: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const entry: ReceivedRequest = {
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: JSON.parse(Buffer.concat(parts).toString("utf8")) as unknown,
      };
      received.push(entry);
      let scripted: ScriptedAnswer;
      try {
        scripted = answer(entry);
      } catch (error) {
        response.writeHead(500, { "content-type": "text/plain" }).end(String(error));
        return;
      }
      const { status = 200, contentType = "application/json", body } = scripted;
      response.writeHead(status, { "content-type": contentType });
      if (typeof body === "string") {
        response.end(body);
        return;
      }
      // Event by event, each in its own write, so the gateway's SSE parsing sees them arrive apart.
      const events = [...body];
      const writeNext = () => {
        const next = events.shift();
        if (next === undefined) {
          response.end();
          return;
        }
        response.write(next);
        setImmediate(writeNext);
      };
      writeNext();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${prefix}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
