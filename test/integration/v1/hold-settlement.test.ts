import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "~/server/db";
import { worstCaseCostNano } from "~/server/gateway/billing/compute-cost";
import { measurePrompt, promptTokenBound } from "~/server/gateway/billing/estimate-tokens";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { createApiKey } from "~/server/services/api-keys";
import { addChannel } from "~/server/services/channels";
import { addCredits } from "~/server/services/credits";
import { createUser } from "~/server/services/users";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { startGatewayPair, type GatewayPair } from "../../helpers/gateway-pair";
import { balanceOf, expectLedgerConsistent, generationsOf } from "../../helpers/ledger-assertions";
import { tokenPrices } from "../../helpers/prices";
import { availableDatabaseKinds } from "../../helpers/test-database";

/*
 * A client that waits for each answer before it sends the next call must be able to spend its balance down to less
 * than one call's worst case. The usage writer's group-commit window is set to a minute here, so no settlement
 * reaches the database while the calls run: a call is admitted only if the hold of every answered call has already
 * become its cost (or, for a refused call, nothing) by the time its answer reached the client.
 */

const MODEL = "openai/gpt-4o-mini";
/** gpt-4o-mini at list prices: 24 prompt tokens at $0.15/M and 8 output tokens at $0.60/M. */
const USAGE = { prompt_tokens: 24, completion_tokens: 8, total_tokens: 32 };
const COST_NANO = 24n * 150n + 8n * 600n;
const CALLS_FUNDED = 50n;
const REQUEST = {
  model: MODEL,
  messages: [{ role: "user" as const, content: "One short answer, please." }],
  max_tokens: 8,
};
/** What each call holds until it settles: its prompt bound and 8 output tokens at list prices. */
const HOLD_NANO = worstCaseCostNano(
  { promptTokens: promptTokenBound(measurePrompt(REQUEST)), outputTokens: 8, imageCount: 0 },
  tokenPrices({ inputPriceNano: 150_000_000n, outputPriceNano: 600_000_000n }),
);
const NO_FLUSH_WHILE_CALLING = { USAGE_FLUSH_MS: "60000" };

/** An OpenAI-compatible upstream answering every call with USAGE; a message saying "refuse" gets a 400. */
async function startUpstream(): Promise<{ baseUrl: string; server: Server }> {
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as {
        stream?: boolean;
        messages: { content: string }[];
      };
      if (body.messages[0]?.content === "refuse") {
        response.writeHead(400, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: "Refused.", type: "invalid_request_error", code: null } }));
        return;
      }
      const base = { id: "chatcmpl-seq", created: 1_700_000_000, model: "gpt-4o-mini" };
      if (body.stream !== true) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            ...base,
            object: "chat.completion",
            choices: [{ index: 0, message: { role: "assistant", content: "Short." }, finish_reason: "length" }],
            usage: USAGE,
          }),
        );
        return;
      }
      const chunk = (choices: unknown[], usage: unknown = null) =>
        `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices, usage })}\n\n`;
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(
        chunk([{ index: 0, delta: { role: "assistant", content: "Short." }, finish_reason: null }]) +
          chunk([{ index: 0, delta: {}, finish_reason: "length" }]) +
          chunk([], USAGE) +
          "data: [DONE]\n\n",
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, server };
}

interface Answer {
  status: number;
  error?: { code: string; message: string };
}

/** One call, read to its end (a stream to its [DONE]) before the next is sent. */
async function call(baseUrl: string, apiKey: string, options: { stream: boolean; content?: string }): Promise<Answer> {
  const response = await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      ...REQUEST,
      stream: options.stream,
      ...(options.content === undefined ? {} : { messages: [{ role: "user", content: options.content }] }),
    }),
  });
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, ...(JSON.parse(text) as Pick<Answer, "error">) };
  if (options.stream) expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  return { status: 200 };
}

/**
 * Calls one at a time, alternating streamed and whole answers (and gateways), until one is refused; checks that the
 * account spent all it could: every call whose worst case the settled balance covered was admitted, and the refusal
 * says what is really available.
 */
async function spendDown(baseUrls: readonly string[], apiKey: string): Promise<number> {
  const expectedAnswers = Number((COST_NANO * CALLS_FUNDED - HOLD_NANO) / COST_NANO) + 1;
  let answered = 0;
  for (;;) {
    const answer = await call(baseUrls[answered % baseUrls.length]!, apiKey, { stream: answered % 2 === 1 });
    if (answer.status !== 200) {
      expect(answer.status).toBe(402);
      const available = COST_NANO * CALLS_FUNDED - COST_NANO * BigInt(answered);
      expect(answer.error?.message).toContain(`needs $${formatNanoAsUsd(HOLD_NANO)}`);
      expect(answer.error?.message).toContain(`but $${formatNanoAsUsd(available)} is available`);
      break;
    }
    answered += 1;
    expect(answered).toBeLessThanOrEqual(Number(CALLS_FUNDED));
  }
  expect(answered).toBe(expectedAnswers);
  return answered;
}

