import { TEST_ACTOR, TEST_ADJUSTMENT } from "../../helpers/audit";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { apiKeys } from "~/server/db/schema";
import { readBalanceNano } from "~/server/gateway/billing/ledger";
import { revokeApiKey, setApiKeyDisabled, updateApiKeyLimits } from "~/server/services/api-keys";
import { adjustCredits } from "~/server/services/credits";
import { addChannel } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";

let harness: GatewayHarness;
let upstream: ReplayUpstream;
let funded: { userId: string; apiKey: string; apiKeyId: string };

beforeAll(async () => {
  harness = await startGatewayHarness();
  upstream = await startReplayUpstream();
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "openai-compatible",
      name: "replay",
      baseUrl: upstream.baseUrl,
      apiKey: "sk-upstream-secret",
      models: [{ modelId: "openai/gpt-4o", upstreamModel: "gpt-4o" }],
    },
    TEST_ACTOR,
  );
  funded = await harness.createFundedUser("10");
});

afterAll(async () => {
  await upstream?.close();
  await harness?.stop();
});

const echo = { model: "tollgate/echo", messages: [{ role: "user" as const, content: "hi" }] };

async function rawCall(init: { body?: string; headers?: Record<string, string>; method?: string; path?: string }) {
  const response = await fetch(`${harness.baseUrl}${init.path ?? "/chat/completions"}`, {
    method: init.method ?? "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${funded.apiKey}`, ...init.headers },
    body: init.body,
  });
  const body = (await response.json()) as {
    error: { message: string; type: string; param: string | null; code: string | null };
  };
  assertMatchesOpenAISpec("error", body);
  return { status: response.status, headers: response.headers, error: body.error };
}

async function expectNothingBilled(run: () => Promise<unknown>): Promise<void> {
  const before = (await ledgerOf(harness.container.db, funded.userId)).length;
  await run();
  await harness.container.usageWriter.flush();
  expect(await ledgerOf(harness.container.db, funded.userId)).toHaveLength(before);
  await expectLedgerConsistent(harness.container.db, funded.userId);
}

describe("authentication", () => {
  it.each([
    ["missing", undefined, "missing_api_key"],
    ["malformed", "sk-gw-not-hex", "invalid_api_key"],
    ["unknown", `sk-gw-${"0".repeat(32)}`, "invalid_api_key"],
    ["not a gateway key", "sk-proj-abcdef", "invalid_api_key"],
  ])("refuses a %s key with 401 and OpenAI's AuthenticationError", async (_label, key, code) => {
    const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
    const raw = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(echo),
    });
    expect(raw.status).toBe(401);
    const body = (await raw.json()) as { error: { code: string; type: string } };
    assertMatchesOpenAISpec("error", body);
    expect(body.error).toMatchObject({ code, type: "authentication_error" });

    if (key !== undefined) {
      const error = await new OpenAI({ baseURL: harness.baseUrl, apiKey: key, maxRetries: 0 }).chat.completions
        .create(echo)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    }
  });

  it("tells an unknown key no more than that it is invalid", async () => {
    const { status, error } = await rawCall({
      headers: { authorization: `Bearer sk-gw-${"0".repeat(32)}` },
      body: JSON.stringify(echo),
    });
    expect(status).toBe(401);
    expect(error).toMatchObject({
      type: "authentication_error",
      code: "invalid_api_key",
      message: "Invalid API key provided.",
    });
  });

  const db = () => harness.container.db;
  const changes = () => harness.container.changes;
  it.each([
    ["revoked", (apiKeyId: string) => revokeApiKey(db(), changes(), { idOrPrefix: apiKeyId })],
    ["disabled", (apiKeyId: string) => setApiKeyDisabled(db(), changes(), { idOrPrefix: apiKeyId, disabled: true })],
    [
      "expired",
      (apiKeyId: string) => updateApiKeyLimits(db(), changes(), { id: apiKeyId, expiresAt: new Date(Date.now() - 1) }),
    ],
  ])("tells the holder of a %s key so on the very next request, with 401", async (state, change) => {
    const { apiKey, apiKeyId } = await harness.createFundedUser("1");
    const openai = new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 });
    await expect(openai.chat.completions.create(echo)).resolves.toBeDefined();
    await change(apiKeyId);
    const { status, error } = await rawCall({
      headers: { authorization: `Bearer ${apiKey}` },
      body: JSON.stringify(echo),
    });
    expect(status).toBe(401);
    expect(error).toMatchObject({ type: "authentication_error", code: `api_key_${state}` });
    expect(error.message).toMatch(new RegExp(`^This API key (has been |is |has )${state}\\.`));
    const sdkError = await openai.chat.completions.create(echo).catch((caught: unknown) => caught);
    expect(sdkError).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("tells the holder of a key revoked by a process that did not reach this one's key cache", async () => {
    const { apiKey, apiKeyId } = await harness.createFundedUser("1");
    const authorization = `Bearer ${apiKey}`;
    const models = await fetch(`${harness.baseUrl}/models`, { headers: { authorization } });
    expect(models.status).toBe(200);
    await db().update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, apiKeyId));
    // The revoking process's word by hash never came; the change named by id drops the key from this process's cache.
    await changes().publish({ topic: "api-key-changed", id: apiKeyId });
    const { status, error } = await rawCall({ headers: { authorization }, body: JSON.stringify(echo) });
    expect(status).toBe(401);
    expect(error).toMatchObject({ code: "api_key_revoked", message: expect.stringContaining("revoked") as string });
  });
});

