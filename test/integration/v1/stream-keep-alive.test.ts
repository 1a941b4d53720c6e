import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createParser } from "eventsource-parser";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel } from "~/server/services/channels";
import { fixture } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";

const COMMENT = ": tollgate processing";
const RECORDED_STREAM = fixture("openai/text-stream-include-usage").body;
const RECORDED_TEXT = "The capital of Mexico is Mexico City.";

/** How the held upstream behaves once the test releases it, chosen by the upstream model name. */
type Mode = "late-headers" | "late-first-event" | "late-failure";
const MODEL_FOR: Record<Mode, string> = {
  "late-headers": "deepseek/deepseek-chat",
  "late-first-event": "deepseek/deepseek-reasoner",
  "late-failure": "deepseek/deepseek-v4.1-flash",
};

let harness: GatewayHarness;
let held: Server;

interface Arrival {
  /** Lets the held upstream answer. */
  release: () => void;
  /** Resolves when the gateway has closed its connection to the upstream. */
  closed: Promise<void>;
}

/**
 * Requests the held upstream received, by the `user` field each test sets to its own value and the request's rank
 * among that caller's requests (a fanned-out call sends several).
 */
const arrivals = new Map<string, { promise: Promise<Arrival>; resolve: (arrival: Arrival) => void }>();
const arrivedPerCaller = new Map<string, number>();
let calls = 0;

function arrivalSlot(key: string) {
  let slot = arrivals.get(key);
  if (slot === undefined) {
    let resolve!: (arrival: Arrival) => void;
    const promise = new Promise<Arrival>((onArrival) => (resolve = onArrival));
    slot = { promise, resolve };
    arrivals.set(key, slot);
  }
  return slot;
}

/**
 * The request that `caller` made, once it reached the held upstream. The upstream answers only when the test
 * releases it, after the test has seen the gateway's keep-alive comments: nothing depends on timing.
 */
function arrivalOf(caller: string, rank = 0): Promise<Arrival> {
  return arrivalSlot(`${caller}#${rank}`).promise;
}

beforeAll(async () => {
  harness = await startGatewayHarness({ env: { STREAM_KEEPALIVE_MS: "50" } });
  held = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const { model: mode, user } = JSON.parse(Buffer.concat(parts).toString("utf8")) as { model: Mode; user: string };
      const closed = new Promise<void>((resolve) => response.once("close", () => resolve()));
      if (mode === "late-first-event") {
        response.writeHead(200, { "content-type": "text/event-stream" });
        response.flushHeaders();
      }
      const release = () => {
        if (mode === "late-failure") {
          response.writeHead(500, { "content-type": "application/json" });
          response.end(JSON.stringify({ error: { message: "The server had an error", type: "server_error" } }));
          return;
        }
        if (mode === "late-headers") response.writeHead(200, { "content-type": "text/event-stream" });
        response.end(RECORDED_STREAM);
      };
      const rank = arrivedPerCaller.get(user) ?? 0;
      arrivedPerCaller.set(user, rank + 1);
      arrivalSlot(`${user}#${rank}`).resolve({ release, closed });
    });
  });
  await new Promise<void>((resolve) => held.listen(0, "127.0.0.1", resolve));
  const { port } = held.address() as AddressInfo;
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "openai-compatible",
      name: "held",
      baseUrl: `http://127.0.0.1:${port}/v1`,
      models: (Object.keys(MODEL_FOR) as Mode[]).map((mode) => ({ modelId: MODEL_FOR[mode], upstreamModel: mode })),
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  held?.closeAllConnections();
  await new Promise((resolve) => held?.close(resolve));
  await harness?.stop();
});

/** A fresh `user` value: how the held upstream tells the tests' requests apart. */
function newCaller(): string {
  calls += 1;
  return `caller-${calls}`;
}

