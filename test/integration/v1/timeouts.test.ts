import { TEST_ACTOR } from "../../helpers/audit";
import { createParser } from "eventsource-parser";
import { eq } from "drizzle-orm";
import { countTokens } from "gpt-tokenizer";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { channels } from "~/server/db/schema";
import { addChannel } from "~/server/services/channels";
import {
  answerFrom,
  contentChunk,
  startFaultUpstream,
  type FaultScript,
  type FaultUpstream,
} from "../../helpers/fault-upstream";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { startStalledListener, type StalledListener } from "../../helpers/stalled-listener";

/*
 * Per-channel upstream time limits, set on the channels table as an operator would and picked up by a catalog
 * reload. Before the first byte a timeout (connect or first byte) is a failed attempt and the next candidate answers;
 * after it (idle between chunks, or the call's total) the stream ends with the in-band error chunk, the generation
 * records `upstream_timeout`, and only what the client received is billed. Whenever the gateway gives up, the
 * upstream sees its connection closed. Limits are small and upstream delays short; nothing asserts on elapsed time.
 */

const FAILOVER_MODEL = "openai/gpt-4.1-nano";
const STREAM_MODEL = "openai/gpt-4o";
const CONNECT_MODEL = "openai/gpt-4.1";

type Limits = Partial<
  Pick<typeof channels.$inferInsert, "connectTimeoutMs" | "firstByteTimeoutMs" | "idleTimeoutMs" | "totalTimeoutMs">
>;

const NO_LIMITS: Required<Limits> = {
  connectTimeoutMs: null,
  firstByteTimeoutMs: null,
  idleTimeoutMs: null,
  totalTimeoutMs: null,
};

let harness: GatewayHarness;
/** Primary for FAILOVER_MODEL: misbehaves on cue. */
let slow: FaultUpstream;
/** Fallback for FAILOVER_MODEL and CONNECT_MODEL: always answers at once. */
let steady: FaultUpstream;
/** The only channel of STREAM_MODEL: streams part of an answer, then misbehaves. */
let dripping: FaultUpstream;
let stalled: StalledListener;
const channelIds = new Map<string, string>();
const timers = new Set<NodeJS.Timeout>();

const healthy =
  (label: string): FaultScript =>
  (_request, response, body) =>
    answerFrom(label, body.stream === true, response);
const silent: FaultScript = () => {};

beforeAll(async () => {
  harness = await startGatewayHarness({
    env: {
      // Circuits stay closed: every test sees every channel.
      CIRCUIT_BREAKER_FAILURES: "20",
      // Longer than a test may run (the other defaults are minutes already): only a channel's own limit can cut.
      UPSTREAM_CONNECT_TIMEOUT_MS: "120000",
    },
  });
  slow = await startFaultUpstream(silent);
  steady = await startFaultUpstream(healthy("steady"));
  dripping = await startFaultUpstream(silent);
  stalled = await startStalledListener();
  const { db, secretBox, changes } = harness.container;
  const add = async (name: string, baseUrl: string, priority: number, models: [string, string][]) => {
    const { channel } = await addChannel(
      db,
      secretBox,
      changes,
      {
        kind: "openai-compatible",
        name,
        baseUrl,
        apiKey: `sk-${name}`,
        priority,
        models: models.map(([modelId, upstreamModel]) => ({ modelId, upstreamModel })),
      },
      TEST_ACTOR,
    );
    channelIds.set(name, channel.id);
  };
  await add("slow", slow.baseUrl, 10, [[FAILOVER_MODEL, "gpt-4.1-nano"]]);
  await add("steady", steady.baseUrl, 0, [
    [FAILOVER_MODEL, "gpt-4.1-nano"],
    [CONNECT_MODEL, "gpt-4.1"],
  ]);
  await add("dripping", dripping.baseUrl, 0, [[STREAM_MODEL, "gpt-4o"]]);
  await add("stalled", `${stalled.origin}/v1`, 10, [[CONNECT_MODEL, "gpt-4.1"]]);
});

afterEach(() => {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
});

afterAll(async () => {
  await harness?.stop();
  await Promise.all([slow?.close(), steady?.close(), dripping?.close(), stalled?.close()]);
});

