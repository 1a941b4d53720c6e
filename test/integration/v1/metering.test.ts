import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { countTokens } from "gpt-tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeCostNano } from "~/server/gateway/billing/compute-cost";
import { measurePrompt } from "~/server/gateway/billing/estimate-tokens";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { addChannel } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { tokenPrices, TEXT_ONLY } from "../../helpers/prices";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";

/*
 * What a call costs: the upstream's reported usage priced per component (reasoning, fees, markup) when it reported
 * usage for a finished answer; the tokenizer's count of the prompt and of what the client actually received when it
 * did not (a cut stream, a provider that omits usage); nothing when nothing was produced. The usage.cost a client
 * sees is what the ledger debits, to the nano-dollar.
 */

type Handler = (request: IncomingMessage, body: Record<string, unknown>, response: ServerResponse) => void;

interface ScriptedUpstream {
  baseUrl: string;
  handle(handler: Handler): void;
  close(): Promise<void>;
}

async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  let handler: Handler = (_request, _body, response) => response.writeHead(500).end();
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () =>
      handler(request, JSON.parse(Buffer.concat(parts).toString("utf8")) as Record<string, unknown>, response),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    handle: (next) => (handler = next),
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const SCRIPTED_MODEL = "openai/gpt-4.1-nano";
const REASONING_MODEL = "openai/o4-mini";

/** Routes SCRIPTED_MODEL to the scripted upstream; returns the channel id. */
async function addScriptedChannel(harness: GatewayHarness, scripted: ScriptedUpstream): Promise<string> {
  const { db, secretBox, changes } = harness.container;
  const { channel } = await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai-compatible",
      name: "scripted",
      baseUrl: scripted.baseUrl,
      models: [{ modelId: SCRIPTED_MODEL, upstreamModel: "gpt-4.1-nano" }],
    },
    TEST_ACTOR,
  );
  return channel.id;
}

function completion(content: string, usage: object | null) {
  return {
    id: "chatcmpl-scripted",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-4.1-nano",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    ...(usage === null ? {} : { usage }),
  };
}

function sseChunk(delta: object, usage: object | null = null): string {
  return `data: ${JSON.stringify({
    id: "chatcmpl-scripted",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: "gpt-4.1-nano",
    choices: [{ index: 0, delta, finish_reason: null }],
    usage,
  })}\n\n`;
}

async function postChat(harness: GatewayHarness, apiKey: string, body: object, signal?: AbortSignal) {
  return fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
    signal,
  });
}

function heldNano(harness: GatewayHarness, userId: string): Promise<bigint> {
  return harness.container.holds.heldNano(userId);
}

async function setPrices(harness: GatewayHarness, channelId: string, prices: Record<string, string | null>) {
  const nano = (usd: string | null | undefined) => (usd == null ? null : parseUsdToNano(usd));
  await harness.container.db.execute(sql`
    update model_endpoints set
      input_price_nano = ${nano(prices.input) ?? 0n}, output_price_nano = ${nano(prices.output) ?? 0n},
      reasoning_price_nano = ${nano(prices.reasoning)}, request_price_nano = ${nano(prices.request)},
      image_price_nano = ${nano(prices.image)}
    where channel_id = ${channelId}`);
  await harness.container.catalog.reload();
}

/** The only generation of a user once written, and its debit. */
async function settledCall(harness: GatewayHarness, userId: string) {
  await expect
    .poll(async () => {
      await harness.container.usageWriter.flush();
      return (await generationsOf(harness.container.db, userId)).length;
    })
    .toBe(1);
  const [generation] = await generationsOf(harness.container.db, userId);
  const debits = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
  return { generation: generation!, debits };
}

