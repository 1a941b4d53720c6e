import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generations } from "~/server/db/schema";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { updateApiKeyLimits } from "~/server/services/api-keys";
import { addChannel } from "~/server/services/channels";
import { TEST_ACTOR } from "../../../helpers/audit";
import { contentChunk, sseChunk, startFaultUpstream, type FaultUpstream } from "../../../helpers/fault-upstream";
import { startGatewayHarness, TEST_SECRETS, type GatewayHarness } from "../../../helpers/gateway-harness";
import { histogramCount, parseScrape, type Scrape } from "../../../helpers/prometheus";
import { startReplayUpstream, type ReplayUpstream } from "../../../helpers/replay-upstream";

const METRICS_TOKEN = "metrics-token-0123456789abcdef";
const UPSTREAM_KEY = "sk-upstream-telemetry-secret-4242";
const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const CHAT = "/v1/chat/completions";

/** Every line the container logged, parsed: the test's own capture at debug level. */
const lines: string[] = [];
let harness: GatewayHarness;
let upstream: ReplayUpstream;
let broken: FaultUpstream;
let funded: { userId: string; apiKey: string; apiKeyId: string };

beforeAll(async () => {
  harness = await startGatewayHarness({
    env: { METRICS_TOKEN, CIRCUIT_BREAKER_FAILURES: "1", LOG_LEVEL: "debug" },
    logWrite: (chunk) => lines.push(...chunk.split("\n").filter((line) => line !== "")),
  });
  upstream = await startReplayUpstream();
  upstream.respondWith((request) =>
    (request.body as { stream?: boolean }).stream === true ? "openai/text-stream-include-usage" : "openai/text",
  );
  broken = await startFaultUpstream((_request, response) => {
    response.writeHead(500, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: { message: "boom", type: "server_error", code: null } }));
  });
  const { db, secretBox, changes } = harness.container;
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai",
      name: "steady",
      baseUrl: upstream.baseUrl,
      apiKey: UPSTREAM_KEY,
      models: [{ modelId: "openai/gpt-4.1", upstreamModel: "gpt-4.1" }],
    },
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai",
      name: "down",
      baseUrl: broken.baseUrl,
      apiKey: UPSTREAM_KEY,
      models: [{ modelId: "openai/gpt-4o", upstreamModel: "gpt-4o" }],
    },
    TEST_ACTOR,
  );
  await harness.container.catalog.reload();
  funded = await harness.createFundedUser("5");
}, 60_000);

afterAll(async () => {
  await harness.stop();
  await upstream.close();
  await broken.close();
});

function origin(): string {
  return harness.baseUrl.replace(/\/v1$/, "");
}

function chat(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ messages: [{ role: "user", content: "Say hello" }], ...body }),
  });
}