/** Sets a channel's own limits (the others back to the default) and reloads the catalog, as an operator's edit does. */
async function setLimits(name: string, limits: Limits): Promise<void> {
  await harness.container.db
    .update(channels)
    .set({ ...NO_LIMITS, ...limits })
    .where(eq(channels.id, channelIds.get(name)!));
  await harness.container.catalog.reload();
}

async function chat(apiKey: string, model: string, stream: boolean) {
  const response = await fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], stream }),
  });
  return { response, text: await response.text() };
}

interface StreamChunk {
  choices: { delta: { content?: string }; finish_reason: string | null }[];
  error?: { type: string; code: string | null; message: string };
}

/** The data events of a finished SSE body: the chunks, and whether it ended with [DONE]. */
function readStream(text: string): { chunks: StreamChunk[]; done: boolean } {
  const data: string[] = [];
  const parser = createParser({ onEvent: (event) => data.push(event.data) });
  parser.feed(text);
  const done = data.at(-1) === "[DONE]";
  return { chunks: (done ? data.slice(0, -1) : data).map((item) => JSON.parse(item) as StreamChunk), done };
}

async function settledGeneration(userId: string) {
  await harness.container.usageWriter.flush();
  const rows = await generationsOf(harness.container.db, userId);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function usageDebits(userId: string) {
  return (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
}

describe("before the first byte", () => {
  for (const stream of [false, true]) {
    it(`fails over when a channel sends no headers within its own first-byte limit (${stream ? "streamed" : "not streamed"})`, async () => {
      await setLimits("slow", { firstByteTimeoutMs: 100 });
      slow.script = silent;
      const { userId, apiKey } = await harness.createFundedUser("1");

      const { response, text } = await chat(apiKey, FAILOVER_MODEL, stream);
      expect(response.status).toBe(200);
      expect(text).toContain("from steady");
      expect(response.headers.get("x-tollgate-channel")).toBe("steady");
      // The gateway hung up on the channel it gave up on.
      await slow.requests.at(-1)!.connectionClosed;

      const generation = await settledGeneration(userId);
      expect(generation.attempts).toMatchObject([
        { channelName: "slow", status: 408, errorType: "upstream_timeout" },
        { channelName: "steady", status: 200, errorType: null },
      ]);
      expect(generation).toMatchObject({ errorType: null, httpStatus: 200 });
      // The timed-out attempt cost nothing: one debit, for the answer.
      expect(await usageDebits(userId)).toMatchObject([{ amountNano: -generation.costNano }]);
      await expectLedgerConsistent(harness.container.db, userId);
    });
  }

  it("still waits on the same slow upstream when its channel keeps the default first-byte limit", async () => {
    await setLimits("slow", {});
    slow.script = (_request, response, body) => {
      // Later than the small limit above, far below the default.
      const timer = setTimeout(() => answerFrom("slow", body.stream === true, response), 250);
      timers.add(timer);
    };
    const { userId, apiKey } = await harness.createFundedUser("1");

    const { response, text } = await chat(apiKey, FAILOVER_MODEL, false);
    expect(response.status).toBe(200);
    expect(text).toContain("from slow");
    expect(response.headers.get("x-tollgate-attempts")).toBe("1");
    const generation = await settledGeneration(userId);
    expect(generation).toMatchObject({ errorType: null, attempts: null, billingStatus: "exact" });
  });

  it("fails over when a channel cannot connect within its own connect limit", async () => {
    // The stalled listener's accept queue is full: the SYN goes unanswered until the 100 ms limit gives up.
    await setLimits("stalled", { connectTimeoutMs: 100 });
    const { userId, apiKey } = await harness.createFundedUser("1");

    const { response, text } = await chat(apiKey, CONNECT_MODEL, false);
    expect(response.status).toBe(200);
    expect(text).toContain("from steady");
    const generation = await settledGeneration(userId);
    expect(generation.attempts).toMatchObject([
      { channelName: "stalled", status: 408, errorType: "upstream_timeout" },
      { channelName: "steady", status: 200, errorType: null },
    ]);
    await expectLedgerConsistent(harness.container.db, userId);
  });
});

describe("after the first byte", () => {
  it("ends a stream that goes silent past the channel's idle limit with the error chunk, billing what was received", async () => {
    await setLimits("dripping", { idleTimeoutMs: 150 });
    dripping.script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(contentChunk("The first words of a long answer"));
      // …and then nothing.
    };
    const { userId, apiKey } = await harness.createFundedUser("1");

    const { response, text } = await chat(apiKey, STREAM_MODEL, true);
    expect(response.status).toBe(200);
    const { chunks, done } = readStream(text);
    expect(done).toBe(true);
    expect(chunks).toHaveLength(2);
    expect(chunks[0]!.choices[0]!.delta.content).toBe("The first words of a long answer");
    expect(chunks[1]).toMatchObject({
      choices: [{ delta: {}, finish_reason: "error" }],
      error: { type: "timeout_error", code: "upstream_timeout" },
    });
    await dripping.requests.at(-1)!.connectionClosed;

    const generation = await settledGeneration(userId);
    expect(generation).toMatchObject({
      errorType: "upstream_timeout",
      finishReason: "error",
      cancelled: false,
      billingStatus: "estimated",
      completionTokens: countTokens("The first words of a long answer"),
    });
    expect(generation.costNano).toBeGreaterThan(0n);
    expect(await usageDebits(userId)).toMatchObject([{ amountNano: -generation.costNano }]);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("cuts a stream that keeps dripping faster than the idle limit at the channel's total limit", async () => {
    await setLimits("dripping", { totalTimeoutMs: 400 });
    dripping.script = (_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      let sent = 0;
      const drip = () => {
        // Bounded, so a gateway that failed to cut it would still see the stream end (without [DONE]).
        if (response.destroyed || sent === 500) return void response.end();
        response.write(contentChunk(`word${sent} `));
        sent += 1;
        const timer = setTimeout(drip, 20);
        timers.add(timer);
      };
      drip();
    };
    const { userId, apiKey } = await harness.createFundedUser("1");

    const { response, text } = await chat(apiKey, STREAM_MODEL, true);
    expect(response.status).toBe(200);
    const { chunks, done } = readStream(text);
    expect(done).toBe(true);
    const errorChunk = chunks.at(-1)!;
    expect(errorChunk).toMatchObject({
      choices: [{ delta: {}, finish_reason: "error" }],
      error: { type: "timeout_error", code: "upstream_timeout" },
    });
    const received = chunks.slice(0, -1).map((chunk) => chunk.choices[0]?.delta.content ?? "");
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(500);
    await dripping.requests.at(-1)!.connectionClosed;

    const generation = await settledGeneration(userId);
    // A total timeout is the upstream's failure, never taken for the client leaving.
    expect(generation).toMatchObject({
      errorType: "upstream_timeout",
      cancelled: false,
      billingStatus: "estimated",
      completionTokens: countTokens(received.join("")),
    });
    expect(await usageDebits(userId)).toMatchObject([{ amountNano: -generation.costNano }]);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("answers a non-streamed call whose body stalls past the idle limit with the upstream timeout error, billing nothing", async () => {
    await setLimits("dripping", { idleTimeoutMs: 150 });
    dripping.script = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"id":"chatcmpl-stalled","choices":[');
    };
    const { userId, apiKey } = await harness.createFundedUser("1");

    const { response, text } = await chat(apiKey, STREAM_MODEL, false);
    expect(response.status).toBe(408);
    expect(JSON.parse(text)).toMatchObject({ error: { type: "timeout_error", code: "upstream_timeout" } });
    await dripping.requests.at(-1)!.connectionClosed;

    const generation = await settledGeneration(userId);
    expect(generation).toMatchObject({ httpStatus: 408, errorType: "upstream_timeout", costNano: 0n });
    expect(await usageDebits(userId)).toHaveLength(0);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("answers a non-streamed call that outlasts the channel's total limit with the upstream timeout error", async () => {
    await setLimits("dripping", { totalTimeoutMs: 300 });
    dripping.script = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      const drip = () => {
        if (response.destroyed) return;
        response.write(" ");
        const timer = setTimeout(drip, 20);
        timers.add(timer);
      };
      drip();
    };
    const { userId, apiKey } = await harness.createFundedUser("1");

    const { response } = await chat(apiKey, STREAM_MODEL, false);
    expect(response.status).toBe(408);
    await dripping.requests.at(-1)!.connectionClosed;
    const generation = await settledGeneration(userId);
    expect(generation).toMatchObject({ errorType: "upstream_timeout", costNano: 0n });
  });
});
