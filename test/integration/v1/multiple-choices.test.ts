import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogModel as CatalogFileModel } from "~/server/catalog/catalog-file";
import { computeCostNano, type TokenPrices } from "~/server/gateway/billing/compute-cost";
import { TEXT_ONLY, tokenPrices } from "../../helpers/prices";
import { nanoToUsdNumber, parseUsdToNano } from "~/server/gateway/billing/money";
import { importCatalog } from "~/server/services/catalog";
import { addChannel } from "~/server/services/channels";
import { fixture } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";

// List prices restated from the catalog, so that a pricing bug cannot hide behind the code under test.
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

/** A model whose catalog entry says the upstream answers `n` itself, as the built-in OpenAI entries do. */
const NATIVE_N_MODEL: CatalogFileModel = {
  id: "test/gpt-4o-native-n",
  name: "GPT-4o with native n (test)",
  description: "GPT-4o, listed as supporting n.",
  author: "test",
  upstreamModel: "gpt-4o",
  releasedAt: "2024-05-13",
  contextLength: 128_000,
  maxOutputTokens: 16_384,
  inputModalities: ["text"],
  outputModalities: ["text"],
  supportedParameters: ["n", "max_tokens", "temperature", "response_format"],
  pricing: { input: "2.50", output: "10.00", cacheRead: "1.25", cacheWrite: null },
};

/** The same model listed without `n`: its calls with n > 1 are fanned out. */
const ONE_CHOICE_MODEL: CatalogFileModel = {
  ...NATIVE_N_MODEL,
  id: "test/gpt-4o-one-choice",
  name: "GPT-4o without native n (test)",
  description: "GPT-4o, listed as answering one choice per call.",
  supportedParameters: ["max_tokens", "temperature", "response_format"],
};

interface UsageWithCost {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  cost?: number;
}

function costOf(usage: UsageWithCost, prices: TokenPrices): bigint {
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

function echoOf(said: string): string {
  return `Hello from Tollgate's offline demo model. You said: ${said}`;
}

let harness: GatewayHarness;
let upstream: ReplayUpstream;

beforeAll(async () => {
  harness = await startGatewayHarness();
  upstream = await startReplayUpstream();
  await importCatalog(harness.container.db, harness.container.changes, [NATIVE_N_MODEL, ONE_CHOICE_MODEL], TEST_ACTOR);
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
      models: [
        { modelId: ONE_CHOICE_MODEL.id, upstreamModel: "gpt-4o" },
        { modelId: NATIVE_N_MODEL.id, upstreamModel: "gpt-4o" },
      ],
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

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    assertMatchesOpenAISpec("chunk", chunk);
    chunks.push(chunk);
  }
  return chunks;
}

/** Per choice index: its text, whether its first delta named the role, and its finish reasons. */
function choicesOf(chunks: OpenAI.Chat.Completions.ChatCompletionChunk[]) {
  const byIndex = new Map<number, { text: string; firstRole: string | undefined; finishes: string[] }>();
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      let entry = byIndex.get(choice.index);
      if (entry === undefined) {
        entry = { text: "", firstRole: choice.delta.role, finishes: [] };
        byIndex.set(choice.index, entry);
      }
      entry.text += choice.delta.content ?? "";
      if (choice.finish_reason !== null) entry.finishes.push(choice.finish_reason);
    }
  }
  return byIndex;
}

