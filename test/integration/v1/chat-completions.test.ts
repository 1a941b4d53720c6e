import { TEST_ACTOR } from "../../helpers/audit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeCostNano, type TokenPrices } from "~/server/gateway/billing/compute-cost";
import { TEXT_ONLY, tokenPrices } from "../../helpers/prices";
import { nanoToUsdNumber, parseUsdToNano } from "~/server/gateway/billing/money";
import { addChannel } from "~/server/services/channels";
import { fixture } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";

// List prices of the models used here, as in the catalog: the test restates them so a pricing bug cannot hide.
const ECHO_PRICES = tokenPrices({
  inputPriceNano: parseUsdToNano("1"),
  outputPriceNano: parseUsdToNano("2"),
  cacheReadPriceNano: null,
  cacheWritePriceNano: null,
});
const GPT_4O_PRICES = tokenPrices({
  inputPriceNano: parseUsdToNano("2.50"),
  outputPriceNano: parseUsdToNano("10.00"),
  cacheReadPriceNano: parseUsdToNano("1.25"),
  cacheWritePriceNano: null,
});

interface UsageWithCost {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  cost?: number;
}

function expectedCostNano(usage: UsageWithCost, prices: TokenPrices): bigint {
  return computeCostNano(
    {
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    },
    prices,
    TEXT_ONLY,
  );
}

let harness: GatewayHarness;
let upstream: ReplayUpstream;

beforeAll(async () => {
  harness = await startGatewayHarness();
  upstream = await startReplayUpstream();
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "openai-compatible",
      name: "replay",
      provider: "replay",
      baseUrl: upstream.baseUrl,
      apiKey: "sk-upstream-secret",
      models: [{ modelId: "openai/gpt-4o", upstreamModel: "gpt-4o" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  await upstream?.close();
  await harness?.stop();
});

function client(apiKey: string): OpenAI {
  return new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 });
}

