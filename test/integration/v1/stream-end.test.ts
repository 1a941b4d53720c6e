import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { nanoToUsdNumber } from "~/server/gateway/billing/money";
import { addChannel } from "~/server/services/channels";
import { fixture } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";

/*
 * Where a stream ends for its client: at the upstream's [DONE]. The last chunks, the usage and the gateway's own
 * [DONE] go out together, whether or not the upstream has closed its body yet, and the rest of that body is read
 * behind them, so the upstream connection serves the next call instead of being cut. The upstream here writes a
 * recorded OpenAI stream and keeps its body open until the test lets it end: nothing depends on timing.
 */

const RECORDED_STREAM = fixture("openai/text-stream-include-usage").body;
const RECORDED_TEXT = "The capital of Mexico is Mexico City.";
const MODEL = "deepseek/deepseek-chat";

let harness: GatewayHarness;
let upstream: Server;
/** Upstream answers whose body is still open, oldest first. */
const openBodies: ServerResponse[] = [];
let connectionsOpened = 0;
let connectionsClosed = 0;

beforeAll(async () => {
  harness = await startGatewayHarness();
  upstream = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(RECORDED_STREAM);
      openBodies.push(response);
    });
  });
  upstream.on("connection", (socket) => {
    connectionsOpened += 1;
    socket.once("close", () => (connectionsClosed += 1));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const { port } = upstream.address() as AddressInfo;
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "openai-compatible",
      name: "open-ended",
      baseUrl: `http://127.0.0.1:${port}/v1`,
      models: [{ modelId: MODEL, upstreamModel: "gpt-4o" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
  await harness?.stop();
});

/** Ends the oldest upstream body still open, once its end has been handed to the kernel. */
async function endOldestBody(): Promise<void> {
  const response = openBodies.shift();
  if (response === undefined) throw new Error("no upstream body is open");
  await new Promise<void>((resolve) => response.end(resolve));
}

async function streamedCall(apiKey: string) {
  const client = new OpenAI({ apiKey, baseURL: harness.baseUrl, maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "What is the capital of Mexico?" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

it("ends the client's stream at the upstream's [DONE] while the upstream still holds its body open", async () => {
  const { userId, apiKey } = await harness.createFundedUser("1");

  // Without the end coming from [DONE], this waits for an upstream body that only ends after it.
  const chunks = await streamedCall(apiKey);
  expect(openBodies).toHaveLength(1);
  expect(openBodies[0]?.writableEnded).toBe(false);

  for (const chunk of chunks) assertMatchesOpenAISpec("chunk", chunk);
  expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(RECORDED_TEXT);
  const usage = chunks.at(-1)?.usage as { completion_tokens: number; cost: number } | undefined;
  expect(usage?.completion_tokens).toBe(8);

  await endOldestBody();
  await harness.container.usageWriter.flush();
  const [generation] = await generationsOf(harness.container.db, userId);
  expect(generation).toMatchObject({ httpStatus: 200, cancelled: false, finishReason: "stop", completionTokens: 8 });
  expect(usage?.cost).toBe(nanoToUsdNumber(generation?.costNano ?? 0n));
  const debits = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
  expect(debits).toMatchObject([{ amountNano: -(generation?.costNano ?? 0n) }]);
  await expectLedgerConsistent(harness.container.db, userId);
});

it("reads the rest of the upstream body behind the client's end, so the next call reuses the connection", async () => {
  const { apiKey } = await harness.createFundedUser("1");
  const openedBefore = connectionsOpened;
  const closedBefore = connectionsClosed;

  await streamedCall(apiKey);
  await endOldestBody();
  await streamedCall(apiKey);
  await endOldestBody();

  // The first call may have needed a connection of its own; the second found it free, and none was cut.
  expect(connectionsOpened - openedBefore).toBeLessThanOrEqual(1);
  expect(connectionsClosed - closedBefore).toBe(0);
});

it("sends the finish chunk, the usage chunk and [DONE] as one piece", async () => {
  const { apiKey } = await harness.createFundedUser("1");
  const response = await harness.container.gateway.handle({
    method: "POST",
    path: "/v1/chat/completions",
    query: new URLSearchParams(),
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: Buffer.from(
      JSON.stringify({
        model: MODEL,
        messages: [{ role: "user", content: "What is the capital of Mexico?" }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    ),
    signal: new AbortController().signal,
  });
  expect(response.status).toBe(200);
  const pieces: string[] = [];
  for await (const piece of response.body as AsyncIterable<string>) pieces.push(piece);
  await endOldestBody();

  // Each piece is one write to the client: the end of the answer is one write, not three. (The recorded stream
  // reaches the gateway in one read, so here that one write carries the whole answer.)
  const events = (pieces.at(-1) ?? "").split("\n\n").filter((event) => event !== "");
  const [finish, usage, done] = events.slice(-3);
  expect(JSON.parse(finish?.slice("data: ".length) ?? "")).toMatchObject({ choices: [{ finish_reason: "stop" }] });
  expect(JSON.parse(usage?.slice("data: ".length) ?? "")).toMatchObject({
    choices: [],
    usage: { completion_tokens: 8 },
  });
  expect(done).toBe("data: [DONE]");
});
