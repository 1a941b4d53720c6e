import { TEST_ACTOR } from "../../helpers/audit";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Database } from "~/server/db";
import { apiKeys, users } from "~/server/db/schema";
import { createChangeBus } from "~/server/changes";
import { silentLogger } from "~/server/gateway/logger";
import { createApiKey, setAccountRateLimits } from "~/server/services/api-keys";
import { addChannel } from "~/server/services/channels";
import { addCredits } from "~/server/services/credits";
import { createUser } from "~/server/services/users";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { startGatewayProcess, type GatewayProcess } from "../../helpers/gateway-process";
import { startHeldUpstream, type HeldUpstream } from "../../helpers/held-upstream";
import { createTestDatabase, type TestDatabase } from "../../helpers/test-database";

const ECHO = { model: "tollgate/echo", messages: [{ role: "user", content: "Count me." }] };
const HELD_MODEL = "openai/gpt-4.1-nano";
const RESET = /^(\d+ms|\d+s|\d+m\d+s)$/;

function post(baseUrl: string, apiKey: string, body: object = ECHO, signal?: AbortSignal): Promise<Response> {
  return fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
    signal,
  });
}

async function setKeyLimits(db: Database, apiKeyId: string, limits: Partial<typeof apiKeys.$inferInsert>) {
  await db.update(apiKeys).set(limits).where(eq(apiKeys.id, apiKeyId));
}

