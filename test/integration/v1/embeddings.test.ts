import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { countTokens } from "gpt-tokenizer";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "~/server/db/schema";
import { nanoToUsdNumber, parseUsdToNano } from "~/server/gateway/billing/money";
import { addChannel } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { loadOpenApiComponents, type OpenApiComponents } from "../../helpers/openapi-components";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";

/*
 * POST /v1/embeddings with the official `openai` SDK, unmodified, against the production entry and local upstreams.
 * No recording of an embeddings call exists in ../shared/fixtures/upstream: the upstreams below answer as OpenAI's
 * embeddings API (`{object: "list", data: [{object: "embedding", index, embedding}], model, usage}`, the vectors as
 * numbers, or base64 of little-endian float32 when `encoding_format: "base64"` is asked) and Gemini's
 * `batchEmbedContents` (`{embeddings: [{values}]}`, no token count) document them, with 8-dimension vectors.
 * Every call's reported cost is checked against its ledger debit to the nano-dollar.
 */

type Body = Record<string, unknown>;

const SMALL = "openai/text-embedding-3-small";
const LARGE = "openai/text-embedding-3-large";
const ADA = "openai/text-embedding-ada-002";
const GEMINI = "google/gemini-embedding-001";
/** Catalog list prices in nano-USD per input token ($0.02/M = 20). */
const PRICE_PER_TOKEN = { [SMALL]: 20n, [LARGE]: 130n, [GEMINI]: 150n } as const;
/** What the OpenAI-shaped upstream reports per input. */
const TOKENS_PER_INPUT = 7;

/** Eight values that float32 cannot hold exactly: a float answer must reach the client as these very numbers. */
const BASE_VECTOR = [
  0.0023064255, -0.009327292, 0.015797347, -0.0077780345, -0.0046428595, 0.0012345678, 0.031415926, -0.02718281,
];

function vectorFor(index: number, dimensions = BASE_VECTOR.length): number[] {
  return BASE_VECTOR.slice(0, dimensions).map((value) => value + index / 8);
}

/** Little-endian float32 as base64, written here independently of the gateway's encoder. */
function float32Base64(values: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((value, index) => view.setFloat32(index * 4, value, true));
  return Buffer.from(view.buffer).toString("base64");
}

function decodeFloat32Base64(text: string): number[] {
  const bytes = Buffer.from(text, "base64");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, index) => view.getFloat32(index * 4, true));
}

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Body;
}

interface Upstream {
  baseUrl: string;
  received: Received[];
  close(): Promise<void>;
}

/** A local upstream that records each request and answers what `answer` makes of it. */
async function startUpstream(answer: (request: Received) => { status: number; body: unknown }): Promise<Upstream> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const entry: Received = {
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: JSON.parse(Buffer.concat(parts).toString("utf8")) as Body,
      };
      received.push(entry);
      const { status, body } = answer(entry);
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function inputsOf(body: Body): unknown[] {
  const input = body.input;
  if (typeof input === "string") return [input];
  return Array.isArray(input) && typeof input[0] === "number" ? [input] : (input as unknown[]);
}

/** OpenAI's embeddings answer: base64 when asked, numbers otherwise; `usage.prompt_tokens` counted by "OpenAI". */
function openAIAnswer({ body }: Received): { status: number; body: unknown } {
  const inputs = inputsOf(body);
  const dimensions = typeof body.dimensions === "number" ? body.dimensions : undefined;
  return {
    status: 200,
    body: {
      object: "list",
      data: inputs.map((_, index) => {
        const vector = vectorFor(index, dimensions);
        return {
          object: "embedding",
          index,
          embedding: body.encoding_format === "base64" ? float32Base64(vector) : vector,
        };
      }),
      model: body.model,
      usage: { prompt_tokens: TOKENS_PER_INPUT * inputs.length, total_tokens: TOKENS_PER_INPUT * inputs.length },
    },
  };
}

