import { TEST_ACTOR } from "../../helpers/audit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel } from "~/server/services/channels";
import { answerFrom, startFaultUpstream, type FaultScript, type FaultUpstream } from "../../helpers/fault-upstream";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { expectLedgerConsistent, generationsOf } from "../../helpers/ledger-assertions";

/*
 * A call whose every candidate in reach failed, while another candidate's circuit is open, does not end in an error:
 * its remaining attempt goes to the cooling candidate, as that circuit's probe, once the upstream's own Retry-After
 * has passed (the circuit's cooldown, our own guess, may still run). Time is an injected clock.
 */

const MODEL = "openai/gpt-4.1-nano";
const COOLDOWN_MS = 10_000;

const healthy =
  (label: string): FaultScript =>
  (_request, response, body) =>
    answerFrom(label, body.stream === true, response);
const silent: FaultScript = () => {};

describe("the last attempt goes to a cooling candidate", () => {
  let harness: GatewayHarness;
  /** Priority 10: fails three ways in a row and opens its circuit, then recovers. */
  let flaky: FaultUpstream;
  /** Priority 0: answers until it hangs. */
  let steady: FaultUpstream;
  let now = Date.parse("2026-12-01T12:00:00Z");

  beforeAll(async () => {
    harness = await startGatewayHarness({
      clock: () => now,
      env: {
        UPSTREAM_TIMEOUT_MS: "300",
        CIRCUIT_BREAKER_FAILURES: "3",
        CIRCUIT_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
      },
    });
    flaky = await startFaultUpstream(healthy("flaky"));
    steady = await startFaultUpstream(healthy("steady"));
    const { db, secretBox, changes } = harness.container;
    for (const [name, upstream, priority] of [
      ["flaky", flaky, 10],
      ["steady", steady, 0],
    ] as const) {
      await addChannel(
        db,
        secretBox,
        changes,
        {
          kind: "openai-compatible",
          name,
          baseUrl: upstream.baseUrl,
          apiKey: `sk-${name}`,
          priority,
          models: [{ modelId: MODEL, upstreamModel: "gpt-4.1-nano" }],
        },
        TEST_ACTOR,
      );
    }
  });

  afterAll(async () => {
    await harness?.stop();
    await Promise.all([flaky?.close(), steady?.close()]);
  });

  async function chat(apiKey: string, stream = false) {
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }], stream }),
    });
    return { response, text: await response.text() };
  }

  /** Three faults in a row on the flaky channel (each call answered by the steady one) open its circuit. */
  async function openFlakyCircuit(apiKey: string, lastRetryAfterSeconds: number): Promise<void> {
    const faults: FaultScript[] = [
      (request) => request.socket.destroy(),
      (_request, response) => {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: "boom", type: "server_error" } }));
      },
      (_request, response) => {
        response.writeHead(429, { "content-type": "application/json", "retry-after": String(lastRetryAfterSeconds) });
        response.end(JSON.stringify({ error: { message: "slow down", type: "rate_limit_error" } }));
      },
    ];
    for (const fault of faults) {
      flaky.script = fault;
      const { response, text } = await chat(apiKey);
      expect(response.status).toBe(200);
      expect(text).toContain("from steady");
    }
    // Open: the next call does not ask the flaky channel first.
    flaky.script = healthy("flaky");
    const flakyHits = flaky.requests.length;
    expect((await chat(apiKey)).text).toContain("from steady");
    expect(flaky.requests.length).toBe(flakyHits);
  }

  for (const stream of [false, true]) {
    it(`probes the cooling channel once its Retry-After has passed when the other one hangs (${stream ? "streamed" : "not streamed"})`, async () => {
      now += COOLDOWN_MS * 100;
      const { userId, apiKey } = await harness.createFundedUser("1");
      await openFlakyCircuit(apiKey, 2);

      // Three seconds on: past the 429's Retry-After, within the circuit's 10 s cooldown. The steady channel hangs.
      now += 3_000;
      steady.script = silent;
      const flakyHits = flaky.requests.length;
      try {
        const { response, text } = await chat(apiKey, stream);
        expect(response.status).toBe(200);
        expect(text).toContain("from flaky");
        expect(response.headers.get("x-tollgate-attempts")).toBe("2");
        expect(flaky.requests.length).toBe(flakyHits + 1);
        await harness.container.usageWriter.flush();
        const [last] = (await generationsOf(harness.container.db, userId)).slice(-1);
        expect(last?.attempts).toMatchObject([
          { channelName: "steady", status: 408, errorType: "upstream_timeout" },
          { channelName: "flaky", status: 200, errorType: null },
        ]);
        await expectLedgerConsistent(harness.container.db, userId);
      } finally {
        steady.script = healthy("steady");
      }
      // The probe's success closed the circuit: the flaky channel is first again.
      expect((await chat(apiKey)).text).toContain("from flaky");
    });
  }

  it("does not call a cooling channel before the upstream's own Retry-After", async () => {
    now += COOLDOWN_MS * 100;
    const { apiKey } = await harness.createFundedUser("1");
    await openFlakyCircuit(apiKey, 5);

    now += 3_000;
    steady.script = silent;
    const flakyHits = flaky.requests.length;
    try {
      const { response, text } = await chat(apiKey);
      expect(response.status).toBe(408);
      expect(JSON.parse(text)).toMatchObject({ error: { code: "upstream_timeout" } });
      expect(flaky.requests.length).toBe(flakyHits);
    } finally {
      steady.script = healthy("steady");
    }
  });
});
