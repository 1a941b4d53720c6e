import { TEST_ACTOR } from "../../helpers/audit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { channels } from "~/server/db/schema";
import { addChannel } from "~/server/services/channels";
import { answerFrom, startFaultUpstream, type FaultScript, type FaultUpstream } from "../../helpers/fault-upstream";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";

/*
 * An operator's setup: native OpenAI and an OpenRouter key side by side in the environment, each pointed at a local
 * upstream. The aggregator is the models' fallback tier: native channels answer, OpenRouter only when they fail or a
 * request asks for it, never for Tollgate's own demo model; and a `models` fallback list is not starved of attempts
 * by the aggregator.
 */

const BAD = "openai/gpt-4.1-nano";
const MIDDLE = "openai/gpt-4.1";
const GOOD = "openai/gpt-4.1-mini";

const healthy =
  (label: string): FaultScript =>
  (_request, response, body) =>
    answerFrom(label, body.stream === true, response);

function failing(status: number): FaultScript {
  return (_request, response) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: { message: `failed with ${status}`, type: "server_error" } }));
  };
}

/** Answers as `label`, except for the models in `failFor` (by the model name the upstream is asked for). */
function failingFor(label: string, failFor: readonly string[]): FaultScript {
  return (request, response, body) =>
    failFor.includes(body.model ?? "")
      ? failing(500)(request, response, body)
      : healthy(label)(request, response, body);
}

describe("native channels before aggregators", () => {
  let harness: GatewayHarness;
  let native: FaultUpstream;
  let openrouter: FaultUpstream;
  let apiKey: string;

  beforeAll(async () => {
    native = await startFaultUpstream(healthy("native"));
    openrouter = await startFaultUpstream(healthy("openrouter"));
    harness = await startGatewayHarness({
      env: {
        OPENAI_API_KEY: "sk-native",
        OPENAI_BASE_URL: native.baseUrl,
        OPENROUTER_API_KEY: "sk-or-aggregator",
        OPENROUTER_BASE_URL: openrouter.baseUrl,
        // Circuits stay closed: each test sees every channel.
        CIRCUIT_BREAKER_FAILURES: "100",
      },
    });
    ({ apiKey } = await harness.createFundedUser("10"));
  });

  afterAll(async () => {
    await harness?.stop();
    await Promise.all([native?.close(), openrouter?.close()]);
  });

  beforeEach(() => {
    native.script = healthy("native");
    openrouter.script = healthy("openrouter");
  });

  async function chat(body: Record<string, unknown>) {
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], ...body }),
    });
    return { response, text: await response.text() };
  }

  it("flags the OpenRouter channel from the environment as an aggregator", async () => {
    const [row] = await harness.container.db.select().from(channels).where(eq(channels.name, "openrouter"));
    expect(row).toMatchObject({ provider: "openrouter", aggregator: true, priority: 0 });
  });

  it("sends every call to the native channel while it answers", async () => {
    const aggregatorHits = openrouter.requests.length;
    for (let call = 0; call < 20; call++) {
      const { response, text } = await chat({ model: BAD, stream: call % 2 === 1 });
      expect(response.status).toBe(200);
      expect(text).toContain("from native");
      expect(response.headers.get("x-tollgate-provider")).toBe("openai");
    }
    expect(openrouter.requests.length).toBe(aggregatorHits);
  });

  it("falls back to the aggregator when the native channel fails", async () => {
    native.script = failing(503);
    const { response, text } = await chat({ model: BAD });
    expect(response.status).toBe(200);
    expect(text).toContain("from openrouter");
    expect(response.headers.get("x-tollgate-provider")).toBe("openrouter");
    expect(response.headers.get("x-tollgate-attempts")).toBe("2");
  });

  it("goes to the aggregator first when the request's provider preferences ask for it", async () => {
    const nativeHits = native.requests.length;
    const ordered = await chat({ model: BAD, provider: { order: ["openrouter"] } });
    expect(ordered.text).toContain("from openrouter");
    const only = await chat({ model: BAD, provider: { only: ["openrouter"] } });
    expect(only.text).toContain("from openrouter");
    expect(native.requests.length).toBe(nativeHits);
  });

  it("never sends Tollgate's own demo model to the aggregator", async () => {
    const response = await fetch(`${harness.baseUrl}/models/tollgate/echo/endpoints`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    const { data } = (await response.json()) as { data: { endpoints: { provider_name?: string; tag?: string }[] } };
    expect(JSON.stringify(data.endpoints)).not.toMatch(/openrouter/i);

    const aggregatorHits = openrouter.requests.length;
    const asked = await chat({ model: "tollgate/echo", provider: { order: ["openrouter"] } });
    expect(asked.response.status).toBe(200);
    expect(asked.response.headers.get("x-tollgate-provider")).toBe("tollgate");
    const only = await chat({ model: "tollgate/echo", provider: { only: ["openrouter"] } });
    expect(only.response.status).toBe(400);
    expect(openrouter.requests.length).toBe(aggregatorHits);
  });

  it("serves every model only on a router that lists them all: a flagged channel keeps the models it is given", async () => {
    const { db, secretBox, changes } = harness.container;
    const flagged = await addChannel(
      db,
      secretBox,
      changes,
      {
        kind: "openai-compatible",
        name: "litellm-fallback",
        provider: "litellm",
        baseUrl: native.baseUrl,
        aggregator: true,
      },
      TEST_ACTOR,
    );
    expect(flagged.channel.aggregator).toBe(true);
    expect(flagged.endpointCount).toBe(0);
    await expect(
      addChannel(
        db,
        secretBox,
        changes,
        {
          kind: "openai-compatible",
          name: "litellm-echo",
          provider: "litellm",
          baseUrl: native.baseUrl,
          aggregator: true,
          models: [{ modelId: "tollgate/echo" }],
        },
        TEST_ACTOR,
      ),
    ).rejects.toThrow(/cannot serve Tollgate's own/);
  });

  it("gives every model of a `models` list an attempt before the aggregator takes a second one", async () => {
    // Within the default cap of 3 attempts: the requested model and the first fallback fail on both their channels,
    // the last fallback's native channel answers. The aggregator's candidates wait while attempts are owed.
    native.script = failingFor("native", ["gpt-4.1-nano", "gpt-4.1"]);
    openrouter.script = failingFor("openrouter", [BAD, MIDDLE]);
    const aggregatorHits = openrouter.requests.length;
    const { response, text } = await chat({ model: BAD, models: [MIDDLE, GOOD] });
    expect(response.status).toBe(200);
    expect(text).toContain("from native");
    expect(JSON.parse(text)).toMatchObject({ model: GOOD });
    expect(response.headers.get("x-tollgate-attempts")).toBe("3");
    expect(openrouter.requests.length).toBe(aggregatorHits);
  });
});