async function usageEntries(userId: string) {
  return (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
}

describe("n > 1 on the demo model (fanned out in-process)", () => {
  const messages = [{ role: "user" as const, content: "three of these" }];

  async function singleCallUsage(): Promise<UsageWithCost> {
    const { apiKey } = await harness.createFundedUser("1");
    const single = await client(apiKey).chat.completions.create({ model: "tollgate/echo", messages });
    return single.usage as UsageWithCost;
  }

  it("merges three copies into one completion: choices 0..2, usage and cost summed, one debit", async () => {
    const single = await singleCallUsage();
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);

    const completion = await client(apiKey).chat.completions.create({ model: "tollgate/echo", messages, n: 3 });

    assertMatchesOpenAISpec("response", completion);
    expect(completion.model).toBe("tollgate/echo");
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    for (const choice of completion.choices) {
      expect(choice.message.content).toBe(echoOf("three of these"));
      expect(choice.finish_reason).toBe("stop");
    }
    const usage = completion.usage as UsageWithCost;
    expect(usage).toMatchObject({
      prompt_tokens: 3 * single.prompt_tokens,
      completion_tokens: 3 * single.completion_tokens,
      total_tokens: 3 * single.total_tokens,
    });
    const costNano = costOf(usage, ECHO_PRICES);
    // Whole nano-dollars per token at these prices: three copies cost exactly three single calls.
    expect(costNano).toBe(3n * costOf(single, ECHO_PRICES));
    expect(usage.cost).toBe(nanoToUsdNumber(costNano));

    await harness.container.usageWriter.flush();
    expect(await balanceOf(harness.container.db, userId)).toBe(before - costNano);
    const entries = await usageEntries(userId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ externalId: completion.id, amountNano: -costNano });
    const rows = await generationsOf(harness.container.db, userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: completion.id,
      streamed: false,
      httpStatus: 200,
      finishReason: "stop",
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      costNano,
    });
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("streams three interleaved choices, each announced and finished, with summed usage at the end", async () => {
    const single = await singleCallUsage();
    const { userId, apiKey } = await harness.createFundedUser("5");
    const before = await balanceOf(harness.container.db, userId);

    const chunks = await collect(
      await client(apiKey).chat.completions.create({
        model: "tollgate/echo",
        messages,
        n: 3,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );

    const choices = choicesOf(chunks);
    expect([...choices.keys()].sort()).toEqual([0, 1, 2]);
    for (const choice of choices.values()) {
      expect(choice).toEqual({ text: echoOf("three of these"), firstRole: "assistant", finishes: ["stop"] });
    }
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);

    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    const usage = last?.usage as UsageWithCost;
    expect(usage).toMatchObject({
      prompt_tokens: 3 * single.prompt_tokens,
      completion_tokens: 3 * single.completion_tokens,
      total_tokens: 3 * single.total_tokens,
    });
    const costNano = costOf(usage, ECHO_PRICES);
    expect(costNano).toBe(3n * costOf(single, ECHO_PRICES));
    expect(usage.cost).toBe(nanoToUsdNumber(costNano));

    // Every choice's finish chunk goes out; the (summed) usage only on the usage chunk asked for, as for native n.
    const finishChunks = chunks.filter((chunk) => chunk.choices.some((choice) => choice.finish_reason !== null));
    expect(finishChunks).toHaveLength(3);
    expect(finishChunks.every((chunk) => chunk.usage === null)).toBe(true);

    await harness.container.usageWriter.flush();
    expect(await balanceOf(harness.container.db, userId)).toBe(before - costNano);
    const entries = await usageEntries(userId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ externalId: last?.id, amountNano: -costNano });
    const rows = await generationsOf(harness.container.db, userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ streamed: true, cancelled: false, finishReason: "stop", costNano });
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("without include_usage, ends with the last finish chunk carrying the summed usage and cost", async () => {
    const single = await singleCallUsage();
    const { userId, apiKey } = await harness.createFundedUser("5");
    const chunks = await collect(
      await client(apiKey).chat.completions.create({ model: "tollgate/echo", messages, n: 2, stream: true }),
    );
    expect(chunks.every((chunk) => chunk.choices.length > 0)).toBe(true);
    const last = chunks.at(-1);
    expect(last?.choices[0]?.finish_reason).toBe("stop");
    const usage = last?.usage as UsageWithCost;
    expect(usage.prompt_tokens).toBe(2 * single.prompt_tokens);
    const costNano = costOf(usage, ECHO_PRICES);
    expect(usage.cost).toBe(nanoToUsdNumber(costNano));
    await harness.container.usageWriter.flush();
    expect(await usageEntries(userId)).toMatchObject([{ amountNano: -costNano }]);
    await expectLedgerConsistent(harness.container.db, userId);
  });
});

describe("n > 1 on an OpenAI-compatible channel", () => {
  it("asks the upstream once with n=3 when the model supports n (native)", async () => {
    upstream.respondWith(() => "openai/multiple-choices-n3-stream");
    const { userId, apiKey } = await harness.createFundedUser("5");
    const requestCount = upstream.received.length;

    const chunks = await collect(
      await client(apiKey).chat.completions.create({
        model: NATIVE_N_MODEL.id,
        messages: [{ role: "user", content: "What's the weather like in SF?" }],
        n: 3,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );

    const sent = upstream.received.slice(requestCount);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toMatchObject({ model: "gpt-4o", n: 3, stream: true });
    const choices = choicesOf(chunks);
    expect([...choices.keys()].sort()).toEqual([0, 1, 2]);
    for (const choice of choices.values()) {
      expect(choice.firstRole).toBe("assistant");
      expect(choice.finishes).toEqual(["stop"]);
      expect(JSON.parse(choice.text)).toMatchObject({ city: expect.any(String) as unknown });
    }
    const usage = chunks.at(-1)?.usage as UsageWithCost;
    // As recorded: one upstream call, one prompt.
    expect(usage).toMatchObject({ prompt_tokens: 79, completion_tokens: 42 });
    const costNano = costOf(usage, GPT_4O_PRICES);
    expect(usage.cost).toBe(nanoToUsdNumber(costNano));
    await harness.container.usageWriter.flush();
    expect(await usageEntries(userId)).toMatchObject([{ amountNano: -costNano }]);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("fans a model without n out into parallel calls without n and merges their answers", async () => {
    upstream.respondWith(() => "openai/text");
    const recordedUsage = (JSON.parse(fixture("openai/text").body) as { usage: UsageWithCost }).usage;
    const { userId, apiKey } = await harness.createFundedUser("5");
    const requestCount = upstream.received.length;

    const completion = await client(apiKey).chat.completions.create({
      model: ONE_CHOICE_MODEL.id,
      messages: [{ role: "user", content: "What is the capital of France?" }],
      n: 2,
      temperature: 0.5,
    });

    const sent = upstream.received.slice(requestCount);
    expect(sent).toHaveLength(2);
    for (const request of sent) {
      expect(request.body).toMatchObject({ model: "gpt-4o", temperature: 0.5 });
      expect(request.body).not.toHaveProperty("n");
    }
    assertMatchesOpenAISpec("response", completion);
    expect(completion.choices.map((choice) => [choice.index, choice.message.content])).toEqual([
      [0, "The capital of France is Paris."],
      [1, "The capital of France is Paris."],
    ]);
    const usage = completion.usage as UsageWithCost & {
      completion_tokens_details: { reasoning_tokens: number; accepted_prediction_tokens: number };
    };
    expect(usage).toMatchObject({
      prompt_tokens: 2 * recordedUsage.prompt_tokens,
      completion_tokens: 2 * recordedUsage.completion_tokens,
      total_tokens: 2 * recordedUsage.total_tokens,
      completion_tokens_details: { reasoning_tokens: 0, accepted_prediction_tokens: 0 },
    });
    // Two calls of 24 prompt and 8 completion tokens at $2.50/M and $10/M: 2 × 140,000 nano-USD.
    expect(costOf(usage, GPT_4O_PRICES)).toBe(280_000n);
    expect(usage.cost).toBe(0.00028);
    await harness.container.usageWriter.flush();
    expect(await usageEntries(userId)).toMatchObject([{ externalId: completion.id, amountNano: -280_000n }]);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("streams a fanned-out call from recorded upstream streams", async () => {
    upstream.respondWith(() => "openai/text-stream-include-usage");
    const { userId, apiKey } = await harness.createFundedUser("5");
    const requestCount = upstream.received.length;

    const chunks = await collect(
      await client(apiKey).chat.completions.create({
        model: ONE_CHOICE_MODEL.id,
        messages: [{ role: "user", content: "What is the capital of Mexico?" }],
        n: 2,
        stream: true,
      }),
    );

    const sent = upstream.received.slice(requestCount);
    expect(sent).toHaveLength(2);
    for (const request of sent) {
      expect(request.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
      expect(request.body).not.toHaveProperty("n");
    }
    const choices = choicesOf(chunks);
    expect([...choices.keys()].sort()).toEqual([0, 1]);
    for (const choice of choices.values()) {
      expect(choice).toEqual({
        text: "The capital of Mexico is Mexico City.",
        firstRole: "assistant",
        finishes: ["stop"],
      });
    }
    const usage = chunks.at(-1)?.usage as UsageWithCost;
    expect(usage).toMatchObject({ prompt_tokens: 28, completion_tokens: 16, total_tokens: 44 });
    const costNano = costOf(usage, GPT_4O_PRICES);
    expect(usage.cost).toBe(nanoToUsdNumber(costNano));
    await harness.container.usageWriter.flush();
    expect(await usageEntries(userId)).toMatchObject([{ amountNano: -costNano }]);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("fails the whole call when one copy is refused, billing nothing: the client received no answer", async () => {
    let answered = 0;
    upstream.respondWith(() => (++answered === 2 ? "openai/error-400-unsupported-value" : "openai/text"));
    const { userId, apiKey } = await harness.createFundedUser("5");
    const requestCount = upstream.received.length;

    const error = await client(apiKey)
      .chat.completions.create({
        model: ONE_CHOICE_MODEL.id,
        messages: [{ role: "user", content: "What is the capital of France?" }],
        n: 3,
      })
      .catch((caught: unknown) => caught);

    expect(upstream.received.slice(requestCount)).toHaveLength(3);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      code: "unsupported_value",
      param: "messages[0].role",
    });
    await harness.container.usageWriter.flush();
    // The two copies that answered cost the gateway upstream, but the client got an error and pays nothing.
    const rows = await generationsOf(harness.container.db, userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      httpStatus: 400,
      errorType: "invalid_request_error",
      billingStatus: "void",
      costNano: 0n,
    });
    expect(await usageEntries(userId)).toHaveLength(0);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("answers a streamed fan-out whose copy is refused before any byte with the HTTP error, billing nothing", async () => {
    let answered = 0;
    upstream.respondWith(() =>
      ++answered === 3 ? "openai/error-400-unsupported-value" : "openai/text-stream-include-usage",
    );
    const { userId, apiKey } = await harness.createFundedUser("5");

    const error = await client(apiKey)
      .chat.completions.create({
        model: ONE_CHOICE_MODEL.id,
        messages: [{ role: "user", content: "What is the capital of Mexico?" }],
        n: 3,
        stream: true,
      })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    await harness.container.usageWriter.flush();
    expect((await generationsOf(harness.container.db, userId)).map((row) => [row.httpStatus, row.costNano])).toEqual([
      [400, 0n],
    ]);
    expect(await usageEntries(userId)).toHaveLength(0);
    await expectLedgerConsistent(harness.container.db, userId);
  });
});

describe("a client that leaves a fanned-out stream", () => {
  it("aborts every copy and settles the call once, billing what the client received", async () => {
    const arrivals: IncomingMessage[] = [];
    const closes: Promise<void>[] = [];
    // Each copy's upstream sends one delta, then holds the stream open: only the client leaving can end it.
    const holding = createServer((request, response) => {
      arrivals.push(request);
      closes.push(new Promise((resolve) => response.once("close", () => resolve())));
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(
        `data: ${JSON.stringify({
          id: "chatcmpl-holding",
          object: "chat.completion.chunk",
          created: 1,
          model: "gpt-4.1-nano",
          choices: [{ index: 0, delta: { role: "assistant", content: "Thinking" }, finish_reason: null }],
        })}\n\n`,
      );
    });
    await new Promise<void>((resolve) => holding.listen(0, "127.0.0.1", resolve));
    const { port } = holding.address() as AddressInfo;
    try {
      await addChannel(
        harness.container.db,
        harness.container.secretBox,
        harness.container.changes,
        {
          kind: "openai-compatible",
          name: "holding",
          baseUrl: `http://127.0.0.1:${port}/v1`,
          models: [{ modelId: "deepseek/deepseek-reasoner", upstreamModel: "gpt-4.1-nano" }],
        },
        TEST_ACTOR,
      );
      const { userId, apiKey } = await harness.createFundedUser("1");
      const abort = new AbortController();
      const response = await fetch(`${harness.baseUrl}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({
          model: "deepseek/deepseek-reasoner",
          messages: [{ role: "user", content: "hi" }],
          n: 3,
          stream: true,
        }),
        signal: abort.signal,
      });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      while (!text.includes("data: ")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      expect(text).toContain('"content":"Thinking"');
      expect(arrivals).toHaveLength(3);
      abort.abort();
      await Promise.all(closes);

      await expect
        .poll(async () => {
          await harness.container.usageWriter.flush();
          return (await generationsOf(harness.container.db, userId)).map((row) => [row.cancelled, row.billingStatus]);
        })
        .toEqual([[true, "estimated"]]);
      // No copy reported usage: the prompt is counted once per copy, the output as the deltas that went out.
      const [row] = await generationsOf(harness.container.db, userId);
      expect(row!.promptTokens).toBe(3 * (3 + 3 + 1));
      expect(row!.completionTokens).toBeGreaterThan(0);
      expect(row!.costNano).toBeGreaterThan(0n);
      expect(await usageEntries(userId)).toMatchObject([{ externalId: row!.id, amountNano: -row!.costNano }]);
      await expectLedgerConsistent(harness.container.db, userId);
    } finally {
      holding.closeAllConnections();
      holding.close();
    }
  });
});