async function settledInDatabase(db: Database, userId: string, answered: number): Promise<void> {
  expect(await balanceOf(db, userId)).toBe(COST_NANO * (CALLS_FUNDED - BigInt(answered)));
  await expectLedgerConsistent(db, userId);
}

describe.each(availableDatabaseKinds())("holds settle before the answer ends (%s)", (kind) => {
  let harness: GatewayHarness;
  let upstream: { baseUrl: string; server: Server };

  beforeAll(async () => {
    upstream = await startUpstream();
    harness = await startGatewayHarness({ databaseKind: kind, env: NO_FLUSH_WHILE_CALLING });
    await addChannel(
      harness.container.db,
      harness.container.secretBox,
      harness.container.changes,
      {
        kind: "openai-compatible",
        name: "sequential",
        baseUrl: upstream.baseUrl,
        models: [{ modelId: MODEL, upstreamModel: "gpt-4o-mini" }],
      },
      TEST_ACTOR,
    );
    await harness.container.catalog.reload();
  });

  afterAll(async () => {
    await harness?.stop();
    await new Promise((resolve) => upstream?.server.close(resolve));
  });

  it("lets a client that waits for each answer spend its balance down to less than one call's worst case", async () => {
    // The figures: 8,400 nano-USD a call, held at up to 14,700 while it runs.
    expect(COST_NANO).toBe(8_400n);
    const { userId, apiKey } = await harness.createFundedUser("0");
    await addCredits(harness.container.db, harness.container.changes, { userId, amountNano: COST_NANO * CALLS_FUNDED });

    const answered = await spendDown([harness.baseUrl], apiKey);

    await harness.container.usageWriter.flush();
    expect(await harness.container.holds.heldNano(userId)).toBe(0n);
    expect(await generationsOf(harness.container.db, userId)).toHaveLength(answered);
    await settledInDatabase(harness.container.db, userId, answered);
  });

  it("releases the hold of a call the upstream refused before the refusal reaches the client", async () => {
    const { userId, apiKey } = await harness.createFundedUser("0");
    // Exactly one call's worst case: a second call is admitted only once the first one's hold is gone.
    await addCredits(harness.container.db, harness.container.changes, { userId, amountNano: HOLD_NANO });
    for (const stream of [false, true]) {
      const refused = await call(harness.baseUrl, apiKey, { stream, content: "refuse" });
      expect(refused.status).toBe(400);
    }
    expect((await call(harness.baseUrl, apiKey, { stream: false })).status).toBe(200);
    await harness.container.usageWriter.flush();
    expect(await harness.container.holds.heldNano(userId)).toBe(0n);
    expect(await balanceOf(harness.container.db, userId)).toBe(HOLD_NANO - COST_NANO);
    await expectLedgerConsistent(harness.container.db, userId);
  });
});

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)(
  "holds settle before the answer ends, across two processes",
  () => {
    let pair: GatewayPair;
    let upstream: { baseUrl: string; server: Server };

    beforeAll(async () => {
      upstream = await startUpstream();
      pair = await startGatewayPair({
        channel: {
          name: "sequential",
          baseUrl: upstream.baseUrl,
          models: [{ modelId: MODEL, upstreamModel: "gpt-4o-mini" }],
        },
        variables: NO_FLUSH_WHILE_CALLING,
      });
    });

    afterAll(async () => {
      await pair?.close();
      await new Promise((resolve) => upstream?.server.close(resolve));
    });

    it("spends the balance down through both processes in turn", async () => {
      const { db } = pair.database.handle;
      const user = await createUser(db, { email: "sequential@example.com", password: "password-123" });
      const { plaintext } = await createApiKey(db, { userId: user.id, name: "sequential" });
      await addCredits(db, pair.changes, { userId: user.id, amountNano: COST_NANO * CALLS_FUNDED });
      for (const gateway of pair.gateways) {
        await expect
          .poll(
            async () =>
              (await fetch(`${gateway.baseUrl}/models/${MODEL}`, { headers: { authorization: `Bearer ${plaintext}` } }))
                .status,
            { timeout: 30_000 },
          )
          .toBe(200);
      }

      const answered = await spendDown(
        pair.gateways.map((gateway) => gateway.baseUrl),
        plaintext,
      );

      // SIGTERM drains each process's usage writer: the settlements it held reach the database.
      await pair.stopGateways();
      await settledInDatabase(db, user.id, answered);
    });
  },
);