/** Gemini's batchEmbedContents answer: numbers only, one per request of the batch, and no token count. */
function geminiAnswer({ body }: Received): { status: number; body: unknown } {
  const requests = body.requests as { outputDimensionality?: number }[];
  return {
    status: 200,
    body: {
      embeddings: requests.map((request, index) => ({ values: vectorFor(index, request.outputDimensionality) })),
    },
  };
}

let harness: GatewayHarness;
let openaiUpstream: Upstream;
let geminiUpstream: Upstream;
let overloadedUpstream: Upstream;
let openApi: OpenApiComponents;

beforeAll(async () => {
  harness = await startGatewayHarness({ env: { CIRCUIT_BREAKER_FAILURES: "1000" } });
  openApi = await loadOpenApiComponents(harness.baseUrl);
  openaiUpstream = await startUpstream(openAIAnswer);
  geminiUpstream = await startUpstream(geminiAnswer);
  overloadedUpstream = await startUpstream(() => ({
    status: 503,
    body: { error: { message: "The server is overloaded.", type: "server_error", param: null, code: null } },
  }));
  const { db, secretBox, changes } = harness.container;
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai",
      name: "openai-embeddings",
      baseUrl: `${openaiUpstream.baseUrl}/v1`,
      apiKey: "sk-openai-test",
      models: [{ modelId: SMALL, upstreamModel: "text-embedding-3-small" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "gemini",
      name: "gemini-embeddings",
      // The Gemini SDKs' form, without the version: the adapter adds /v1beta.
      baseUrl: geminiUpstream.baseUrl,
      apiKey: "gm-test-key",
      models: [{ modelId: GEMINI, upstreamModel: "gemini-embedding-001" }],
    },
    TEST_ACTOR,
  );
  // LARGE: a primary channel that is overloaded, and a second one that answers.
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai-compatible",
      name: "overloaded",
      provider: "overloaded",
      baseUrl: `${overloadedUpstream.baseUrl}/v1`,
      apiKey: "sk-overloaded",
      priority: 10,
      models: [{ modelId: LARGE, upstreamModel: "text-embedding-3-large" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai-compatible",
      name: "backup",
      provider: "backup",
      baseUrl: `${openaiUpstream.baseUrl}/v1`,
      apiKey: "sk-backup",
      models: [{ modelId: LARGE, upstreamModel: "text-embedding-3-large" }],
    },
    TEST_ACTOR,
  );
  // An operator's mistake: an embedding model served only by a provider that makes no embeddings.
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "anthropic",
      name: "anthropic-only",
      baseUrl: `${overloadedUpstream.baseUrl}/v1`,
      apiKey: "sk-ant",
      models: [{ modelId: ADA, upstreamModel: "text-embedding-ada-002" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  await openaiUpstream?.close();
  await geminiUpstream?.close();
  await overloadedUpstream?.close();
  await harness?.stop();
});

const client = (apiKey: string) => new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 });