describe("metering", () => {
  let harness: GatewayHarness;
  let scripted: ScriptedUpstream;
  let replay: ReplayUpstream;
  let scriptedChannel: string;
  let replayChannel: string;

  beforeAll(async () => {
    harness = await startGatewayHarness();
    scripted = await startScriptedUpstream();
    replay = await startReplayUpstream();
    const { db, secretBox, changes } = harness.container;
    scriptedChannel = await addScriptedChannel(harness, scripted);
    replayChannel = (
      await addChannel(
        db,
        secretBox,
        changes,
        {
          kind: "openai",
          name: "replay",
          baseUrl: replay.baseUrl,
          apiKey: "sk-replay",
          models: [{ modelId: REASONING_MODEL, upstreamModel: "o3-mini" }],
        },
        TEST_ACTOR,
      )
    ).channel.id;
  });

  afterAll(async () => {
    await harness?.stop();
    await scripted?.close();
    await replay?.close();
  });

  it("prices a 10-token call to a model at $0.05 per million tokens at exactly 500 nano-USD", async () => {
    await setPrices(harness, scriptedChannel, { input: "0.05", output: "0.05" });
    scripted.handle((_request, _body, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(completion("Ten.", { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 })));
    });
    const { userId, apiKey } = await harness.createFundedUser("1");
    const response = await postChat(harness, apiKey, {
      model: SCRIPTED_MODEL,
      messages: [{ role: "user", content: "Count to ten." }],
    });
    const body = (await response.json()) as { usage: { cost: number } };
    expect(body.usage.cost).toBe(0.0000005);
    const { generation, debits } = await settledCall(harness, userId);
    expect(generation).toMatchObject({ billingStatus: "exact", costNano: 500n, promptTokens: 4, completionTokens: 6 });
    expect(debits.map((entry) => entry.amountNano)).toEqual([-500n]);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("bills reasoning tokens at the reasoning price and the rest of the output at the output price", async () => {
    // o3-mini's recorded usage: 7 prompt tokens, 87 completion tokens of which 64 are reasoning.
    await setPrices(harness, replayChannel, { input: "1.10", output: "4.40", reasoning: "10" });
    replay.respondWith(() => "openai/reasoning-model-usage");
    const { userId, apiKey } = await harness.createFundedUser("1");
    const response = await postChat(harness, apiKey, {
      model: REASONING_MODEL,
      messages: [{ role: "user", content: "How many r's are in strawberry?" }],
      max_completion_tokens: 2_000,
    });
    expect(response.status).toBe(200);
    const expected = 7n * 1_100n + 23n * 4_400n + 64n * 10_000n;
    const body = (await response.json()) as { usage: { cost: number; completion_tokens_details: object } };
    expect(body.usage.completion_tokens_details).toMatchObject({ reasoning_tokens: 64 });
    expect(body.usage.cost).toBe(Number(expected) / 1e9);
    const { generation, debits } = await settledCall(harness, userId);
    expect(generation).toMatchObject({ billingStatus: "exact", reasoningTokens: 64, costNano: expected });
    expect(debits.map((entry) => entry.amountNano)).toEqual([-expected]);
  });

  it("bills a completed answer without reported usage by the tokenizer, as estimated, and shows what it debits", async () => {
    await setPrices(harness, scriptedChannel, { input: "2", output: "8" });
    const answer = "An answer whose provider forgot to say what it used.";
    scripted.handle((_request, _body, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(completion(answer, null)));
    });
    const { userId, apiKey } = await harness.createFundedUser("1");
    const request = { model: SCRIPTED_MODEL, messages: [{ role: "user" as const, content: "Say something." }] };
    const body = (await (await postChat(harness, apiKey, request)).json()) as {
      usage: { prompt_tokens: number; completion_tokens: number; cost: number };
    };
    const promptTokens = measurePrompt(request).tokens;
    const usage = { promptTokens, completionTokens: countTokens(answer), cachedTokens: 0, cacheWriteTokens: 0 };
    const expected = computeCostNano(
      { ...usage, reasoningTokens: 0 },
      tokenPrices({ inputPriceNano: parseUsdToNano("2"), outputPriceNano: parseUsdToNano("8") }),
      TEXT_ONLY,
    );
    expect(body.usage).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: countTokens(answer) });
    expect(body.usage.cost).toBe(Number(expected) / 1e9);
    const { generation, debits } = await settledCall(harness, userId);
    expect(generation).toMatchObject({ billingStatus: "estimated", costNano: expected });
    expect(debits.map((entry) => entry.amountNano)).toEqual([-expected]);
  });

  it("bills a stream the client aborts for exactly what it received, aborts the upstream, and releases the hold", async () => {
    await setPrices(harness, scriptedChannel, { input: "2", output: "8" });
    const pieces = ["Alpha beta", " gamma delta", " epsilon zeta eta"];
    let upstreamClosed!: Promise<void>;
    scripted.handle((_request, _body, response) => {
      upstreamClosed = new Promise((resolve) => response.once("close", () => resolve()));
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(sseChunk({ role: "assistant", content: "" }));
      for (const piece of pieces) response.write(sseChunk({ content: piece }));
      // …and then nothing more: only the client leaving ends this stream.
    });
    const { userId, apiKey } = await harness.createFundedUser("1");
    const request = {
      model: SCRIPTED_MODEL,
      messages: [{ role: "user" as const, content: "Recite the Greek alphabet slowly." }],
      stream: true,
    };
    const abort = new AbortController();
    const response = await postChat(harness, apiKey, request, abort.signal);
    const reader = response.body!.getReader();
    let text = "";
    while (!text.includes("epsilon zeta eta")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    // The gateway hangs up on the upstream when the client leaves (nobody is left to pay for more tokens).
    await upstreamClosed;

    const { generation, debits } = await settledCall(harness, userId);
    const promptTokens = measurePrompt(request).tokens;
    const completionTokens = countTokens(pieces.join(""));
    const expected = computeCostNano(
      { promptTokens, completionTokens, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
      tokenPrices({ inputPriceNano: parseUsdToNano("2"), outputPriceNano: parseUsdToNano("8") }),
      TEXT_ONLY,
    );
    expect(generation).toMatchObject({
      cancelled: true,
      billingStatus: "estimated",
      promptTokens,
      completionTokens,
      costNano: expected,
    });
    expect(debits.map((entry) => entry.amountNano)).toEqual([-expected]);
    expect(await heldNano(harness, userId)).toBe(0n);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("bills an aborted stream from the upstream's own running usage where it sent it", async () => {
    await setPrices(harness, scriptedChannel, { input: "2", output: "8" });
    let upstreamClosed!: Promise<void>;
    scripted.handle((_request, _body, response) => {
      upstreamClosed = new Promise((resolve) => response.once("close", () => resolve()));
      response.writeHead(200, { "content-type": "text/event-stream" });
      // Some servers (vLLM's continuous usage stats) report running totals on every chunk.
      response.write(sseChunk({ role: "assistant", content: "One" }, { prompt_tokens: 1234, completion_tokens: 40 }));
      response.write(sseChunk({ content: " two" }, { prompt_tokens: 1234, completion_tokens: 80 }));
    });
    const { userId, apiKey } = await harness.createFundedUser("1");
    const abort = new AbortController();
    const response = await postChat(
      harness,
      apiKey,
      { model: SCRIPTED_MODEL, messages: [{ role: "user", content: "Count." }], stream: true },
      abort.signal,
    );
    const reader = response.body!.getReader();
    let text = "";
    while (!text.includes(" two")) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    await upstreamClosed;

    const { generation, debits } = await settledCall(harness, userId);
    const expected = 1234n * 2_000n + 80n * 8_000n;
    expect(generation).toMatchObject({
      billingStatus: "estimated",
      promptTokens: 1234,
      completionTokens: 80,
      costNano: expected,
    });
    expect(debits.map((entry) => entry.amountNano)).toEqual([-expected]);
  });

  it("charges nothing for an upstream 500 before any byte, and releases the hold", async () => {
    scripted.handle((_request, _body, response) => {
      response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "boom", type: "server_error" } }));
    });
    const { userId, apiKey } = await harness.createFundedUser("1");
    for (const stream of [false, true]) {
      const response = await postChat(harness, apiKey, {
        model: SCRIPTED_MODEL,
        messages: [{ role: "user", content: "Fail." }],
        stream,
      });
      expect(response.status).toBeGreaterThanOrEqual(500);
    }
    await harness.container.usageWriter.flush();
    const generations = await generationsOf(harness.container.db, userId);
    expect(generations.map((row) => [row.billingStatus, row.costNano])).toEqual([
      ["void", 0n],
      ["void", 0n],
    ]);
    expect((await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage")).toEqual([]);
    expect(await heldNano(harness, userId)).toBe(0n);
  });
});