async function scrape(): Promise<Scrape> {
  const response = await fetch(`${origin()}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return parseScrape(await response.text());
}

function requestLines(): Record<string, unknown>[] {
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.message === "request");
}

describe("/metrics", () => {
  it("refuses a scrape without the token, or with a wrong one", async () => {
    expect((await fetch(`${origin()}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${origin()}/metrics`, { headers: { authorization: "Bearer not-the-metrics-token" } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain("tollgate_");
  });

  it("moves by exactly the calls made: requests, latencies, tokens, cost, attempts, refusals, circuits", async () => {
    const before = await scrape();
    const registry = harness.container.metrics!;
    const labels = { endpoint: CHAT, model: "openai/gpt-4.1" };
    const latenciesBefore = await histogramCount(registry, "tollgate_request_duration_seconds", labels);
    const firstTokensBefore = await histogramCount(registry, "tollgate_time_to_first_token_seconds", labels);
    const ok = { endpoint: CHAT, status: "200", model: "openai/gpt-4.1" };

    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      const response = await chat(funded.apiKey, { model: "openai/gpt-4.1" });
      expect(response.status).toBe(200);
      await response.json();
      ids.push(response.headers.get("x-generation-id")!);
    }
    for (let index = 0; index < 2; index++) {
      const response = await chat(funded.apiKey, {
        model: "openai/gpt-4.1",
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(response.status).toBe(200);
      await response.text();
      ids.push(response.headers.get("x-generation-id")!);
    }
    // The only channel of gpt-4o answers 500: one attempt, failed, and its circuit opens (threshold 1 here).
    const failed = await chat(funded.apiKey, { model: "openai/gpt-4o" });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    await failed.text();
    // Reads and refusals.
    expect(
      (await fetch(`${harness.baseUrl}/models`, { headers: { authorization: `Bearer ${funded.apiKey}` } })).status,
    ).toBe(200);
    expect((await chat("sk-gw-" + "0".repeat(32), { model: "openai/gpt-4.1" })).status).toBe(401);
    const broke = await harness.createFundedUser("0");
    expect((await chat(broke.apiKey, { model: "openai/gpt-4.1" })).status).toBe(402);
    const limited = await harness.createFundedUser("1");
    await updateApiKeyLimits(harness.container.db, harness.container.changes, {
      id: limited.apiKeyId,
      requestsPerMinute: 1,
    });
    harness.container.authenticator.invalidateKey(limited.apiKeyId);
    expect((await chat(limited.apiKey, { model: "openai/gpt-4.1" })).status).toBe(200);
    expect((await chat(limited.apiKey, { model: "openai/gpt-4.1" })).status).toBe(429);
    await harness.container.usageWriter.flush();

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels);

    // Eleven requests, each counted once: no series moved by more than its requests.
    const total = (scrape: Scrape) =>
      scrape.samples("tollgate_requests_total").reduce((sum, sample) => sum + sample.value, 0);
    expect(total(after) - total(before)).toBe(11);
    // Requests by endpoint, status and model: five calls plus the limited key's one on gpt-4.1.
    expect(moved("tollgate_requests_total", ok)).toBe(6);
    const failedStatus = String(failed.status);
    expect(moved("tollgate_requests_total", { endpoint: CHAT, status: failedStatus, model: "openai/gpt-4o" })).toBe(1);
    expect(moved("tollgate_requests_total", { endpoint: "/v1/models", status: "200", model: "" })).toBe(1);
    expect(moved("tollgate_requests_total", { endpoint: CHAT, status: "401", model: "" })).toBe(1);
    expect(moved("tollgate_requests_total", { endpoint: CHAT, status: "402", model: "" })).toBe(1);
    expect(moved("tollgate_requests_total", { endpoint: CHAT, status: "429", model: "" })).toBe(1);
    expect(moved("tollgate_refused_requests_total", { reason: "insufficient_credits" })).toBe(1);
    expect(moved("tollgate_refused_requests_total", { reason: "rate_limit_exceeded" })).toBe(1);

    // One latency per call; a first token only for the two streams.
    expect(await histogramCount(registry, "tollgate_request_duration_seconds", labels)).toBe(latenciesBefore + 6);
    expect(await histogramCount(registry, "tollgate_time_to_first_token_seconds", labels)).toBe(firstTokensBefore + 2);
    expect(after.families.has("tollgate_request_duration_seconds")).toBe(true);

    // Tokens and cost equal the stored generations', exactly.
    const rows = await harness.container.db
      .select()
      .from(generations)
      .where(inArray(generations.userId, [funded.userId, limited.userId]));
    const billed = rows.filter((row) => row.modelId === "openai/gpt-4.1");
    expect(billed).toHaveLength(6);
    const sum = (pick: (row: (typeof rows)[number]) => number) => billed.reduce((total, row) => total + pick(row), 0);
    const tokenLabels = (kind: string) => ({ model: "openai/gpt-4.1", provider: "openai", kind });
    expect(moved("tollgate_tokens_total", tokenLabels("prompt"))).toBe(sum((row) => row.promptTokens));
    expect(moved("tollgate_tokens_total", tokenLabels("completion"))).toBe(sum((row) => row.completionTokens));
    const costNano = billed.reduce((total, row) => total + row.costNano, 0n);
    expect(costNano).toBeGreaterThan(0n);
    expect(before.value("tollgate_billed_usd_total", { model: "openai/gpt-4.1", provider: "openai" })).toBe(0);
    expect(after.value("tollgate_billed_usd_total", { model: "openai/gpt-4.1", provider: "openai" })).toBe(
      Number(formatNanoAsUsd(costNano)),
    );

    // Upstream attempts by channel and outcome, and the failed channel's circuit open.
    expect(
      moved("tollgate_upstream_attempts_total", { channel: "steady", provider: "openai", outcome: "success" }),
    ).toBe(6);
    const downAttempts = after
      .samples("tollgate_upstream_attempts_total")
      .filter((sample) => sample.labels.channel === "down");
    expect(downAttempts.map((sample) => [sample.labels.outcome, sample.value])).toEqual([["upstream_error", 1]]);
    expect(after.value("tollgate_circuit_state", { channel: "down", upstream_model: "gpt-4o" })).toBe(1);
    expect(after.value("tollgate_circuit_state", { channel: "steady", upstream_model: "gpt-4.1" })).toBe(0);

    // Everything settled: nothing in flight, nothing held, nothing queued.
    expect(after.value("tollgate_calls_in_flight")).toBe(0);
    expect(after.value("tollgate_balance_held_usd")).toBe(0);
    expect(after.value("tollgate_usage_writer_queued_settlements")).toBe(0);
    // Node's own: the event loop's lag and the process's CPU and memory.
    for (const name of [
      "nodejs_eventloop_lag_seconds",
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
    ]) {
      expect(after.families.has(name), name).toBe(true);
    }
    expect(ids.every((id) => id.startsWith("gen-"))).toBe(true);
  });

  it("counts a stream in flight, with the balance it holds, until its last byte", async () => {
    const { db, secretBox, changes, catalog } = harness.container;
    let finish: () => void = () => {};
    const held = await startFaultUpstream((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(contentChunk("first words"));
      finish = () =>
        response.end(
          sseChunk([{ index: 0, delta: {}, finish_reason: "stop" }]) +
            sseChunk([], { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }) +
            "data: [DONE]\n\n",
        );
    });
    try {
      await addChannel(
        db,
        secretBox,
        changes,
        {
          kind: "openai",
          name: "held",
          baseUrl: held.baseUrl,
          apiKey: UPSTREAM_KEY,
          models: [{ modelId: "openai/gpt-4.1-mini", upstreamModel: "gpt-4.1-mini" }],
        },
        TEST_ACTOR,
      );
      await catalog.reload();
      const response = await chat(funded.apiKey, { model: "openai/gpt-4.1-mini", stream: true });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      await reader.read();
      const during = await scrape();
      expect(during.value("tollgate_calls_in_flight")).toBe(1);
      expect(during.value("tollgate_balance_held_usd")).toBeGreaterThan(0);
      finish();
      while (!(await reader.read()).done) {
        // The rest of the stream.
      }
      await harness.container.usageWriter.flush();
      const after = await scrape();
      expect(after.value("tollgate_calls_in_flight")).toBe(0);
      expect(after.value("tollgate_balance_held_usd")).toBe(0);
    } finally {
      await held.close();
    }
  });
});

describe("the request log", () => {
  it("writes one line per call at its end, with its ids, account, tokens, exact cost and trace", async () => {
    const requestId = "client-request-0001";
    const response = await chat(
      funded.apiKey,
      { model: "openai/gpt-4.1", stream: true, stream_options: { include_usage: true } },
      {
        "x-request-id": requestId,
        traceparent: TRACEPARENT,
        tracestate: "vendor=abc",
        "user-agent": "telemetry-test/1",
      },
    );
    expect(response.headers.get("x-request-id")).toBe(requestId);
    await response.text();
    const generationId = response.headers.get("x-generation-id")!;
    await harness.container.usageWriter.flush();

    // The upstream was sent the caller's trace context unchanged.
    const sent = upstream.received.at(-1)!;
    expect(sent.headers.traceparent).toBe(TRACEPARENT);
    expect(sent.headers.tracestate).toBe("vendor=abc");

    const [row] = await harness.container.db.select().from(generations).where(eq(generations.id, generationId));
    expect(row!.requestId).toBe(requestId);
    // Exactly one line for the request: its settlement's, none from the answer that went before it.
    const line = requestLines().filter((entry) => entry.requestId === requestId);
    expect(line).toHaveLength(1);
    expect(line[0]!.generationId).toBe(generationId);
    expect(line[0]).toMatchObject({
      level: "info",
      requestId,
      method: "POST",
      path: CHAT,
      status: 200,
      accountId: funded.userId,
      model: "openai/gpt-4.1",
      provider: "openai",
      channel: "steady",
      upstreamModel: "gpt-4.1",
      attempts: 1,
      streamed: true,
      promptTokens: row!.promptTokens,
      completionTokens: row!.completionTokens,
      costUsd: formatNanoAsUsd(row!.costNano),
      latencyMs: row!.latencyMs,
      ttftMs: row!.timeToFirstTokenMs,
      clientIp: "127.0.0.1",
      userAgent: "telemetry-test/1",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentSpanId: "00f067aa0ba902b7",
    });
    expect(String(line[0]!.keyPrefix)).toMatch(/^sk-gw-/);
    expect(funded.apiKey.startsWith(String(line[0]!.keyPrefix))).toBe(true);
  });

  it("stores our own request id on the generation when the client sends none, and logs requests that made no call", async () => {
    const response = await chat(funded.apiKey, { model: "openai/gpt-4.1" });
    const requestId = response.headers.get("x-request-id")!;
    expect(requestId).toMatch(/^req-/);
    await response.json();
    await harness.container.usageWriter.flush();
    const [row] = await harness.container.db
      .select()
      .from(generations)
      .where(eq(generations.id, response.headers.get("x-generation-id")!));
    expect(row!.requestId).toBe(requestId);

    const refused = await chat(funded.apiKey, { model: "no-such/model" }, { "x-request-id": "client-request-0002" });
    expect(refused.status).toBe(404);
    const refusedLines = requestLines().filter((entry) => entry.requestId === "client-request-0002");
    expect(refusedLines).toHaveLength(1);
    const [line] = refusedLines;
    expect(line).toMatchObject({ status: 404, accountId: funded.userId, errorCode: "model_not_found" });
    expect(line).not.toHaveProperty("generationId");
  });

  it("never logs a secret: API keys, upstream keys, the metrics token, the server's own secrets", () => {
    const secrets = [
      funded.apiKey,
      UPSTREAM_KEY,
      METRICS_TOKEN,
      TEST_SECRETS.AUTH_SECRET,
      TEST_SECRETS.ENCRYPTION_KEY,
      "admin-password-123",
    ];
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      for (const secret of secrets) expect(line).not.toContain(secret);
    }
  });
});
