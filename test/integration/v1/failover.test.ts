import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { channels } from "~/server/db/schema";
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

type Script = (request: IncomingMessage, response: ServerResponse) => void;

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
        const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { stream?: boolean };
        if (upstream.script === healthy) answer(label, body.stream === true, response);
        else upstream.script(request, response);
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
      await addChannel(db, secretBox, changes, {
        kind: "openai-compatible",
        name: "primary",
        baseUrl: primary.baseUrl,
        apiKey: "sk-primary",
        priority: 10,
        ...mapping,
      })
    ).channel.id;
    await addChannel(db, secretBox, changes, {
      kind: "openai-compatible",
      name: "fallback",
      baseUrl: fallback.baseUrl,
      apiKey: "sk-fallback",
      priority: 0,
      ...mapping,
    });
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