describe("fees and the platform markup", () => {
  let harness: GatewayHarness;
  let scripted: ScriptedUpstream;
  let channelId: string;

  beforeAll(async () => {
    harness = await startGatewayHarness({ env: { PRICE_MARKUP_PERCENT: "12.5" } });
    scripted = await startScriptedUpstream();
    channelId = await addScriptedChannel(harness, scripted);
  });

  afterAll(async () => {
    await harness?.stop();
    await scripted?.close();
  });

  it("adds the per-request and per-image fees and applies the markup once, to the whole cost", async () => {
    await setPrices(harness, channelId, { input: "0.10", output: "0.40", request: "0.001", image: "0.0005" });
    scripted.handle((_request, _body, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify(completion("Two images.", { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 })),
      );
    });
    const { userId, apiKey } = await harness.createFundedUser("1");
    const image = { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } };
    const response = await postChat(harness, apiKey, {
      model: SCRIPTED_MODEL,
      messages: [{ role: "user", content: [{ type: "text", text: "Compare these." }, image, image] }],
    });
    expect(response.status).toBe(200);
    // (1000 × 100 + 100 × 400 + request 1,000,000 + 2 images × 500,000) nano-USD × 1.125
    const expected = ((100_000n + 40_000n + 1_000_000n + 1_000_000n) * 1125n) / 1000n;
    const body = (await response.json()) as { usage: { cost: number } };
    expect(body.usage.cost).toBe(Number(expected) / 1e9);
    const { generation, debits } = await settledCall(harness, userId);
    expect(generation).toMatchObject({ imageCount: 2, costNano: expected, billingStatus: "exact" });
    expect(debits.map((entry) => entry.amountNano)).toEqual([-expected]);
  });

  it("lists prices with the markup included, exactly, so that clients see what they pay", async () => {
    await setPrices(harness, channelId, { input: "0.10", output: "0.40", request: "0.001", image: "0.0005" });
    const { apiKey } = await harness.createFundedUser("1");
    const model = (await (
      await fetch(`${harness.baseUrl}/models/${SCRIPTED_MODEL}`, { headers: { authorization: `Bearer ${apiKey}` } })
    ).json()) as { pricing: Record<string, string>; pricing_per_million_usd: Record<string, string> };
    expect(model.pricing).toMatchObject({
      prompt: "0.0000001125",
      completion: "0.00000045",
      internal_reasoning: "0.00000045",
      request: "0.001125",
      image: "0.0005625",
    });
    expect(model.pricing_per_million_usd).toMatchObject({ prompt: "0.1125", completion: "0.45" });
  });
});
