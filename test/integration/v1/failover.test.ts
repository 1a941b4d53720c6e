import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { channels, modelEndpoints } from "~/server/db/schema";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { addChannel } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";

/*
 * Failover before the first byte: two channels serve one model, the primary (higher priority) scripted to fail in
 * each way upstreams fail, the fallback healthy. The client gets the fallback's answer, the failed attempt is listed
 * on the generation and costs nothing, the failing channel's circuit opens (one failure opens it here) so the next
 * calls skip it, and after the cooldown (an injected clock) a probe finds it healthy again.
 */

const MODEL = "openai/gpt-4.1-nano";
const COOLDOWN_MS = 10_000;

type Script = (request: IncomingMessage, response: ServerResponse, body: { model?: string; stream?: boolean }) => void;

interface ScriptedUpstream {
  baseUrl: string;
  hits: number;
  script: Script;
  server: Server;
}

function answer(label: string, stream: boolean, response: ServerResponse): void {
  const base = { id: `chatcmpl-${label}`, created: 1_700_000_000, model: "gpt-4.1-nano" };
  const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
  if (!stream) {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        ...base,
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: `from ${label}` }, finish_reason: "stop" }],
        usage,
      }),
    );
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream" });
  const chunk = (choices: unknown[], chunkUsage: unknown = null) =>
    `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices, usage: chunkUsage })}\n\n`;
  response.end(
    chunk([{ index: 0, delta: { role: "assistant", content: `from ${label}` }, finish_reason: null }]) +
      chunk([{ index: 0, delta: {}, finish_reason: "stop" }]) +
      chunk([], usage) +
      "data: [DONE]\n\n",
  );
}

