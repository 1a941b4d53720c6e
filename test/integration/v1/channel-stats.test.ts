import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { channelStatMinutes } from "~/server/db/schema";
import { modelEndpointsSchema } from "~/server/gateway/protocol/api-schemas";
import { silentLogger } from "~/server/gateway/logger";
import { createChannelStats, MINUTE_MS } from "~/server/gateway/routing/channel-stats";
import { addChannel } from "~/server/services/channels";
import { readStoredChannelStats, startChannelStatsPersistence } from "~/server/services/channel-stats";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";

/*
 * Live channel statistics end to end. Two channels serve one model; each local upstream moves the gateway's
 * injected clock forward by its scripted latency before it answers, so the latencies the gateway measures are exact
 * and no test depends on how fast this machine is. "slow" has the higher priority; "fast" answers sooner and
 * generates faster.
 */

const MODEL = "openai/gpt-4.1-nano";

interface Upstream {
  baseUrl: string;
  hits: number;
  /** Clock milliseconds before the first byte, and between the first chunk and the rest of a stream. */
  firstByteMs: number;
  generateMs: number;
  /** When set, the upstream answers with this status and an error body instead. */
  failWith: number | null;
  server: Server;
}

let now = Date.parse("2026-11-22T12:00:00Z");

function chunk(choices: unknown[], usage: unknown = null): string {
  return `data: ${JSON.stringify({ id: "chatcmpl-x", object: "chat.completion.chunk", created: 1, model: "m", choices, usage })}\n\n`;
}