describe("rate limits in one gateway", () => {
  let harness: GatewayHarness;
  let upstream: HeldUpstream;

  beforeAll(async () => {
    // A stream whose upstream is held gets its headers after this keep-alive delay, so the test holds an open stream.
    harness = await startGatewayHarness({ env: { STREAM_KEEPALIVE_MS: "20" } });
    upstream = await startHeldUpstream();
    await addChannel(
      harness.container.db,
      harness.container.secretBox,
      harness.container.changes,
      {
        kind: "openai-compatible",
        name: "held",
        baseUrl: upstream.baseUrl,
        models: [{ modelId: HELD_MODEL, upstreamModel: "gpt-4.1-nano" }],
      },
      TEST_ACTOR,
    );
  });

  afterAll(async () => {
    await harness?.stop();
    await upstream?.close();
  });

  it("sends the request headers on every /v1 response, counting only completions", async () => {
    const { apiKey, apiKeyId } = await harness.createFundedUser("1");
    await setKeyLimits(harness.container.db, apiKeyId, { requestsPerMinute: 5, tokensPerMinute: 1_000 });
    const first = await post(harness.baseUrl, apiKey);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("5");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("4");
    expect(first.headers.get("x-ratelimit-reset-requests")).toMatch(RESET);
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("1000");
    expect(first.headers.get("x-ratelimit-reset-tokens")).toMatch(RESET);
    const { usage } = (await first.json()) as { usage: { total_tokens: number } };
    expect(usage.total_tokens).toBeGreaterThan(0);

    const models = await fetch(`${harness.baseUrl}/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(models.status).toBe(200);
    expect(models.headers.get("x-ratelimit-limit-requests")).toBe("5");
    expect(models.headers.get("x-ratelimit-remaining-requests")).toBe("4");
    // The first call's tokens were recorded when it settled.
    expect(models.headers.get("x-ratelimit-remaining-tokens")).toBe(String(1_000 - usage.total_tokens));
  });

  it("tells a key without limits so on every answer to it, and a limited key its real state", async () => {
    const UNLIMITED = String(2 ** 31 - 1);
    const expectUnlimited = (response: Response) => {
      expect(response.headers.get("x-ratelimit-limit-requests")).toBe(UNLIMITED);
      expect(response.headers.get("x-ratelimit-remaining-requests")).toBe(UNLIMITED);
      expect(response.headers.get("x-ratelimit-reset-requests")).toBe("0s");
      // No token limit: no token headers.
      expect(response.headers.get("x-ratelimit-limit-tokens")).toBeNull();
    };
    const { apiKey } = await harness.createFundedUser("1");

    const plain = await post(harness.baseUrl, apiKey);
    expect(plain.status).toBe(200);
    expectUnlimited(plain);
    const streamed = await post(harness.baseUrl, apiKey, { ...ECHO, stream: true });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain("[DONE]");
    expectUnlimited(streamed);
    const invalid = await post(harness.baseUrl, apiKey, { ...ECHO, messages: [] });
    expect(invalid.status).toBe(400);
    expectUnlimited(invalid);
    const unknownModel = await post(harness.baseUrl, apiKey, { ...ECHO, model: "nobody/nothing-1" });
    expect(unknownModel.status).toBe(404);
    expect(((await unknownModel.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    expectUnlimited(unknownModel);
    const models = await fetch(`${harness.baseUrl}/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(models.status).toBe(200);
    expectUnlimited(models);
    // A read refused at once (an unknown model) still says where the key stands.
    for (const path of ["/models/nobody/nothing-1", "/models/nobody/nothing-1/endpoints", "/generation"]) {
      const refused = await fetch(`${harness.baseUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
      expect(refused.status, path).toBeGreaterThanOrEqual(400);
      expectUnlimited(refused);
    }
    const broke = await harness.createFundedUser("0");
    const unpaid = await post(harness.baseUrl, broke.apiKey);
    expect(unpaid.status).toBe(402);
    expectUnlimited(unpaid);

    // Before a key is known there are no limits to describe.
    const unauthenticated = await post(harness.baseUrl, `sk-gw-${"0".repeat(32)}`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("x-ratelimit-limit-requests")).toBeNull();

    const limited = await harness.createFundedUser("1");
    await setKeyLimits(harness.container.db, limited.apiKeyId, { requestsPerMinute: 7 });
    const counted = await post(harness.baseUrl, limited.apiKey);
    expect(counted.status).toBe(200);
    expect(counted.headers.get("x-ratelimit-limit-requests")).toBe("7");
    expect(counted.headers.get("x-ratelimit-remaining-requests")).toBe("6");
    expect(counted.headers.get("x-ratelimit-reset-requests")).toMatch(RESET);
    const limitedNotFound = await post(harness.baseUrl, limited.apiKey, { ...ECHO, model: "nobody/nothing-1" });
    expect(limitedNotFound.status).toBe(404);
    expect(limitedNotFound.headers.get("x-ratelimit-limit-requests")).toBe("7");
    expect(limitedNotFound.headers.get("x-ratelimit-remaining-requests")).toBe("5");
    const limitedRead = await fetch(`${harness.baseUrl}/models/nobody/nothing-1`, {
      headers: { authorization: `Bearer ${limited.apiKey}` },
    });
    expect(limitedRead.status).toBe(404);
    expect(limitedRead.headers.get("x-ratelimit-limit-requests")).toBe("7");

    // A key limited only in tokens still gets the requests headers, as unlimited.
    const tokensOnly = await harness.createFundedUser("1");
    await setKeyLimits(harness.container.db, tokensOnly.apiKeyId, { tokensPerMinute: 1_000 });
    const tokenLimited = await post(harness.baseUrl, tokensOnly.apiKey);
    expect(tokenLimited.status).toBe(200);
    expect(tokenLimited.headers.get("x-ratelimit-limit-requests")).toBe(UNLIMITED);
    expect(tokenLimited.headers.get("x-ratelimit-reset-requests")).toBe("0s");
    expect(tokenLimited.headers.get("x-ratelimit-limit-tokens")).toBe("1000");
  });

  it("refuses past the key's requests per minute with a 429, Retry-After and which limit was hit", async () => {
    const { apiKey, apiKeyId } = await harness.createFundedUser("1");
    await setKeyLimits(harness.container.db, apiKeyId, { requestsPerMinute: 2 });
    expect((await post(harness.baseUrl, apiKey)).status).toBe(200);
    expect((await post(harness.baseUrl, apiKey)).status).toBe(200);
    const refused = await post(harness.baseUrl, apiKey);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(refused.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(await refused.json()).toEqual({
      error: {
        message: `This key's limit of 2 requests per minute is reached; retry in ${retryAfter} s.`,
        type: "rate_limit_error",
        param: null,
        code: "rate_limit_exceeded",
        metadata: { error_type: "rate_limited" },
      },
    });
  });

  it("counts an account's limit across its keys", async () => {
    const { apiKey, userId } = await harness.createFundedUser("1");
    await harness.container.db.update(users).set({ requestsPerMinute: 1 }).where(eq(users.id, userId));
    const { plaintext: second } = await createApiKey(harness.container.db, { userId, name: "second" });
    expect((await post(harness.baseUrl, apiKey)).status).toBe(200);
    const refused = await post(harness.baseUrl, second);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /^This account's limit of 1 requests per minute is reached/,
    );
  });

  it("applies an account limit set by an operator from the next request of keys already in use, and lifts it", async () => {
    const { apiKey, userId } = await harness.createFundedUser("1");
    const { plaintext: second } = await createApiKey(harness.container.db, { userId, name: "second" });
    // Both keys are authenticated (and cached) without an account limit.
    expect((await post(harness.baseUrl, apiKey)).status).toBe(200);
    expect((await post(harness.baseUrl, second)).status).toBe(200);

    const { db, changes } = harness.container;
    await setAccountRateLimits(db, changes, { userId, requestsPerMinute: 3 }, TEST_ACTOR);
    expect((await post(harness.baseUrl, apiKey)).headers.get("x-ratelimit-limit-requests")).toBe("3");
    expect((await post(harness.baseUrl, second)).status).toBe(200);
    expect((await post(harness.baseUrl, apiKey)).status).toBe(200);
    const refused = await post(harness.baseUrl, second);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /^This account's limit of 3 requests per minute is reached/,
    );

    await setAccountRateLimits(db, changes, { userId, requestsPerMinute: null }, TEST_ACTOR);
    const lifted = await post(harness.baseUrl, second);
    expect(lifted.status).toBe(200);
    expect(lifted.headers.get("x-ratelimit-limit-requests")).toBe(String(2 ** 31 - 1));
  });

  it("releases a concurrency slot when a client aborts its stream, and when a stream ends", async () => {
    const { apiKey, apiKeyId } = await harness.createFundedUser("1");
    await setKeyLimits(harness.container.db, apiKeyId, { concurrentRequests: 1 });
    const streamed = { model: HELD_MODEL, messages: [{ role: "user", content: "Hold." }], stream: true };

    // A stream held open by its upstream takes the only slot.
    const abort = new AbortController();
    const aborted = await post(harness.baseUrl, apiKey, streamed, abort.signal);
    expect(aborted.status).toBe(200);
    const busy = await post(harness.baseUrl, apiKey);
    expect(busy.status).toBe(429);
    expect(busy.headers.get("retry-after")).toBe("1");
    expect(((await busy.json()) as { error: { message: string } }).error.message).toBe(
      "This key's limit of 1 concurrent requests is reached; retry in 1 s.",
    );
    // The client goes away mid-stream: the slot comes back (refused probes count nothing).
    abort.abort();
    await vi.waitFor(async () => expect((await post(harness.baseUrl, apiKey)).status).toBe(200), { timeout: 10_000 });

    // A stream that runs to its end gives its slot back too.
    const open = await post(harness.baseUrl, apiKey, streamed);
    expect(open.status).toBe(200);
    expect((await post(harness.baseUrl, apiKey)).status).toBe(429);
    upstream.release();
    expect(await open.text()).toContain("[DONE]");
    expect((await post(harness.baseUrl, apiKey)).status).toBe(200);
  });
});