describe("the demo model through the production entry", () => {
  it("answers a non-streaming call, prices it exactly and debits exactly that through the ledger", async () => {
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);

    const completion = await client(apiKey).chat.completions.create({
      model: "tollgate/echo",
      messages: [{ role: "user", content: "Hello, gateway" }],
    });

    assertMatchesOpenAISpec("response", completion);
    expect(completion.model).toBe("tollgate/echo");
    expect(completion.choices[0]?.message.content).toBe(
      "Hello from Tollgate's offline demo model. You said: Hello, gateway",
    );
    const usage = completion.usage as UsageWithCost;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    const costNano = expectedCostNano(usage, ECHO_PRICES);
    expect(costNano).toBeGreaterThan(0n);
    expect(usage.cost).toBe(nanoToUsdNumber(costNano));

    await harness.container.usageWriter.flush();
    expect(await balanceOf(harness.container.db, userId)).toBe(before - costNano);
    const usageEntries = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
    expect(usageEntries).toHaveLength(1);
    expect(usageEntries[0]).toMatchObject({ externalId: completion.id, amountNano: -costNano });
    const rows = await generationsOf(harness.container.db, userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: completion.id,
      modelId: "tollgate/echo",
      streamed: false,
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      costNano,
      httpStatus: 200,
    });
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("streams chunks that each match OpenAI's schema, ending with usage and cost", async () => {
    const { userId, apiKey } = await harness.createFundedUser("5");
    const stream = await client(apiKey).chat.completions.create({
      model: "tollgate/echo",
      messages: [{ role: "user", content: "stream me" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) {
      assertMatchesOpenAISpec("chunk", chunk);
      chunks.push(chunk);
    }
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("Hello from Tollgate's offline demo model. You said: stream me");
    const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason === "stop");
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    const usage = last?.usage as UsageWithCost;
    const costNano = expectedCostNano(usage, ECHO_PRICES);
    expect(usage.cost).toBe(nanoToUsdNumber(costNano));
    // Asked for the extra chunk, the client gets the usage there only: the finish chunk, like every other, says null.
    expect(finish).toHaveProperty("usage", null);
    expect(new Set(chunks.map((chunk) => chunk.id))).toEqual(new Set([chunks[0]?.id]));

    await harness.container.usageWriter.flush();
    const [row] = await generationsOf(harness.container.db, userId);
    expect(row).toMatchObject({ id: chunks[0]?.id, streamed: true, cancelled: false, costNano, finishReason: "stop" });
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("omits the usage-only chunk unless the client asks for it, but still bills", async () => {
    const { userId, apiKey } = await harness.createFundedUser("5");
    const stream = await client(apiKey).chat.completions.create({
      model: "tollgate/echo",
      messages: [{ role: "user", content: "no usage chunk please" }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) {
      assertMatchesOpenAISpec("chunk", chunk);
      chunks.push(chunk);
    }
    expect(chunks.every((chunk) => chunk.choices.length > 0)).toBe(true);
    const finish = chunks.at(-1);
    expect(finish?.choices[0]?.finish_reason).toBe("stop");
    const cost = (finish?.usage as UsageWithCost).cost ?? 0;
    expect(cost).toBeGreaterThan(0);
    await harness.container.usageWriter.flush();
    const [row] = await generationsOf(harness.container.db, userId);
    expect(nanoToUsdNumber(row?.costNano ?? 0n)).toBe(cost);
  });
});

describe("an OpenAI-compatible channel replaying recorded OpenAI traffic", () => {
  it("proxies a non-streaming call and bills the upstream's reported usage", async () => {
    const recorded = fixture("openai/text");
    upstream.respondWith(() => "openai/text");
    const { userId, apiKey } = await harness.createFundedUser("5");
    const requestCount = upstream.received.length;

    const completion = await client(apiKey).chat.completions.create({
      model: "openai/gpt-4o",
      messages: [
        { role: "system", content: "You are a helpful assistant." },
        { role: "user", content: "What is the capital of France?" },
      ],
    });

    assertMatchesOpenAISpec("response", completion);
    expect(completion.choices[0]?.message.content).toBe("The capital of France is Paris.");
    expect(completion.model).toBe("openai/gpt-4o");
    expect(completion.id).toMatch(/^gen-/);
    const recordedUsage = (JSON.parse(recorded.body) as { usage: UsageWithCost }).usage;
    const usage = completion.usage as UsageWithCost;
    expect(usage).toMatchObject({
      prompt_tokens: recordedUsage.prompt_tokens,
      completion_tokens: recordedUsage.completion_tokens,
    });
    const costNano = expectedCostNano(recordedUsage, GPT_4O_PRICES);
    // 24 prompt tokens at $2.50/M + 8 completion tokens at $10/M = 60,000 + 80,000 nano-USD.
    expect(costNano).toBe(140_000n);
    expect(usage.cost).toBe(0.00014);

    const sent = upstream.received[requestCount];
    expect(sent?.url).toBe("/v1/chat/completions");
    expect(sent?.headers.authorization).toBe("Bearer sk-upstream-secret");
    expect(sent?.body).toMatchObject({
      model: "gpt-4o",
      messages: recorded.requestBody && (recorded.requestBody as { messages: unknown }).messages,
    });

    await harness.container.usageWriter.flush();
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("5") - 140_000n);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("streams recorded chunks through, always asking the upstream for usage", async () => {
    upstream.respondWith(() => "openai/text-stream-include-usage");
    const { userId, apiKey } = await harness.createFundedUser("5");
    const requestCount = upstream.received.length;
    const stream = await client(apiKey).chat.completions.create({
      model: "openai/gpt-4o",
      messages: [{ role: "user", content: "What is the capital of Mexico?" }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) {
      assertMatchesOpenAISpec("chunk", chunk);
      chunks.push(chunk);
    }
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(
      "The capital of Mexico is Mexico City.",
    );
    expect(upstream.received[requestCount]?.body).toMatchObject({
      model: "gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
    });
    const finish = chunks.at(-1);
    const usage = finish?.usage as UsageWithCost;
    expect(usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 8 });
    const costNano = expectedCostNano(usage, GPT_4O_PRICES);
    expect(usage.cost).toBe(nanoToUsdNumber(costNano));
    await harness.container.usageWriter.flush();
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("5") - costNano);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it.each([
    "openai/parallel-tool-calls-stream",
    "openai/tool-call-stream-argument-deltas",
    "openai/multiple-choices-n3-stream",
    "openai/refusal-stream",
    "openai/finish-length-stream",
    "openai/logprobs-stream",
  ])("passes %s through chunk by chunk, valid against OpenAI's schema", async (name) => {
    upstream.respondWith(() => name);
    const { apiKey } = await harness.createFundedUser("1");
    const stream = await client(apiKey).chat.completions.create({
      model: "openai/gpt-4o",
      messages: [{ role: "user", content: "replay" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let count = 0;
    for await (const chunk of stream) {
      assertMatchesOpenAISpec("chunk", chunk);
      count += 1;
    }
    expect(count).toBeGreaterThan(1);
  });

  it.each([
    "openai/tool-call-required",
    "openai/json-schema-response-format",
    "openai/refusal",
    "openai/reasoning-model-usage",
  ])("returns %s as a schema-valid completion", async (name) => {
    upstream.respondWith(() => name);
    const { apiKey } = await harness.createFundedUser("1");
    const completion = await client(apiKey).chat.completions.create({
      model: "openai/gpt-4o",
      messages: [{ role: "user", content: "replay" }],
    });
    assertMatchesOpenAISpec("response", completion);
    const recorded = JSON.parse(fixture(name).body) as { choices: { message: unknown }[] };
    expect(completion.choices[0]?.message).toMatchObject(recorded.choices[0]?.message as object);
  });
});