async function startScripted(label: string): Promise<ScriptedUpstream> {
  const upstream: ScriptedUpstream = {
    baseUrl: "",
    hits: 0,
    script: () => {},
    server: createServer((request, response) => {
      const parts: Buffer[] = [];
      request.on("data", (part: Buffer) => parts.push(part));
      request.on("end", () => {
        upstream.hits += 1;
        const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { model?: string; stream?: boolean };
        if (upstream.script === healthy) answer(label, body.stream === true, response);
        else upstream.script(request, response, body);
      });
    }),
  };
  upstream.script = healthy;
  await new Promise<void>((resolve) => upstream.server.listen(0, "127.0.0.1", resolve));
  upstream.baseUrl = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}/v1`;
  return upstream;
}

const healthy: Script = () => {};

function status(code: number, body: object, headers: Record<string, string> = {}): Script {
  return (_request, response) => {
    response.writeHead(code, { "content-type": "application/json", ...headers });
    response.end(JSON.stringify(body));
  };
}

const FAILURES: { name: string; script: Script; expectedStatus: number }[] = [
  {
    name: "answers 500",
    script: status(500, { error: { message: "boom", type: "server_error" } }),
    expectedStatus: 500,
  },
  {
    name: "answers 429 with Retry-After",
    script: status(429, { error: { message: "slow down", type: "rate_limit_error" } }, { "retry-after": "7" }),
    expectedStatus: 429,
  },
  {
    name: "answers 529 overloaded",
    script: status(529, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }),
    expectedStatus: 529,
  },
  {
    name: "sends its headers, then breaks off its body",
    // Nothing of an answer reached the client: the broken attempt is failed over, and billed nothing.
    script: (_request, response, body) => {
      response.writeHead(200, { "content-type": body.stream === true ? "text/event-stream" : "application/json" });
      response.write(
        body.stream === true ? ": opening\n\n" : '{"id":"chatcmpl-cut","object":"chat.completion","choices":[',
      );
      setTimeout(() => response.destroy(), 10);
    },
    expectedStatus: 502,
  },
  {
    name: "sends its headers, then stalls before its body is whole",
    // The idle limit (500 ms here) gives up on it.
    script: (_request, response, body) => {
      response.writeHead(200, { "content-type": body.stream === true ? "text/event-stream" : "application/json" });
      response.write(body.stream === true ? ": opening\n\n" : '{"id":"chatcmpl-stalled","choices":[');
    },
    expectedStatus: 408,
  },
  {
    name: "hangs before the first byte",
    // Never answers: the gateway's upstream timeout (500 ms here) gives up on it.
    script: () => {},
    expectedStatus: 408,
  },
];

describe("failover before the first byte", () => {
  let harness: GatewayHarness;
  let primary: ScriptedUpstream;
  let fallback: ScriptedUpstream;
  let now = Date.parse("2026-11-22T12:00:00Z");
  let primaryChannelId: string;

  beforeAll(async () => {
    harness = await startGatewayHarness({
      clock: () => now,
      env: {
        UPSTREAM_TIMEOUT_MS: "500",
        CIRCUIT_BREAKER_FAILURES: "1",
        CIRCUIT_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
      },
    });
    primary = await startScripted("primary");
    fallback = await startScripted("fallback");
    const { db, secretBox, changes } = harness.container;
    const mapping = { models: [{ modelId: MODEL, upstreamModel: "gpt-4.1-nano" }] };
    primaryChannelId = (
      await addChannel(
        db,
        secretBox,
        changes,
        {
          kind: "openai-compatible",
          name: "primary",
          baseUrl: primary.baseUrl,
          apiKey: "sk-primary",
          priority: 10,
          ...mapping,
        },
        TEST_ACTOR,
      )
    ).channel.id;
    await addChannel(
      db,
      secretBox,
      changes,
      {
        kind: "openai-compatible",
        name: "fallback",
        baseUrl: fallback.baseUrl,
        apiKey: "sk-fallback",
        priority: 0,
        ...mapping,
      },
      TEST_ACTOR,
    );
  });

  afterAll(async () => {
    await harness?.stop();
    for (const upstream of [primary, fallback]) {
      upstream?.server.closeAllConnections();
      upstream?.server.close();
    }
  });

  beforeEach(() => {
    primary.script = healthy;
    // Every test starts after any circuit opened by the one before has cooled down.
    now += COOLDOWN_MS * 100;
  });

  async function chat(apiKey: string, stream = false) {
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }], stream }),
    });
    return { response, text: await response.text() };
  }

  async function generation(apiKey: string, id: string) {
    const response = await fetch(`${harness.baseUrl}/generation?id=${id}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    return (
      (await response.json()) as {
        data: { attempts: { channel: string; status: number; error_type: string | null }[] };
      }
    ).data;
  }

  for (const failure of FAILURES) {
    for (const stream of [false, true]) {
      it(`answers from the fallback when the primary ${failure.name} (${stream ? "streamed" : "not streamed"}), then skips the primary until its cooldown ends`, async () => {
        const { userId, apiKey } = await harness.createFundedUser("1");
        primary.script = failure.script;
        const primaryHits = primary.hits;

        const first = await chat(apiKey, stream);
        expect(first.response.status).toBe(200);
        expect(first.text).toContain("from fallback");
        expect(first.response.headers.get("x-tollgate-channel")).toBe("fallback");
        expect(first.response.headers.get("x-tollgate-attempts")).toBe("2");
        expect(primary.hits).toBe(primaryHits + 1);
        const id = first.response.headers.get("x-generation-id")!;
        await harness.container.usageWriter.flush();
        expect((await generation(apiKey, id)).attempts).toMatchObject([
          { channel: "primary", status: failure.expectedStatus },
          { channel: "fallback", status: 200, error_type: null },
        ]);

        // The primary's circuit is open: the next call goes straight to the fallback.
        const second = await chat(apiKey, stream);
        expect(second.text).toContain("from fallback");
        expect(primary.hits).toBe(primaryHits + 1);

        // After the cooldown one probe reaches the primary, now healthy, and closes its circuit.
        primary.script = healthy;
        now += COOLDOWN_MS + 1;
        const third = await chat(apiKey, stream);
        expect(third.text).toContain("from primary");
        expect(primary.hits).toBe(primaryHits + 2);

        // Three answers, three debits: the failed attempt cost nothing.
        await harness.container.usageWriter.flush();
        expect((await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage")).toHaveLength(
          3,
        );
        await expectLedgerConsistent(harness.container.db, userId);
      });
    }
  }

  it("answers from the fallback when the primary refuses connections", async () => {
    const { apiKey } = await harness.createFundedUser("1");
    const address = primary.server.address() as AddressInfo;
    await new Promise<void>((resolve) => primary.server.close(() => resolve()));
    try {
      const { response, text } = await chat(apiKey);
      expect(response.status).toBe(200);
      expect(text).toContain("from fallback");
      const id = response.headers.get("x-generation-id")!;
      await harness.container.usageWriter.flush();
      expect((await generation(apiKey, id)).attempts[0]).toMatchObject({ channel: "primary", status: 502 });
    } finally {
      await new Promise<void>((resolve) => primary.server.listen(address.port, "127.0.0.1", resolve));
    }
  });

  it("gives a request error to the client at once, without failover", async () => {
    const { userId, apiKey } = await harness.createFundedUser("1");
    primary.script = status(400, {
      error: { message: "bad request", type: "invalid_request_error", param: "messages" },
    });
    const fallbackHits = fallback.hits;
    const { response } = await chat(apiKey);
    expect(response.status).toBe(400);
    expect(fallback.hits).toBe(fallbackHits);
    await harness.container.usageWriter.flush();
    expect((await generationsOf(harness.container.db, userId))[0]).toMatchObject({ costNano: 0n, httpStatus: 400 });
  });

  it("does not fail over once the stream has begun: a stream that dies midway ends with an error event", async () => {
    const { apiKey } = await harness.createFundedUser("1");
    primary.script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(
        `data: ${JSON.stringify({
          id: "chatcmpl-half",
          object: "chat.completion.chunk",
          created: 1,
          model: "gpt-4.1-nano",
          choices: [{ index: 0, delta: { role: "assistant", content: "Half" }, finish_reason: null }],
        })}\n\n`,
      );
      setTimeout(() => response.destroy(), 20);
    };
    const fallbackHits = fallback.hits;
    const { response, text } = await chat(apiKey, true);
    expect(response.status).toBe(200);
    expect(text).toContain('"content":"Half"');
    expect(text).toContain('"finish_reason":"error"');
    expect(fallback.hits).toBe(fallbackHits);
  });

  it("fails over when a streaming upstream drips a byte a second and falls silent before its first event", async () => {
    const { userId, apiKey } = await harness.createFundedUser("1");
    let timer: NodeJS.Timeout | undefined;
    primary.script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      // Headers at once, then one byte of a first event a second: the upstream answered, but began no answer.
      response.flushHeaders();
      const bytes = [...`data: ${JSON.stringify({ id: "chatcmpl-drip", choices: [] })}\n\n`];
      timer = setInterval(() => {
        if (response.destroyed) return clearInterval(timer);
        response.write(bytes.shift() ?? " ");
      }, 1_000);
      response.once("close", () => clearInterval(timer));
    };
    try {
      const { response, text } = await chat(apiKey, true);
      // The idle timeout (500 ms here) gives up on it before anything reached the client: the fallback answers.
      expect(response.status).toBe(200);
      expect(text).toContain("from fallback");
      expect(response.headers.get("x-tollgate-attempts")).toBe("2");
      await harness.container.usageWriter.flush();
      const [row] = (await generationsOf(harness.container.db, userId)).slice(-1);
      expect(row?.attempts).toMatchObject([
        { channelName: "primary", errorType: "upstream_timeout" },
        { channelName: "fallback", errorType: null },
      ]);
    } finally {
      clearInterval(timer);
    }
  });

  it("fails over when a streaming upstream refuses in-band after HTTP 200, before any chunk", async () => {
    const { userId, apiKey } = await harness.createFundedUser("1");
    primary.script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`data: ${JSON.stringify({ error: { message: "Provider overloaded", code: 502 } })}\n\n`);
    };
    const { response, text } = await chat(apiKey, true);
    expect(response.status).toBe(200);
    expect(text).toContain("from fallback");
    expect(text).not.toContain("overloaded");
    expect(response.headers.get("x-tollgate-channel")).toBe("fallback");
    await harness.container.usageWriter.flush();
    const [row] = (await generationsOf(harness.container.db, userId)).slice(-1);
    expect(row).toMatchObject({ channelId: expect.not.stringMatching(primaryChannelId) as unknown, httpStatus: 200 });
    expect(row?.attempts).toMatchObject([
      { channelName: "primary", status: 502, errorType: "upstream_error" },
      { channelName: "fallback", errorType: null },
    ]);
  });

  it("takes the HTTP status an in-band error carries: a 429 fails over as a rate limit", async () => {
    const { userId, apiKey } = await harness.createFundedUser("1");
    primary.script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      // OpenRouter's shape: the status the call would have had, in `error.code`.
      response.end(`data: ${JSON.stringify({ error: { code: 429, message: "Rate limit exceeded" } })}\n\n`);
    };
    const { response, text } = await chat(apiKey, true);
    expect(response.status).toBe(200);
    expect(text).toContain("from fallback");
    await harness.container.usageWriter.flush();
    const [row] = (await generationsOf(harness.container.db, userId)).slice(-1);
    expect(row?.attempts).toMatchObject([
      { channelName: "primary", status: 429, errorType: "rate_limit_error" },
      { channelName: "fallback", errorType: null },
    ]);
  });

  it("takes the HTTP status an in-band error carries: with every candidate rate limited, the client gets 429", async () => {
    const { apiKey } = await harness.createFundedUser("1");
    const rateLimited: Script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`data: ${JSON.stringify({ error: { code: 429, message: "Rate limit exceeded" } })}\n\n`);
    };
    primary.script = rateLimited;
    fallback.script = rateLimited;
    try {
      const { response, text } = await chat(apiKey, true);
      expect(response.status).toBe(429);
      expect(response.headers.get("retry-after")).toBe("1");
      expect(JSON.parse(text)).toMatchObject({
        error: { message: "Rate limit exceeded", type: "rate_limit_error", code: "rate_limited" },
      });
    } finally {
      fallback.script = healthy;
    }
  });

  it("takes the HTTP status an in-band error carries: a 400 is the client's, at once and without failover", async () => {
    const { userId, apiKey } = await harness.createFundedUser("1");
    const fallbackHits = fallback.hits;
    const message = "This endpoint's maximum context length is 8192 tokens.";
    primary.script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`data: ${JSON.stringify({ error: { code: 400, message } })}\n\n`);
    };
    const { response, text } = await chat(apiKey, true);
    expect(response.status).toBe(400);
    expect(JSON.parse(text)).toMatchObject({
      error: { message, type: "invalid_request_error", param: null, code: "invalid_request" },
    });
    expect(fallback.hits).toBe(fallbackHits);
    await harness.container.usageWriter.flush();
    const [row] = (await generationsOf(harness.container.db, userId)).slice(-1);
    expect(row).toMatchObject({ httpStatus: 400, costNano: 0n });
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("fails over when a stream sends its role, then an error, and lets go of that upstream connection", async () => {
    const { apiKey } = await harness.createFundedUser("1");
    let closed!: Promise<void>;
    primary.script = (request, response) => {
      closed = new Promise((resolve) => request.socket.once("close", () => resolve()));
      response.writeHead(200, { "content-type": "text/event-stream" });
      // The role alone is not an answer yet; the error after it still leaves room for another candidate. The
      // upstream never ends this response: only the gateway letting go of it closes the connection.
      const base = { id: "chatcmpl-role", object: "chat.completion.chunk", created: 1, model: "m" };
      response.write(
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })}\n\n` +
          `data: ${JSON.stringify({ ...base, choices: [], error: { message: "Overloaded" } })}\n\n`,
      );
    };
    const { response, text } = await chat(apiKey, true);
    expect(response.status).toBe(200);
    expect(text).toContain("from fallback");
    expect(text).not.toContain("Overloaded");
    await closed;
  });

  it("fails over when a stream ends before its first chunk of answer", async () => {
    const { apiKey } = await harness.createFundedUser("1");
    primary.script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(": nothing but a comment\n\n");
    };
    const { response, text } = await chat(apiKey, true);
    expect(response.status).toBe(200);
    expect(text).toContain("from fallback");
    expect(response.headers.get("x-tollgate-attempts")).toBe("2");
  });

  it("marks a channel whose key is refused as broken and routes around it", async () => {
    const { apiKey } = await harness.createFundedUser("1");
    primary.script = status(401, { error: { message: "Incorrect API key", type: "invalid_request_error" } });
    const { response, text } = await chat(apiKey);
    expect(response.status).toBe(200);
    expect(text).toContain("from fallback");
    await expect
      .poll(async () => {
        const [row] = await harness.container.db.select().from(channels).where(eq(channels.id, primaryChannelId));
        return row?.brokenReason ?? null;
      })
      .toBe("upstream answered 401");
    // …and every process reloads its catalog without it.
    await expect
      .poll(() =>
        harness.container.catalog
          .getModel(MODEL)!
          .endpoints.some((endpoint) => endpoint.channel.id === primaryChannelId),
      )
      .toBe(false);
    // Even after any cooldown, the broken channel is out of the catalog.
    now += COOLDOWN_MS * 1000;
    primary.script = healthy;
    const hits = primary.hits;
    expect((await chat(apiKey)).text).toContain("from fallback");
    expect(primary.hits).toBe(hits);
  });
});

/*
 * OpenRouter's routing fields decide which upstreams are tried, in which order: asserted on which local upstream
 * received each request. Two providers, "alpha" (higher priority) and "beta", serve MODEL; only beta serves
 * FALLBACK_MODEL.
 */
describe("models fallback and provider preferences", () => {
  const FALLBACK_MODEL = "openai/gpt-4.1-mini";
  let harness: GatewayHarness;
  let alpha: ScriptedUpstream;
  let beta: ScriptedUpstream;
  let apiKey: string;
  let userId: string;

  beforeAll(async () => {
    harness = await startGatewayHarness({ env: { CIRCUIT_BREAKER_FAILURES: "1000" } });
    alpha = await startScripted("alpha");
    beta = await startScripted("beta");
    const { db, secretBox, changes } = harness.container;
    await addChannel(
      db,
      secretBox,
      changes,
      {
        kind: "openai-compatible",
        name: "alpha",
        provider: "alpha",
        baseUrl: alpha.baseUrl,
        priority: 10,
        models: [{ modelId: MODEL, upstreamModel: "gpt-4.1-nano" }],
      },
      TEST_ACTOR,
    );
    await addChannel(
      db,
      secretBox,
      changes,
      {
        kind: "openai-compatible",
        name: "beta",
        provider: "beta",
        baseUrl: beta.baseUrl,
        models: [
          { modelId: MODEL, upstreamModel: "gpt-4.1-nano" },
          { modelId: FALLBACK_MODEL, upstreamModel: "gpt-4.1-mini" },
        ],
      },
      TEST_ACTOR,
    );
    ({ apiKey, userId } = await harness.createFundedUser("5"));
  });

  afterAll(async () => {
    await harness?.stop();
    for (const upstream of [alpha, beta]) {
      upstream?.server.closeAllConnections();
      upstream?.server.close();
    }
  });

  beforeEach(() => {
    alpha.script = healthy;
    beta.script = healthy;
  });

  /** Which upstreams a call reached, in order, and what it answered. */
  async function route(fields: Record<string, unknown>) {
    const before = { alpha: alpha.hits, beta: beta.hits };
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }], ...fields }),
    });
    const body = (await response.json()) as { model?: string; error?: { param: string | null; code: string } };
    const reached = [alpha.hits > before.alpha ? "alpha" : null, beta.hits > before.beta ? "beta" : null].filter(
      (name) => name !== null,
    );
    return { status: response.status, body, reached, channel: response.headers.get("x-tollgate-channel") };
  }

  const failing = status(500, { error: { message: "boom", type: "server_error" } });

  it("tries the higher priority first and falls back in order", async () => {
    expect(await route({})).toMatchObject({ status: 200, reached: ["alpha"], channel: "alpha" });
    alpha.script = failing;
    expect(await route({})).toMatchObject({ status: 200, reached: ["alpha", "beta"], channel: "beta" });
  });

  it("provider.order puts the listed providers first", async () => {
    expect(await route({ provider: { order: ["beta", "alpha"] } })).toMatchObject({
      reached: ["beta"],
      channel: "beta",
    });
  });

  it("provider.only keeps the listed providers, even when they fail", async () => {
    beta.script = failing;
    const result = await route({ provider: { only: ["beta"] } });
    expect(result.status).toBe(502);
    expect(result.reached).toEqual(["beta"]);
  });

  it("provider.ignore leaves the listed providers out", async () => {
    expect(await route({ provider: { ignore: ["alpha"] } })).toMatchObject({ status: 200, reached: ["beta"] });
  });

  it("provider.allow_fallbacks: false stops after the first provider", async () => {
    alpha.script = failing;
    const result = await route({ provider: { allow_fallbacks: false } });
    expect(result.status).toBe(502);
    expect(result.reached).toEqual(["alpha"]);
  });

  it("provider.sort by price tries the cheaper provider first, whatever the priorities", async () => {
    await setPricesOf(harness, "beta", MODEL, "0.01", "0.02");
    try {
      expect(await route({ provider: { sort: "price" } })).toMatchObject({ reached: ["beta"], channel: "beta" });
      // max_price below alpha's list price ($0.10 input) leaves beta alone.
      expect(await route({ provider: { max_price: { prompt: 0.05 } } })).toMatchObject({ reached: ["beta"] });
    } finally {
      await setPricesOf(harness, "beta", MODEL, "0.10", "0.40");
    }
  });

  it("provider.data_collection: deny keeps only providers that do not retain data", async () => {
    await harness.container.db.update(channels).set({ retainsData: false }).where(eq(channels.name, "beta"));
    await harness.container.catalog.reload();
    try {
      expect(await route({ provider: { data_collection: "deny" } })).toMatchObject({ reached: ["beta"] });
    } finally {
      await harness.container.db.update(channels).set({ retainsData: true }).where(eq(channels.name, "beta"));
      await harness.container.catalog.reload();
    }
  });

  it("says which constraint excluded every provider", async () => {
    const result = await route({ provider: { only: ["nobody"] } });
    expect(result).toMatchObject({ status: 400, reached: [] });
    expect(result.body.error).toMatchObject({ param: "provider.only", code: "no_provider_matches" });
  });

  it("models: when the requested model fails everywhere, the next model answers under its own id and prices", async () => {
    alpha.script = failing;
    // Beta fails the requested model but serves the fallback model.
    beta.script = (request, response, body) =>
      body.model === "gpt-4.1-nano" ? failing(request, response, body) : answer("beta", false, response);
    const before = { alpha: alpha.hits, beta: beta.hits };
    const result = await route({ models: [FALLBACK_MODEL] });
    expect(result).toMatchObject({ status: 200, body: { model: FALLBACK_MODEL }, channel: "beta" });
    expect({ alpha: alpha.hits - before.alpha, beta: beta.hits - before.beta }).toEqual({ alpha: 1, beta: 2 });
    await harness.container.usageWriter.flush();
    const [generation] = (await generationsOf(harness.container.db, userId)).slice(-1);
    // gpt-4.1-mini's list prices, $0.40 and $1.60 per million: 10 × 400 + 5 × 1,600 nano-USD.
    expect(generation).toMatchObject({ modelId: FALLBACK_MODEL, costNano: 12_000n });
  });
});

async function setPricesOf(
  harness: GatewayHarness,
  channelName: string,
  modelId: string,
  input: string,
  output: string,
) {
  const [channel] = await harness.container.db.select().from(channels).where(eq(channels.name, channelName));
  await harness.container.db
    .update(modelEndpoints)
    .set({ inputPriceNano: parseUsdToNano(input), outputPriceNano: parseUsdToNano(output) })
    .where(and(eq(modelEndpoints.channelId, channel!.id), eq(modelEndpoints.modelId, modelId)));
  await harness.container.catalog.reload();
}