const REDIS_URL = process.env.REDIS_URL?.trim() ?? "";

describe.skipIf(process.env.TEST_DATABASE_URL === undefined || REDIS_URL === "")(
  "one per-key limit across two gateway processes sharing PostgreSQL and Redis",
  () => {
    let database: TestDatabase;
    const gateways: GatewayProcess[] = [];

    beforeAll(async () => {
      database = await createTestDatabase();
      const variables = {
        DATABASE_URL: database.url!,
        REDIS_URL,
        DATA_DIR: mkdtempSync(path.join(tmpdir(), "tollgate-rate-limits-")),
      };
      // One after the other: the first bootstraps the catalog.
      gateways.push(await startGatewayProcess(variables));
      gateways.push(await startGatewayProcess(variables));
    });

    afterAll(async () => {
      await Promise.all(gateways.map((gateway) => gateway.stop("SIGTERM")));
      await database?.drop();
    });

    it("refuses exactly the 5 requests past the limit, each with Retry-After and the headers", async () => {
      const { db } = database.handle;
      const limit = 20;
      const user = await createUser(db, { email: "two-processes@example.com", password: "password-123" });
      const changes = await createChangeBus(database.handle, silentLogger, { listen: false });
      await addCredits(db, changes, { userId: user.id, amountNano: 1_000_000_000n });
      await changes.close();
      // A fresh key per run: the Redis windows are keyed by its id, so nothing from another run counts.
      const { key, plaintext } = await createApiKey(db, { userId: user.id, name: "shared" });
      await setKeyLimits(db, key.id, { requestsPerMinute: limit });

      const responses = await Promise.all(
        Array.from({ length: limit + 5 }, (_, index) => post(gateways[index % 2]!.baseUrl, plaintext)),
      );
      const refused = responses.filter((response) => response.status === 429);
      expect(responses.filter((response) => response.status === 200)).toHaveLength(limit);
      expect(refused).toHaveLength(5);
      for (const response of responses) {
        expect(response.headers.get("x-ratelimit-limit-requests")).toBe(String(limit));
        expect(response.headers.get("x-ratelimit-reset-requests")).toMatch(RESET);
      }
      for (const response of refused) {
        expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("0");
        const body = (await response.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe("rate_limit_exceeded");
        expect(body.error.message).toMatch(/^This key's limit of 20 requests per minute is reached; retry in \d+ s\.$/);
      }
      // Both processes took part.
      const remaining = responses
        .filter((response) => response.status === 200)
        .map((response) => Number(response.headers.get("x-ratelimit-remaining-requests")))
        .sort((a, b) => a - b);
      expect(remaining).toEqual(Array.from({ length: limit }, (_, index) => index));
    });
  },
);