describe("bad requests", () => {
  it("raises OpenAI's BadRequestError in the SDK", async () => {
    const error = await new OpenAI({ baseURL: harness.baseUrl, apiKey: funded.apiKey, maxRetries: 0 }).chat.completions
      .create({ model: "tollgate/echo", messages: [] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("messages");
  });

  it("answers an unknown model with 404 model_not_found and NotFoundError", async () => {
    await expectNothingBilled(async () => {
      const error = await new OpenAI({
        baseURL: harness.baseUrl,
        apiKey: funded.apiKey,
        maxRetries: 0,
      }).chat.completions
        .create({ ...echo, model: "nobody/nothing-1" })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
    });
  });
});

describe("payment", () => {
  it("answers 402 when the balance is not positive, and bills nothing", async () => {
    const broke = await harness.createFundedUser("0");
    const error = await new OpenAI({ baseURL: harness.baseUrl, apiKey: broke.apiKey, maxRetries: 0 }).chat.completions
      .create(echo)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("insufficient_credits");
    // Never funded: nothing was exhausted.
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      message: "Your account has no credits yet. Add credits to start using the API.",
    });
    await harness.container.usageWriter.flush();
    expect(await generationsOf(harness.container.db, broke.userId)).toHaveLength(0);
    expect(await ledgerOf(harness.container.db, broke.userId)).toHaveLength(0);
  });

  it("tells an account that spent its credit that its balance is exhausted", async () => {
    const spent = await harness.createFundedUser("1");
    const openai = new OpenAI({ baseURL: harness.baseUrl, apiKey: spent.apiKey, maxRetries: 0 });
    await expect(openai.chat.completions.create(echo)).resolves.toBeDefined();
    await harness.container.usageWriter.flush();
    const { db, changes } = harness.container;
    const left = await readBalanceNano(db, spent.userId);
    await adjustCredits(
      db,
      changes,
      { userId: spent.userId, amountNano: -left, note: "spend the rest" },
      TEST_ADJUSTMENT,
    );
    const error = await openai.chat.completions.create(echo).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      status: 402,
      code: "insufficient_credits",
      error: { message: "Your balance is exhausted. Add credits to continue using the API." },
    });
  });
});

describe("upstream errors", () => {
  it("passes an upstream request error (400) on with its message, and bills nothing", async () => {
    upstream.respondWith(() => "openai/error-400-unsupported-value");
    await expectNothingBilled(async () => {
      const { status, error } = await rawCall({ body: JSON.stringify({ ...echo, model: "openai/gpt-4o" }) });
      expect(status).toBe(400);
      expect(error.type).toBe("invalid_request_error");
      expect(error.message).toContain("Unsupported value");
      expect(error.code).toBe("unsupported_value");
    });
  });

  it("never leaks the upstream key when the upstream refuses the channel's credentials", async () => {
    upstream.respondWith(() => "openai/error-404-model-not-found");
    const { status, error } = await rawCall({ body: JSON.stringify({ ...echo, model: "openai/gpt-4o" }) });
    expect(status).toBe(404);
    expect(JSON.stringify(error)).not.toContain("sk-upstream-secret");
  });
});

describe("a client that gives up", () => {
  it("aborts the upstream call, records a cancelled generation and bills nothing", async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    let requestArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
    // An upstream that never answers: only the client's abort can end the call.
    const hanging = createServer((request) => {
      requestArrived();
      request.socket.once("close", () => upstreamClosed());
    });
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const { port } = hanging.address() as AddressInfo;
    try {
      await addChannel(
        harness.container.db,
        harness.container.secretBox,
        harness.container.changes,
        {
          kind: "openai-compatible",
          name: "hanging",
          baseUrl: `http://127.0.0.1:${port}/v1`,
          models: [{ modelId: "openai/gpt-4.1-nano", upstreamModel: "gpt-4.1-nano" }],
        },
        TEST_ACTOR,
      );
      const user = await harness.createFundedUser("1");
      const abort = new AbortController();
      const call = fetch(`${harness.baseUrl}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${user.apiKey}` },
        body: JSON.stringify({ ...echo, model: "openai/gpt-4.1-nano" }),
        signal: abort.signal,
      }).catch((error: unknown) => error);
      await arrived;
      abort.abort();
      await call;
      await closed;

      await expect
        .poll(async () => {
          await harness.container.usageWriter.flush();
          return (await generationsOf(harness.container.db, user.userId)).map((row) => [
            row.httpStatus,
            row.cancelled,
            row.costNano,
          ]);
        })
        .toEqual([[499, true, 0n]]);
      expect(
        (await ledgerOf(harness.container.db, user.userId)).filter((entry) => entry.kind === "usage"),
      ).toHaveLength(0);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});