function post(path: string, apiKey: string, body: Body): Promise<Response> {
  return fetch(`${harness.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
}

function expectMatchesComponent(component: string, value: unknown): void {
  openApi.expectMatches(component, value);
}

/** The call's debit: `costNano` taken from the balance through the ledger, once (none for a free call). */
async function expectDebited(userId: string, fundedUsd: string, costNano: bigint): Promise<void> {
  await harness.container.usageWriter.flush();
  expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano(fundedUsd) - costNano);
  const debits = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
  expect(debits.map((entry) => entry.amountNano)).toEqual(costNano === 0n ? [] : [-costNano]);
  await expectLedgerConsistent(harness.container.db, userId);
}

/** `usage.cost` (USD) in nano-USD: the double nearest a nine-decimal amount, read back to those nine decimals. */
function reportedCostNano(usage: unknown): bigint {
  const cost = (usage as { cost?: number }).cost;
  expect(cost).toEqual(expect.any(Number));
  const nano = parseUsdToNano(cost!.toFixed(9));
  // Nothing beyond the nano-dollar: the number is exactly the nearest double to that amount.
  expect(nanoToUsdNumber(nano)).toBe(cost);
  return nano;
}

async function onlyGeneration(userId: string) {
  await harness.container.usageWriter.flush();
  const rows = await generationsOf(harness.container.db, userId);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe("POST /v1/embeddings on an OpenAI channel", () => {
  it("answers the SDK's default (base64) request for one text with the upstream's vectors, billed exactly", async () => {
    const user = await harness.createFundedUser("1");
    const { data: answer, response } = await client(user.apiKey)
      .embeddings.create({ model: SMALL, input: "The food was delicious and the waiter..." })
      .withResponse();

    // What OpenAI received: the SDK's body with the upstream model, the channel's key.
    const sent = openaiUpstream.received.at(-1)!;
    expect(sent.method).toBe("POST");
    expect(sent.url).toBe("/v1/embeddings");
    expect(sent.headers.authorization).toBe("Bearer sk-openai-test");
    expect(sent.headers["content-type"]).toBe("application/json");
    expect(sent.body).toEqual({
      model: "text-embedding-3-small",
      input: "The food was delicious and the waiter...",
      encoding_format: "base64",
    });

    // The SDK decoded the base64 the gateway passed on: exactly the float32 values the upstream encoded.
    expect(answer.object).toBe("list");
    expect(answer.model).toBe(SMALL);
    expect(answer.data).toHaveLength(1);
    expect(answer.data[0]).toMatchObject({ object: "embedding", index: 0 });
    expect(answer.data[0]!.embedding).toEqual(decodeFloat32Base64(float32Base64(vectorFor(0))));
    expect(answer.usage).toMatchObject({ prompt_tokens: TOKENS_PER_INPUT, total_tokens: TOKENS_PER_INPUT });

    const cost = BigInt(TOKENS_PER_INPUT) * PRICE_PER_TOKEN[SMALL];
    expect(reportedCostNano(answer.usage)).toBe(cost);
    await expectDebited(user.userId, "1", cost);

    const generation = await onlyGeneration(user.userId);
    expect(generation).toMatchObject({
      modelId: SMALL,
      provider: "openai",
      upstreamModel: "text-embedding-3-small",
      streamed: false,
      cancelled: false,
      httpStatus: 200,
      promptTokens: TOKENS_PER_INPUT,
      completionTokens: 0,
      reasoningTokens: 0,
      billingStatus: "exact",
      costNano: cost,
      attempts: null,
    });
    expect(response.headers.get("x-generation-id")).toBe(generation.id);
    expect(response.headers.get("x-request-id")).toMatch(/^req-/);
    expect(response.headers.get("x-tollgate-provider")).toBe("openai");
    expect(response.headers.get("x-tollgate-model")).toBe(SMALL);
    expect(response.headers.get("x-ratelimit-limit-requests")).toBe("2147483647");
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("2147483647");
  });

  it("answers floats exactly as the upstream sent them for an array input with dimensions", async () => {
    const user = await harness.createFundedUser("1");
    const inputs = ["first document", "second document", "third document"];
    const answer = await client(user.apiKey).embeddings.create({
      model: SMALL,
      input: inputs,
      dimensions: 4,
      encoding_format: "float",
      user: "end-user-1",
    });
    expect(openaiUpstream.received.at(-1)!.body).toEqual({
      model: "text-embedding-3-small",
      input: inputs,
      dimensions: 4,
      encoding_format: "float",
      user: "end-user-1",
    });
    expect(answer.data.map((item) => item.index)).toEqual([0, 1, 2]);
    // Not rounded to float32 on the way: the very numbers the upstream wrote.
    expect(answer.data.map((item) => item.embedding)).toEqual([vectorFor(0, 4), vectorFor(1, 4), vectorFor(2, 4)]);
    expect(answer.data[0]!.embedding).not.toEqual(vectorFor(0, 4).map((value) => Math.fround(value)));
    const cost = BigInt(TOKENS_PER_INPUT * inputs.length) * PRICE_PER_TOKEN[SMALL];
    expect(reportedCostNano(answer.usage)).toBe(cost);
    await expectDebited(user.userId, "1", cost);
  });

  it("answers base64 to a client that asks for it, in the documented shape", async () => {
    const user = await harness.createFundedUser("1");
    const response = await post("/embeddings", user.apiKey, {
      model: SMALL,
      input: ["a", "b"],
      encoding_format: "base64",
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { embedding: string }[]; usage: unknown };
    expectMatchesComponent("EmbeddingList", body);
    expect(body.data.map((item) => item.embedding)).toEqual([float32Base64(vectorFor(0)), float32Base64(vectorFor(1))]);
    await expectDebited(user.userId, "1", reportedCostNano(body.usage));
  });

  it("passes token ids to an OpenAI-compatible upstream as they are", async () => {
    const user = await harness.createFundedUser("1");
    const input = [
      [9906, 1917],
      [15339, 11, 1917, 0],
    ];
    const answer = await client(user.apiKey).embeddings.create({ model: SMALL, input, encoding_format: "float" });
    expect(openaiUpstream.received.at(-1)!.body).toEqual({
      model: "text-embedding-3-small",
      input,
      encoding_format: "float",
    });
    expect(answer.data).toHaveLength(2);
    await expectDebited(user.userId, "1", BigInt(TOKENS_PER_INPUT * 2) * PRICE_PER_TOKEN[SMALL]);
  });
});

describe("POST /v1/embeddings on a Gemini channel", () => {
  it("sends batchEmbedContents and answers the SDK's base64 request, billed from the tokenizer's count", async () => {
    const user = await harness.createFundedUser("1");
    const inputs = ["What is the meaning of life?", "How do I bake a cake?"];
    const answer = await client(user.apiKey).embeddings.create({ model: GEMINI, input: inputs, dimensions: 8 });

    const sent = geminiUpstream.received.at(-1)!;
    expect(sent.method).toBe("POST");
    expect(sent.url).toBe("/v1beta/models/gemini-embedding-001:batchEmbedContents");
    expect(sent.headers["x-goog-api-key"]).toBe("gm-test-key");
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toEqual({
      requests: inputs.map((text) => ({
        model: "models/gemini-embedding-001",
        content: { parts: [{ text }] },
        outputDimensionality: 8,
      })),
    });

    // Gemini answered numbers; the gateway encoded them as float32 for the SDK, which decoded them.
    expect(answer.data.map((item) => item.embedding)).toEqual([
      vectorFor(0).map((value) => Math.fround(value)),
      vectorFor(1).map((value) => Math.fround(value)),
    ]);
    // Gemini reports no count: the inputs counted with the gateway's tokenizer, billed as an estimate.
    const tokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
    expect(answer.usage).toMatchObject({ prompt_tokens: tokens, total_tokens: tokens });
    const cost = BigInt(tokens) * PRICE_PER_TOKEN[GEMINI];
    expect(reportedCostNano(answer.usage)).toBe(cost);
    await expectDebited(user.userId, "1", cost);
    expect(await onlyGeneration(user.userId)).toMatchObject({
      modelId: GEMINI,
      provider: "google",
      promptTokens: tokens,
      completionTokens: 0,
      streamed: false,
      billingStatus: "estimated",
      costNano: cost,
    });
  });

  it("answers Gemini's numbers as they are to a client that asks for floats", async () => {
    const user = await harness.createFundedUser("1");
    const answer = await client(user.apiKey).embeddings.create({
      model: GEMINI,
      input: "one text",
      encoding_format: "float",
    });
    expect(answer.data.map((item) => item.embedding)).toEqual([vectorFor(0)]);
    expect(geminiUpstream.received.at(-1)!.body).toEqual({
      requests: [{ model: "models/gemini-embedding-001", content: { parts: [{ text: "one text" }] } }],
    });
  });

  it("refuses token ids with a 400 before anything is held, sent or billed", async () => {
    const user = await harness.createFundedUser("1");
    const sentBefore = geminiUpstream.received.length;
    const response = await post("/embeddings", user.apiKey, { model: GEMINI, input: [1, 2, 3] });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { param: string; code: string; message: string } };
    expect(error).toMatchObject({ param: "input", code: "token_input_not_supported" });
    expect(error.message).toContain("send `input` as text");
    expect(geminiUpstream.received).toHaveLength(sentBefore);
    expect(await generationsOf(harness.container.db, user.userId)).toEqual([]);
    await expectDebited(user.userId, "1", 0n);
  });
});

describe("failover, balance and model checks", () => {
  it("fails over from an overloaded (503) channel to the next, and bills the one that answered", async () => {
    const user = await harness.createFundedUser("1");
    const overloadedBefore = overloadedUpstream.received.length;
    const { data: answer, response } = await client(user.apiKey)
      .embeddings.create({ model: LARGE, input: "fail over, please", encoding_format: "float" })
      .withResponse();
    expect(overloadedUpstream.received).toHaveLength(overloadedBefore + 1);
    expect(overloadedUpstream.received.at(-1)!.headers.authorization).toBe("Bearer sk-overloaded");
    const sent = openaiUpstream.received.at(-1)!;
    expect(sent.headers.authorization).toBe("Bearer sk-backup");
    expect(sent.body).toEqual({
      model: "text-embedding-3-large",
      input: "fail over, please",
      encoding_format: "float",
    });
    expect(answer.data[0]!.embedding).toEqual(vectorFor(0));
    expect(response.headers.get("x-tollgate-attempts")).toBe("2");
    expect(response.headers.get("x-tollgate-channel")).toBe("backup");

    const cost = BigInt(TOKENS_PER_INPUT) * PRICE_PER_TOKEN[LARGE];
    expect(reportedCostNano(answer.usage)).toBe(cost);
    await expectDebited(user.userId, "1", cost);
    const generation = await onlyGeneration(user.userId);
    expect(generation).toMatchObject({ provider: "backup", billingStatus: "exact", costNano: cost });
    expect(generation.attempts?.map(({ channelName, status }) => ({ channelName, status }))).toEqual([
      { channelName: "overloaded", status: 503 },
      { channelName: "backup", status: 200 },
    ]);
  });

  it("follows the request's provider preferences, and refuses preferences that exclude every provider", async () => {
    const user = await harness.createFundedUser("1");
    const overloadedBefore = overloadedUpstream.received.length;
    const only = await post("/embeddings", user.apiKey, { model: LARGE, input: "x", provider: { only: ["backup"] } });
    expect(only.status).toBe(200);
    expect(only.headers.get("x-tollgate-attempts")).toBe("1");
    expect(overloadedUpstream.received).toHaveLength(overloadedBefore);
    // The routing field stays in the gateway.
    expect(openaiUpstream.received.at(-1)!.body).not.toHaveProperty("provider");
    const none = await post("/embeddings", user.apiKey, { model: LARGE, input: "x", provider: { only: ["nobody"] } });
    expect(none.status).toBe(400);
    expect(((await none.json()) as { error: unknown }).error).toMatchObject({
      param: "provider.only",
      code: "no_provider_matches",
    });
  });

  it("refuses a call the balance cannot cover with 402, sending and billing nothing", async () => {
    const user = await harness.createFundedUser("0");
    const sentBefore = openaiUpstream.received.length;
    const refused = await client(user.apiKey)
      .embeddings.create({ model: SMALL, input: "no credit" })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect(refused).toMatchObject({ status: 402, code: "insufficient_credits" });
    expect(openaiUpstream.received).toHaveLength(sentBefore);
    expect(await generationsOf(harness.container.db, user.userId)).toEqual([]);
    await expectDebited(user.userId, "0", 0n);
  });

  it("refuses a chat model on /v1/embeddings and an embedding model on /v1/chat/completions with a 400", async () => {
    const user = await harness.createFundedUser("1");
    const chatModel = await post("/embeddings", user.apiKey, { model: "tollgate/echo", input: "hello" });
    expect(chatModel.status).toBe(400);
    expect(chatModel.headers.get("x-ratelimit-limit-requests")).not.toBeNull();
    expect(((await chatModel.json()) as { error: unknown }).error).toMatchObject({
      type: "invalid_request_error",
      param: "model",
      code: "not_an_embedding_model",
      message: expect.stringContaining("`tollgate/echo` is not an embedding model") as unknown,
    });

    const embeddingModel = await post("/chat/completions", user.apiKey, {
      model: SMALL,
      messages: [{ role: "user", content: "hello" }],
    });
    expect(embeddingModel.status).toBe(400);
    expect(((await embeddingModel.json()) as { error: unknown }).error).toMatchObject({
      type: "invalid_request_error",
      param: "model",
      code: "not_a_chat_model",
      message: expect.stringContaining(`\`${SMALL}\` is an embedding model: call it on POST /v1/embeddings`) as unknown,
    });
    // Nor as a fallback.
    const fallback = await post("/chat/completions", user.apiKey, {
      model: "tollgate/echo",
      models: [SMALL],
      messages: [{ role: "user", content: "hello" }],
    });
    expect(fallback.status).toBe(400);
    expect(((await fallback.json()) as { error: unknown }).error).toMatchObject({
      param: "models[0]",
      code: "not_a_chat_model",
    });
    await expectDebited(user.userId, "1", 0n);
  });

  it("refuses an embedding model whose only providers make no embeddings", async () => {
    const user = await harness.createFundedUser("1");
    const response = await post("/embeddings", user.apiKey, { model: ADA, input: "hello" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({
      param: "model",
      code: "embeddings_not_supported",
      message: expect.stringContaining("only by providers that make no embeddings (anthropic)") as unknown,
    });
  });

  it("refuses `dimensions` a model cannot honour, and a bad input, with a 400 naming the field", async () => {
    const user = await harness.createFundedUser("1");
    const tooLong = await post("/embeddings", user.apiKey, { model: SMALL, input: "x", dimensions: 4096 });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: unknown }).error).toMatchObject({ param: "dimensions" });
    const empty = await post("/embeddings", user.apiKey, { model: SMALL, input: "" });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: unknown }).error).toMatchObject({ param: "input" });
  });
});