function streamRequest(
  apiKey: string,
  mode: Mode,
  caller: string,
  signal?: AbortSignal,
  extra: Record<string, unknown> = {},
): Promise<Response> {
  return fetch(`${harness.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      model: MODEL_FOR[mode],
      messages: [{ role: "user", content: "What is the capital of Mexico?" }],
      stream: true,
      user: caller,
      ...extra,
    }),
    signal,
  });
}

/** Reads a raw SSE body as text, comments included. */
function rawReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    get text() {
      return text;
    },
    /** Reads until `done(text)` holds or the body ends. */
    async readUntil(done: (text: string) => boolean): Promise<string> {
      while (!done(text)) {
        const { value, done: ended } = await reader.read();
        if (ended) break;
        text += decoder.decode(value, { stream: true });
      }
      return text;
    },
  };
}

function countOf(text: string, part: string): number {
  return text.split(part).length - 1;
}

/** The data of each SSE event, parsed by a real SSE parser (which drops the comments). */
function dataEvents(text: string): string[] {
  const events: string[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event.data) });
  parser.feed(text);
  return events;
}

/** `fetch` for the OpenAI SDK that shows the test the raw bytes the SDK reads, comments included. */
function watchingFetch(onText: (text: string) => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (response.body === null) return response;
    const decoder = new TextDecoder();
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          onText(decoder.decode(chunk, { stream: true }));
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

async function expectBilledAsStreamed(userId: string, costUsd: number | undefined): Promise<void> {
  await harness.container.usageWriter.flush();
  const [row] = await generationsOf(harness.container.db, userId);
  expect(row).toMatchObject({ httpStatus: 200, cancelled: false, finishReason: "stop", promptTokens: 14 });
  expect(costUsd).toBeGreaterThan(0);
  const usageEntries = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
  expect(usageEntries).toMatchObject([{ amountNano: -(row?.costNano ?? 0n) }]);
  await expectLedgerConsistent(harness.container.db, userId);
}

describe.each(["late-headers", "late-first-event"] as const)("an upstream with %s", (mode) => {
  it("gets keep-alive comments, repeated every interval, before the first data event", async () => {
    const { userId, apiKey } = await harness.createFundedUser("1");
    const caller = newCaller();
    const response = await streamRequest(apiKey, mode, caller);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const body = rawReader(response);

    await body.readUntil((text) => countOf(text, COMMENT) >= 2);
    expect(body.text).not.toContain("data:");
    (await arrivalOf(caller)).release();
    const text = await body.readUntil(() => false);

    expect(text.startsWith(`${COMMENT}\n\n`)).toBe(true);
    expect(text.indexOf(COMMENT)).toBeLessThan(text.indexOf("data:"));
    const events = dataEvents(text);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as OpenAI.Chat.Completions.ChatCompletionChunk);
    for (const chunk of chunks) assertMatchesOpenAISpec("chunk", chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(RECORDED_TEXT);
    await expectBilledAsStreamed(userId, (chunks.at(-1)?.usage as { cost?: number } | undefined)?.cost);
  });

  it("is still a normal stream to the OpenAI SDK", async () => {
    const { userId, apiKey } = await harness.createFundedUser("1");
    let seen = "";
    let commentSeen!: () => void;
    const sawComment = new Promise<void>((resolve) => (commentSeen = resolve));
    const sdk = new OpenAI({
      baseURL: harness.baseUrl,
      apiKey,
      maxRetries: 0,
      fetch: watchingFetch((text) => {
        seen += text;
        if (seen.includes(COMMENT)) commentSeen();
      }),
    });

    const caller = newCaller();
    const stream = await sdk.chat.completions.create({
      model: MODEL_FOR[mode],
      messages: [{ role: "user", content: "What is the capital of Mexico?" }],
      stream: true,
      user: caller,
    });
    const reading = (async () => {
      const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const chunk of stream) {
        assertMatchesOpenAISpec("chunk", chunk);
        chunks.push(chunk);
      }
      return chunks;
    })();
    await sawComment;
    (await arrivalOf(caller)).release();
    const chunks = await reading;

    expect(seen.indexOf(COMMENT)).toBeLessThan(seen.indexOf("data:"));
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(RECORDED_TEXT);
    await expectBilledAsStreamed(userId, (chunks.at(-1)?.usage as { cost?: number } | undefined)?.cost);
  });
});

describe.each(["late-headers", "late-first-event"] as const)(
  "a fanned-out stream (n=2) over upstreams with %s",
  (mode) => {
    it("gets keep-alive comments until its copies' first event, then their merged choices", async () => {
      const { userId, apiKey } = await harness.createFundedUser("1");
      const caller = newCaller();
      const response = await streamRequest(apiKey, mode, caller, undefined, {
        n: 2,
        stream_options: { include_usage: true },
      });
      expect(response.status).toBe(200);
      const body = rawReader(response);

      await body.readUntil((text) => countOf(text, COMMENT) >= 2);
      expect(body.text).not.toContain("data:");
      const copies = await Promise.all([arrivalOf(caller, 0), arrivalOf(caller, 1)]);
      for (const copy of copies) copy.release();
      const text = await body.readUntil(() => false);

      expect(text.indexOf(COMMENT)).toBeLessThan(text.indexOf("data:"));
      const events = dataEvents(text);
      expect(events.at(-1)).toBe("[DONE]");
      const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as OpenAI.Chat.Completions.ChatCompletionChunk);
      for (const chunk of chunks) assertMatchesOpenAISpec("chunk", chunk);
      for (const index of [0, 1]) {
        const text = chunks
          .flatMap((chunk) => chunk.choices.filter((choice) => choice.index === index))
          .map((choice) => choice.delta.content ?? "")
          .join("");
        expect(text).toBe(RECORDED_TEXT);
      }
      const usage = chunks.at(-1)?.usage as { prompt_tokens: number; cost?: number };
      expect(chunks.at(-1)?.choices).toEqual([]);
      expect(usage.prompt_tokens).toBe(28);

      await harness.container.usageWriter.flush();
      const [row] = await generationsOf(harness.container.db, userId);
      expect(row).toMatchObject({ httpStatus: 200, cancelled: false, promptTokens: 28 });
      expect(usage.cost).toBeGreaterThan(0);
      const usageEntries = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
      expect(usageEntries).toMatchObject([{ amountNano: -(row?.costNano ?? 0n) }]);
      await expectLedgerConsistent(harness.container.db, userId);
    });
  },
);

describe("an upstream that fails after the response was committed", () => {
  it("ends the stream with the in-band error event and [DONE], and bills nothing", async () => {
    const { userId, apiKey } = await harness.createFundedUser("1");
    const caller = newCaller();
    const response = await streamRequest(apiKey, "late-failure", caller);
    expect(response.status).toBe(200);
    const body = rawReader(response);
    await body.readUntil((text) => text.includes(COMMENT));
    (await arrivalOf(caller)).release();
    const text = await body.readUntil(() => false);

    expect(text.indexOf(COMMENT)).toBeLessThan(text.indexOf("data:"));
    const events = dataEvents(text);
    expect(events).toHaveLength(2);
    expect(events[1]).toBe("[DONE]");
    expect(JSON.parse(events[0]!)).toMatchObject({
      object: "chat.completion.chunk",
      model: MODEL_FOR["late-failure"],
      choices: [{ index: 0, delta: {}, finish_reason: "error" }],
      error: { type: "upstream_error", code: "upstream_error" },
    });

    await harness.container.usageWriter.flush();
    const rows = await generationsOf(harness.container.db, userId);
    expect(rows.map((row) => [row.httpStatus, row.errorType, row.finishReason, row.costNano])).toEqual([
      [502, "upstream_error", "error", 0n],
    ]);
    expect((await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage")).toHaveLength(0);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("is raised by the OpenAI SDK as an APIError", async () => {
    const { apiKey } = await harness.createFundedUser("1");
    let commentSeen!: () => void;
    const sawComment = new Promise<void>((resolve) => (commentSeen = resolve));
    const sdk = new OpenAI({
      baseURL: harness.baseUrl,
      apiKey,
      maxRetries: 0,
      fetch: watchingFetch((text) => {
        if (text.includes(COMMENT)) commentSeen();
      }),
    });
    const caller = newCaller();
    const stream = await sdk.chat.completions.create({
      model: MODEL_FOR["late-failure"],
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      user: caller,
    });
    const reading = (async () => {
      for await (const chunk of stream) assertMatchesOpenAISpec("chunk", chunk);
    })().catch((caught: unknown) => caught);
    await sawComment;
    (await arrivalOf(caller)).release();
    expect(await reading).toBeInstanceOf(OpenAI.APIError);
  });
});

describe("a client that leaves while the gateway waits for the upstream", () => {
  it("aborts the upstream call and records a cancelled generation that costs nothing", async () => {
    const { userId, apiKey } = await harness.createFundedUser("1");
    const abort = new AbortController();
    const caller = newCaller();
    const response = await streamRequest(apiKey, "late-headers", caller, abort.signal);
    const body = rawReader(response);
    await body.readUntil((text) => text.includes(COMMENT));
    // Never released: only the client leaving can end this call.
    const { closed } = await arrivalOf(caller);
    abort.abort();
    await closed;

    await expect
      .poll(async () => {
        await harness.container.usageWriter.flush();
        return (await generationsOf(harness.container.db, userId)).map((row) => [
          row.httpStatus,
          row.cancelled,
          row.errorType,
          row.costNano,
        ]);
      })
      .toEqual([[499, true, "client_disconnected", 0n]]);
    await expectLedgerConsistent(harness.container.db, userId);
  });
});
