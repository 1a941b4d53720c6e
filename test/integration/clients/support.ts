import { TEST_ACTOR } from "../../helpers/audit";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createParser } from "eventsource-parser";
import { expect } from "vitest";
import { computeCostNano } from "~/server/gateway/billing/compute-cost";
import { TEXT_ONLY, tokenPrices } from "../../helpers/prices";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { addChannel } from "~/server/services/channels";
import { fixture } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, ledgerOf } from "../../helpers/ledger-assertions";
import { startReplayUpstream, type ReceivedRequest, type ReplayUpstream } from "../../helpers/replay-upstream";

/** Served by the replay upstream (recorded OpenAI traffic) under its upstream name `gpt-4o`. */
export const REPLAY_MODEL = "openai/gpt-4o";
/** Served by an upstream that answers every call with OpenAI's 429. */
export const RATE_LIMITED_MODEL = "openai/gpt-4.1-mini";
export const UNKNOWN_MODEL = "nobody/nothing-1";
/** Well-formed (`sk-gw-` + 32 hex) but issued to nobody. */
export const UNKNOWN_KEY = `sk-gw-${"0".repeat(32)}`;

/** OpenAI's documented 429 body. */
export const RATE_LIMIT_BODY = {
  error: {
    message: "Rate limit reached for requests",
    type: "requests",
    param: null,
    code: "rate_limit_exceeded",
  },
};

// gpt-4o's list prices as in the catalog, restated so a pricing bug cannot hide behind the code under test.
const GPT_4O_PRICES = tokenPrices({
  inputPriceNano: parseUsdToNano("2.50"),
  outputPriceNano: parseUsdToNano("10.00"),
  cacheReadPriceNano: parseUsdToNano("1.25"),
  cacheWritePriceNano: null,
});

