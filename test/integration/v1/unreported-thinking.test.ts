import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogModel as CatalogFileModel } from "~/server/catalog/catalog-file";
import { computeCostNano } from "~/server/gateway/billing/compute-cost";
import { nanoToUsdNumber, parseUsdToNano } from "~/server/gateway/billing/money";
import { importCatalog } from "~/server/services/catalog";
import { addChannel } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { tokenPrices, TEXT_ONLY } from "../../helpers/prices";

/*
 * An upstream whose total_tokens counts more than prompt + completion has left thinking out of completion_tokens
 * (Gemini's OpenAI-compatible endpoint; proxies that report it only as reasoning_tokens). The client sees the
 * difference as reasoning inside completion_tokens, and it is billed as output (this model has no reasoning price),
 * in usage.cost and in the ledger alike.
 */

const MODEL: CatalogFileModel = {
  id: "test/unreported-thinking",
  name: "Unreported thinking (test)",
  description: "An upstream that leaves thinking out of completion_tokens.",
  author: "test",
  upstreamModel: "gemini-2.5-flash",
  releasedAt: "2025-06-01",
  contextLength: 128_000,
  maxOutputTokens: 8_192,
  inputModalities: ["text"],
  outputModalities: ["text"],
  supportedParameters: ["max_tokens"],
  pricing: { input: "1", output: "4", cacheRead: null, cacheWrite: null },
};
// Restated from the entry above, so that a pricing bug cannot hide behind the code under test.
const PRICES = tokenPrices({ inputPriceNano: parseUsdToNano("1"), outputPriceNano: parseUsdToNano("4") });

let harness: GatewayHarness;
let answer: (stream: boolean, response: ServerResponse) => void = (_stream, response) => response.writeHead(500).end();
const upstream = createServer((request, response) => {
  const parts: Buffer[] = [];
  request.on("data", (part: Buffer) => parts.push(part));
  request.on("end", () => {
    const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { stream?: boolean };
    answer(body.stream === true, response);
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
      name: "thinking",
      baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`,
      models: [{ modelId: MODEL.id, upstreamModel: "gemini-2.5-flash" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  await harness?.stop();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

/** Answers with `usage`, streamed (usage on a trailing `choices: []` chunk) or not. */
function answerWithUsage(usage: object) {
  return (stream: boolean, response: ServerResponse) => {
    const base = { id: "upstream-1", created: 1_700_000_000, model: "gemini-2.5-flash" };
    if (!stream) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          ...base,
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: "Noon." }, finish_reason: "stop" }],
          usage,
        }),
      );
      return;
    }
    const chunk = (choices: unknown[], chunkUsage: unknown = null) =>
      `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices, usage: chunkUsage })}\n\n`;
    response.writeHead(200, { "content-type": "text/event-stream" });
    response.end(
      chunk([{ index: 0, delta: { role: "assistant", content: "Noon." }, finish_reason: null }]) +
        chunk([{ index: 0, delta: {}, finish_reason: "stop" }]) +
        chunk([], usage) +
        "data: [DONE]\n\n",
    );
  };
}

interface ClientUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  completion_tokens_details?: { reasoning_tokens?: number };
  cost?: number;
}

/** One call's usage as the client saw it (the finish chunk's when streamed). */
async function call(apiKey: string, stream: boolean): Promise<ClientUsage> {
  const response = await fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ model: MODEL.id, messages: [{ role: "user", content: "What time is it?" }], stream }),
  });
  expect(response.status).toBe(200);
  if (!stream) return ((await response.json()) as { usage: ClientUsage }).usage;
  const usages = (await response.text())
    .split("\n")
    .filter((line) => line.startsWith("data: {"))
    .map((line) => (JSON.parse(line.slice("data: ".length)) as { usage?: ClientUsage | null }).usage)
    .filter((usage): usage is ClientUsage => usage != null);
  expect(usages).toHaveLength(1);
  return usages[0]!;
}

async function expectBilled(userId: string, tokens: { prompt: number; completion: number; reasoning: number }) {
  const costNano = computeCostNano(
    {
      promptTokens: tokens.prompt,
      completionTokens: tokens.completion,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: tokens.reasoning,
    },
    PRICES,
    TEXT_ONLY,
  );
  // With no reasoning price, every completion token (thinking included) costs the output price.
  expect(costNano).toBe(BigInt(tokens.prompt) * 1_000n + BigInt(tokens.completion) * 4_000n);
  await expect
    .poll(async () => {
      await harness.container.usageWriter.flush();
      return (await generationsOf(harness.container.db, userId)).length;
    })
    .toBe(1);
  const [generation] = await generationsOf(harness.container.db, userId);
  expect(generation).toMatchObject({
    billingStatus: "exact",
    promptTokens: tokens.prompt,
    completionTokens: tokens.completion,
    reasoningTokens: tokens.reasoning,
    costNano,
  });
  const debits = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
  expect(debits.map((entry) => entry.amountNano)).toEqual([-costNano]);
  await expectLedgerConsistent(harness.container.db, userId);
  return costNano;
}

describe("thinking that total_tokens counts beyond prompt + completion", () => {
  for (const stream of [false, true]) {
    const mode = stream ? "streamed" : "not streamed";

    it(`is reasoning inside completion_tokens, billed as output (${mode})`, async () => {
      // Gemini's compatible endpoint: 62 thinking tokens in total_tokens only.
      answer = answerWithUsage({ prompt_tokens: 35, completion_tokens: 12, total_tokens: 109 });
      const { userId, apiKey } = await harness.createFundedUser("1");
      const usage = await call(apiKey, stream);
      expect(usage).toMatchObject({
        prompt_tokens: 35,
        completion_tokens: 74,
        total_tokens: 109,
        completion_tokens_details: { reasoning_tokens: 62 },
      });
      const costNano = await expectBilled(userId, { prompt: 35, completion: 74, reasoning: 62 });
      expect(usage.cost).toBe(nanoToUsdNumber(costNano));
    });

    it(`is counted once when the upstream also reports it as reasoning_tokens (${mode})`, async () => {
      // A proxy that reports the thinking as reasoning_tokens yet leaves it out of completion_tokens.
      answer = answerWithUsage({
        prompt_tokens: 21,
        completion_tokens: 0,
        total_tokens: 81,
        completion_tokens_details: { reasoning_tokens: 60 },
      });
      const { userId, apiKey } = await harness.createFundedUser("1");
      const usage = await call(apiKey, stream);
      expect(usage).toMatchObject({
        prompt_tokens: 21,
        completion_tokens: 60,
        total_tokens: 81,
        completion_tokens_details: { reasoning_tokens: 60 },
      });
      const costNano = await expectBilled(userId, { prompt: 21, completion: 60, reasoning: 60 });
      expect(usage.cost).toBe(nanoToUsdNumber(costNano));
    });
  }
});