describe("rate limits and the model list", () => {
  it("counts embeddings against the key's limits and says so in the headers", async () => {
    const user = await harness.createFundedUser("1");
    await harness.container.db
      .update(apiKeys)
      .set({ requestsPerMinute: 5, tokensPerMinute: 1_000 })
      .where(eq(apiKeys.id, user.apiKeyId));
    const first = await post("/embeddings", user.apiKey, { model: SMALL, input: "count me" });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("5");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("4");
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("1000");
    const second = await post("/embeddings", user.apiKey, { model: SMALL, input: "and me" });
    expect(second.headers.get("x-ratelimit-remaining-requests")).toBe("3");
    // The first call's input tokens were recorded against the minute's token limit.
    expect(Number(second.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(1_000);
  });

  it("lists embedding models with their modality and vector length", async () => {
    const user = await harness.createFundedUser("1");
    const response = await fetch(`${harness.baseUrl}/models`, { headers: { authorization: `Bearer ${user.apiKey}` } });
    const list = (await response.json()) as { data: Body[] };
    expectMatchesComponent("ModelList", list);
    const small = list.data.find((model) => model.id === SMALL);
    expect(small).toMatchObject({
      architecture: { input_modalities: ["text"], output_modalities: ["embeddings"] },
      context_length: 8192,
      dimensions: 1536,
      supported_parameters: ["dimensions", "encoding_format", "user"],
      top_provider: { context_length: 8192, max_completion_tokens: null },
      pricing: { prompt: "0.00000002", completion: "0" },
    });
    expect(list.data.find((model) => model.id === GEMINI)).toMatchObject({
      architecture: { output_modalities: ["embeddings"] },
      context_length: 2048,
      dimensions: 3072,
      supported_parameters: ["dimensions", "encoding_format"],
    });
    const echo = list.data.find((model) => model.id === "tollgate/echo");
    expect(echo).not.toHaveProperty("dimensions");
    expect(echo).toMatchObject({ architecture: { output_modalities: ["text"] } });
  });
});