interface RecordedUsage {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

function recordedUsage(name: string): RecordedUsage {
  const recorded = fixture(name);
  if (recorded.kind === "json") return (JSON.parse(recorded.body) as { usage: RecordedUsage }).usage;
  let usage: RecordedUsage | undefined;
  const parser = createParser({
    onEvent(event) {
      if (event.data === "[DONE]") return;
      const chunk = JSON.parse(event.data) as { usage?: RecordedUsage | null };
      if (chunk.usage) usage = chunk.usage;
    },
  });
  parser.feed(recorded.body);
  if (usage === undefined) throw new Error(`fixture ${name} reports no usage`);
  return usage;
}

/** What the gateway must charge for answers replayed from these fixtures, at gpt-4o's list prices. */
export function recordedCostNano(...names: string[]): bigint {
  return names.map(recordedUsage).reduce(
    (total, usage) =>
      total +
      computeCostNano(
        {
          promptTokens: usage.prompt_tokens,
          completionTokens: usage.completion_tokens,
          cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
          cacheWriteTokens: 0,
          reasoningTokens: 0,
        },
        GPT_4O_PRICES,
        TEXT_ONLY,
      ),
    0n,
  );
}

/** The assistant text of a recorded non-streaming answer. */
export function recordedText(name: string): string {
  const body = JSON.parse(fixture(name).body) as { choices: { message: { content: string | null } }[] };
  const content = body.choices[0]?.message.content;
  if (typeof content !== "string") throw new Error(`fixture ${name} has no text content`);
  return content;
}

/** The single tool call recorded in `openai/tool-call-required`. */
export function recordedToolCall(): { id: string; name: string; arguments: string } {
  const body = JSON.parse(fixture("openai/tool-call-required").body) as {
    choices: { message: { tool_calls: { id: string; function: { name: string; arguments: string } }[] } }[];
  };
  const call = body.choices[0]?.message.tool_calls[0];
  if (call === undefined) throw new Error("openai/tool-call-required has no tool call");
  return { id: call.id, name: call.function.name, arguments: call.function.arguments };
}

/** The recorded answer of `openai/json-schema-response-format`, parsed: `{ city, country }`. */
export function recordedStructuredOutput(): unknown {
  return JSON.parse(recordedText("openai/json-schema-response-format"));
}

/** The text of the recorded stream `openai/text-stream-include-usage`. */
export const RECORDED_STREAM_TEXT = "The capital of Mexico is Mexico City.";

/** The tool result every client hands back for `get_user_country`. */
export const TOOL_RESULT = "Mexico";

function hasToolResult(request: ReceivedRequest): boolean {
  const body = request.body as { messages?: { role?: unknown }[] };
  return (body.messages ?? []).some((message) => message.role === "tool");
}

/**
 * Answers the first request of a tool round trip with the recorded tool call and the follow-up (the one carrying a
 * `tool` message) with recorded text. Returns the index in `upstream.received` at which the round trip starts.
 */
export function replayToolRoundTrip(upstream: ReplayUpstream): number {
  upstream.respondWith((request) => (hasToolResult(request) ? "openai/text" : "openai/tool-call-required"));
  return upstream.received.length;
}

export interface ClientsWorld {
  harness: GatewayHarness;
  upstream: ReplayUpstream;
  /** How many calls the rate-limited upstream has refused. */
  rateLimitedCalls(): number;
  stop(): Promise<void>;
}

/**
 * The production entry on a fresh database, with two OpenAI-compatible channels: one replaying recorded OpenAI
 * traffic for `openai/gpt-4o`, one answering 429 for `openai/gpt-4.1-mini`.
 */
export async function startClientsWorld(): Promise<ClientsWorld> {
  const harness = await startGatewayHarness();
  const upstream = await startReplayUpstream();
  let refused = 0;
  const limited = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      refused += 1;
      response.writeHead(429, { "content-type": "application/json", "retry-after": "7" });
      response.end(JSON.stringify(RATE_LIMIT_BODY));
    });
  });
  await new Promise<void>((resolve) => limited.listen(0, "127.0.0.1", resolve));
  const { port } = limited.address() as AddressInfo;
  const { db, secretBox, changes } = harness.container;
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai-compatible",
      name: "replay",
      baseUrl: upstream.baseUrl,
      apiKey: "sk-upstream-secret",
      models: [{ modelId: REPLAY_MODEL, upstreamModel: "gpt-4o" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai-compatible",
      name: "rate-limited",
      baseUrl: `http://127.0.0.1:${port}/v1`,
      apiKey: "sk-upstream-secret",
      models: [{ modelId: RATE_LIMITED_MODEL, upstreamModel: "gpt-4.1-mini" }],
    },
    TEST_ACTOR,
  );
  return {
    harness,
    upstream,
    rateLimitedCalls: () => refused,
    async stop() {
      await upstream.close();
      limited.closeAllConnections();
      await new Promise<void>((resolve) => limited.close(() => resolve()));
      await harness.stop();
    },
  };
}

/** After a successful call: exactly `costNano` left the balance, through a consistent ledger. */
export async function expectDebited(
  harness: GatewayHarness,
  user: { userId: string },
  fundedUsd: string,
  costNano: bigint,
): Promise<void> {
  expect(costNano).toBeGreaterThan(0n);
  await harness.container.usageWriter.flush();
  expect(await balanceOf(harness.container.db, user.userId)).toBe(parseUsdToNano(fundedUsd) - costNano);
  await expectLedgerConsistent(harness.container.db, user.userId);
}

/** After a refused call: no usage entry, the balance untouched. */
export async function expectNothingBilled(
  harness: GatewayHarness,
  user: { userId: string },
  fundedUsd: string,
): Promise<void> {
  await harness.container.usageWriter.flush();
  const entries = await ledgerOf(harness.container.db, user.userId);
  expect(entries.filter((entry) => entry.kind === "usage")).toEqual([]);
  expect(await balanceOf(harness.container.db, user.userId)).toBe(parseUsdToNano(fundedUsd));
  await expectLedgerConsistent(harness.container.db, user.userId);
}