async function startUpstream(label: string, firstByteMs: number, generateMs: number): Promise<Upstream> {
  const upstream: Upstream = {
    baseUrl: "",
    hits: 0,
    firstByteMs,
    generateMs,
    failWith: null,
    server: createServer((request, response: ServerResponse) => {
      const parts: Buffer[] = [];
      request.on("data", (part: Buffer) => parts.push(part));
      request.on("end", () => {
        upstream.hits += 1;
        const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { stream?: boolean };
        now += upstream.firstByteMs;
        if (upstream.failWith !== null) {
          response.writeHead(upstream.failWith, { "content-type": "application/json" });
          response.end(JSON.stringify({ error: { message: "scripted failure", type: "invalid_request_error" } }));
          return;
        }
        const usage = { prompt_tokens: 10, completion_tokens: 50, total_tokens: 60 };
        if (body.stream !== true) {
          now += upstream.generateMs;
          response.writeHead(200, { "content-type": "application/json" });
          response.end(
            JSON.stringify({
              id: "chatcmpl-x",
              object: "chat.completion",
              created: 1,
              model: "m",
              choices: [{ index: 0, message: { role: "assistant", content: `from ${label}` }, finish_reason: "stop" }],
              usage,
            }),
          );
          return;
        }
        response.writeHead(200, { "content-type": "text/event-stream" });
        response.write(chunk([{ index: 0, delta: { role: "assistant", content: "from" }, finish_reason: null }]));
        // The gateway reads the first chunk before the clock moves on to the rest of the answer.
        setTimeout(() => {
          now += upstream.generateMs;
          response.end(
            chunk([{ index: 0, delta: { content: ` ${label}` }, finish_reason: "stop" }]) +
              chunk([], usage) +
              "data: [DONE]\n\n",
          );
        }, 30);
      });
    }),
  };
  await new Promise<void>((resolve) => upstream.server.listen(0, "127.0.0.1", resolve));
  upstream.baseUrl = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}/v1`;
  return upstream;
}

describe("live channel statistics", () => {
  let harness: GatewayHarness;
  let slow: Upstream;
  let fast: Upstream;
  let slowId: string;
  let fastId: string;
  let apiKey: string;

  beforeAll(async () => {
    harness = await startGatewayHarness({ clock: () => now, env: { CIRCUIT_BREAKER_FAILURES: "100" } });
    slow = await startUpstream("slow", 800, 1_000);
    fast = await startUpstream("fast", 100, 250);
    const { db, secretBox, changes } = harness.container;
    const add = async (name: string, upstream: Upstream, priority: number) =>
      (
        await addChannel(
          db,
          secretBox,
          changes,
          {
            kind: "openai-compatible",
            name,
            provider: name,
            baseUrl: upstream.baseUrl,
            apiKey: `sk-${name}`,
            priority,
            models: [{ modelId: MODEL, upstreamModel: "gpt-4.1-nano" }],
          },
          TEST_ACTOR,
        )
      ).channel.id;
    slowId = await add("slow", slow, 10);
    fastId = await add("fast", fast, 0);
    ({ apiKey } = await harness.createFundedUser("5"));
  });

  afterAll(async () => {
    await harness?.stop();
    for (const upstream of [slow, fast]) {
      upstream?.server.closeAllConnections();
      upstream?.server.close();
    }
  });

  async function chat(extra: Record<string, unknown> = {}) {
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }], ...extra }),
    });
    await response.text();
    return response;
  }

  async function endpoints() {
    const response = await fetch(`${harness.baseUrl}/models/${MODEL}/endpoints`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(response.status).toBe(200);
    const body = modelEndpointsSchema.parse(await response.json());
    const byTag = new Map(body.data.endpoints.map((endpoint) => [endpoint.tag, endpoint]));
    return { body, slow: byTag.get("slow")!, fast: byTag.get("fast")! };
  }

  const within = (actual: number | undefined, expected: number) => {
    // Percentiles are histogram estimates, exact to one 25 % bin.
    expect(actual).toBeGreaterThan(expected / 1.25);
    expect(actual).toBeLessThan(expected * 1.25);
  };

  it("lists a model's endpoints with no statistics before any call", async () => {
    const { body, slow: slowEndpoint } = await endpoints();
    expect(body.data.id).toBe(MODEL);
    // Default routing order: priority first.
    expect(body.data.endpoints.map((endpoint) => endpoint.tag)).toEqual(["slow", "fast"]);
    expect(slowEndpoint).toMatchObject({
      provider_name: "slow",
      status: 0,
      uptime_last_5m: null,
      latency_last_30m: null,
      throughput_last_30m: null,
    });
  });

  it("measures each channel's time to first token, duration and throughput from the calls it served", async () => {
    for (let call = 0; call < 3; call++) {
      expect((await chat({ stream: true, provider: { only: ["slow"] } })).headers.get("x-tollgate-channel")).toBe(
        "slow",
      );
      expect((await chat({ stream: true, provider: { only: ["fast"] } })).headers.get("x-tollgate-channel")).toBe(
        "fast",
      );
    }
    now += 2_000;
    const stats = await endpoints();
    within(stats.slow.latency_last_30m?.p50, 0.8);
    within(stats.slow.duration_last_30m?.p50, 1.8);
    // 50 tokens in one second after the first.
    within(stats.slow.throughput_last_30m?.p50, 50);
    within(stats.fast.latency_last_30m?.p50, 0.1);
    within(stats.fast.duration_last_30m?.p50, 0.35);
    within(stats.fast.throughput_last_30m?.p50, 200);
    expect(stats.slow).toMatchObject({ uptime_last_5m: 100, uptime_last_30m: 100, uptime_last_1d: 100 });
    expect(stats.fast.error_rate_last_5m).toBe(0);
  });

  it("sort latency and sort throughput route to the measured faster channel over the higher priority", async () => {
    const before = { slow: slow.hits, fast: fast.hits };
    expect((await chat()).headers.get("x-tollgate-channel")).toBe("slow");
    expect((await chat({ provider: { sort: "latency" } })).headers.get("x-tollgate-channel")).toBe("fast");
    expect((await chat({ provider: { sort: "throughput" } })).headers.get("x-tollgate-channel")).toBe("fast");
    expect({ slow: slow.hits - before.slow, fast: fast.hits - before.fast }).toEqual({ slow: 1, fast: 2 });
  });

  it("counts provider failures against uptime and request errors against the error rate only", async () => {
    // Five minutes on, the 5-minute window holds only what follows.
    now += 5 * MINUTE_MS;
    slow.failWith = 500;
    // The slow channel fails and the call fails over to the fast one.
    const failedOver = await chat();
    expect(failedOver.headers.get("x-tollgate-channel")).toBe("fast");
    expect(failedOver.headers.get("x-tollgate-attempts")).toBe("2");
    await chat({ provider: { only: ["slow"] } });
    slow.failWith = 400;
    expect((await chat({ provider: { only: ["slow"] } })).status).toBe(400);
    slow.failWith = null;
    await chat({ provider: { only: ["slow"] } });
    now += 2_000;

    const stats = await endpoints();
    // Four calls: two 500s (provider), one 400 (request), one success.
    expect(stats.slow.uptime_last_5m).toBe(50);
    expect(stats.slow.error_rate_last_5m).toBe(75);
    // The 30-minute window still holds the earlier successes.
    expect(stats.slow.uptime_last_30m).toBeGreaterThan(50);
    expect(stats.fast.uptime_last_5m).toBe(100);
  });

  it("persists the statistics, which a process started later loads, and sums what several processes saw", async () => {
    const { db, channelStatsPersistence } = harness.container;
    await channelStatsPersistence.flush();
    const rows = await db.select().from(channelStatMinutes).where(eq(channelStatMinutes.channelId, slowId));
    expect(rows.reduce((sum, row) => sum + row.successes + row.providerErrors + row.requestErrors, 0)).toBe(8);

    // Another process (its own memory) loads the stored minutes at start …
    const other = createChannelStats(() => now);
    const otherPersistence = await startChannelStatsPersistence({
      db,
      stats: other,
      logger: silentLogger,
      clock: () => now,
      intervalMs: 60_000,
    });
    const seenHere = harness.container.channelStats.get(slowId, "gpt-4.1-nano");
    expect(other.get(slowId, "gpt-4.1-nano").last1d).toEqual(seenHere.last1d);
    expect(other.get(fastId, "gpt-4.1-nano").last1d.requests).toBe(
      harness.container.channelStats.get(fastId, "gpt-4.1-nano").last1d.requests,
    );

    // … and what it sees is added to the same rows: both processes then read the sum back.
    other.record(slowId, "gpt-4.1-nano", { outcome: "provider_error" });
    other.record(slowId, "gpt-4.1-nano", { outcome: "success", latencyMs: 100, firstTokenMs: 50 });
    await otherPersistence.flush();
    now += 2_000;
    await channelStatsPersistence.flush();
    const combined = harness.container.channelStats.get(slowId, "gpt-4.1-nano").last1d;
    expect(combined.requests).toBe(seenHere.last1d.requests + 2);
    expect(combined.providerErrors).toBe(seenHere.last1d.providerErrors + 1);
    await otherPersistence.close();

    // Operators read the same totals from the database.
    const stored = await readStoredChannelStats(db, now, slowId);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.stats.last1d).toEqual(combined);
  });

  it("answers 404 for a model that does not exist, like the model endpoint", async () => {
    const response = await fetch(`${harness.baseUrl}/models/nobody/nothing/endpoints`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
  });
});
