import { countTokens } from "gpt-tokenizer";
import { and, eq } from "drizzle-orm";
import type { Session } from "next-auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "~/server/db/schema";
import { computeCostNano } from "~/server/gateway/billing/compute-cost";
import { measurePrompt } from "~/server/gateway/billing/estimate-tokens";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { demoAnswer } from "~/server/gateway/providers/demo/demo-upstream";
import { handlePlaygroundChat } from "~/server/http/playground-handler";
import { listRequestLog } from "~/server/services/activity";
import { listApiKeys } from "~/server/services/api-keys";
import { derivePlaygroundKey, playgroundKeyFor } from "~/server/services/playground-key";
import { DEMO_MODEL } from "~/server/catalog/demo-model";
import { startGatewayHarness, type GatewayHarness } from "../../../helpers/gateway-harness";
import { tokenPrices, TEXT_ONLY } from "../../../helpers/prices";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../../helpers/openai-schema";

// The playground's door: a session instead of a key, the gateway core behind it, the demo model pacing its words so a
// stream can be stopped half way.
let harness: GatewayHarness;

beforeAll(async () => {
  harness = await startGatewayHarness({ env: { DEMO_STREAM_DELAY_MS: "20" } });
});

afterAll(async () => {
  await harness?.stop();
});

function session(userId: string): Session {
  return {
    user: { id: userId, email: "someone@example.com", role: "user" },
    expires: new Date(Date.now() + 3_600_000).toISOString(),
  };
}

function chatRequest(body: unknown, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Request {
  return new Request("http://localhost/api/playground/chat", {
    method: "POST",
    headers: { "content-type": "application/json", "sec-fetch-site": "same-origin", ...init.headers },
    body: JSON.stringify(body),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });
}

async function settled(userId: string, count: number) {
  await expect
    .poll(async () => {
      await harness.container.usageWriter.flush();
      return (await generationsOf(harness.container.db, userId)).length;
    })
    .toBe(count);
  return generationsOf(harness.container.db, userId);
}

function dataEvents(text: string): unknown[] {
  return text
    .split("\n\n")
    .filter((event) => event.startsWith("data: ") && event !== "data: [DONE]")
    .map((event) => JSON.parse(event.slice("data: ".length)) as unknown);
}

const demoPrices = tokenPrices({
  inputPriceNano: parseUsdToNano(DEMO_MODEL.pricing.input),
  outputPriceNano: parseUsdToNano(DEMO_MODEL.pricing.output),
});

describe("POST /api/playground/chat", () => {
  it("refuses a visitor who is not signed in, and another site's page, in OpenAI's error shape", async () => {
    const signedOut = await handlePlaygroundChat(chatRequest({}), null, harness.container);
    expect(signedOut.status).toBe(401);
    expect(await signedOut.json()).toMatchObject({
      error: { type: "authentication_error", code: "not_signed_in", param: null },
    });

    const { userId } = await harness.createFundedUser("1");
    const crossSite = await handlePlaygroundChat(
      chatRequest({}, { headers: { "sec-fetch-site": "cross-site" } }),
      session(userId),
      harness.container,
    );
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toMatchObject({ error: { code: "cross_site_request" } });
  });

  it("streams a completion billed to the account through its hidden playground key, marked as such in activity", async () => {
    const { userId, apiKeyId } = await harness.createFundedUser("1");
    const before = await balanceOf(harness.container.db, userId);
    const body = {
      model: DEMO_MODEL.id,
      messages: [
        { role: "system" as const, content: "Be brief." },
        { role: "user" as const, content: "hello playground" },
      ],
      stream: true,
      stream_options: { include_usage: true },
    };
    const response = await handlePlaygroundChat(chatRequest(body), session(userId), harness.container);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const generationId = response.headers.get("x-generation-id");
    const events = dataEvents(await response.text());
    for (const event of events) assertMatchesOpenAISpec("chunk", event);
    const last = events.at(-1) as { usage: { cost: number; completion_tokens: number } };
    const answer = demoAnswer(body.messages);
    expect(last.usage.completion_tokens).toBe(countTokens(answer));

    const [generation] = await settled(userId, 1);
    const expectedCost = computeCostNano(
      {
        promptTokens: measurePrompt(body).tokens,
        completionTokens: countTokens(answer),
        cachedTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      },
      demoPrices,
      TEXT_ONLY,
    );
    expect(generation).toMatchObject({ id: generationId, streamed: true, cancelled: false, costNano: expectedCost });
    expect(last.usage.cost).toBe(Number(expectedCost) / 1e9);
    expect(await balanceOf(harness.container.db, userId)).toBe(before - expectedCost);

    // The key the call was made with is the account's playground key, which the keys page does not list.
    const [key] = await harness.container.db.select().from(apiKeys).where(eq(apiKeys.id, generation!.apiKeyId!));
    expect(key).toMatchObject({ userId, purpose: "playground", revokedAt: null });
    expect((await listApiKeys(harness.container.db, userId)).map((listed) => listed.id)).toEqual([apiKeyId]);
    const log = await listRequestLog(harness.container.db, userId, {}, { cursor: null, limit: 10 }, new Date());
    expect(log.items).toEqual([
      expect.objectContaining({ id: generationId, playground: true, keyLabel: "Playground" }),
    ]);

    // A second call uses the same key.
    await (await handlePlaygroundChat(chatRequest(body), session(userId), harness.container)).text();
    const rows = await settled(userId, 2);
    expect(new Set(rows.map((row) => row.apiKeyId))).toEqual(new Set([key!.id]));
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("passes the gateway's refusals through: an unknown model, an empty balance", async () => {
    const { userId } = await harness.createFundedUser("0");
    const unknown = await handlePlaygroundChat(
      chatRequest({ model: "nobody/nothing", messages: [{ role: "user", content: "hi" }] }),
      session(userId),
      harness.container,
    );
    expect(unknown.status).toBe(404);
    assertMatchesOpenAISpec("error", await unknown.json());
    const broke = await handlePlaygroundChat(
      chatRequest({ model: DEMO_MODEL.id, messages: [{ role: "user", content: "hi" }] }),
      session(userId),
      harness.container,
    );
    expect(broke.status).toBe(402);
  });

  it("stops a stream when the page aborts it, and bills the words that were sent", async () => {
    const { userId } = await harness.createFundedUser("1");
    const words = Array.from({ length: 200 }, (_, index) => `word${index}`).join(" ");
    const body = { model: DEMO_MODEL.id, messages: [{ role: "user" as const, content: words }], stream: true };
    const abort = new AbortController();
    const response = await handlePlaygroundChat(
      chatRequest(body, { signal: abort.signal }),
      session(userId),
      harness.container,
    );
    const reader = response.body!.getReader();
    let text = "";
    while (!text.includes("word5 ")) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    await reader.cancel();

    const [generation] = await settled(userId, 1);
    const full = countTokens(demoAnswer(body.messages));
    expect(generation).toMatchObject({ cancelled: true, streamed: true });
    expect(generation!.completionTokens).toBeGreaterThan(0);
    expect(generation!.completionTokens).toBeLessThan(full / 2);
    expect(generation!.costNano).toBeGreaterThan(0n);
    const debits = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "usage");
    expect(debits.map((entry) => entry.amountNano)).toEqual([-generation!.costNano]);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("gives the same key while the secret stays, and moves the key to a new secret (the old one stops working)", async () => {
    const { userId } = await harness.createFundedUser("1");
    const { db, changes, authSecret } = harness.container;
    const first = await playgroundKeyFor(db, changes, authSecret, userId);
    expect(await playgroundKeyFor(db, changes, authSecret, userId)).toBe(first);
    const [row] = await db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.userId, userId), eq(apiKeys.purpose, "playground")));
    expect(first).toBe(derivePlaygroundKey(authSecret, row!.id));

    const rotated = await playgroundKeyFor(db, changes, "another-secret-".padEnd(48, "y"), userId);
    expect(rotated).not.toBe(first);
    expect(rotated).toMatch(/^sk-gw-[0-9a-f]{32}$/);
    const call = (key: string) =>
      fetch(`${harness.baseUrl}/models`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
    await expect.poll(() => call(first)).toBe(401);
    expect(await call(rotated)).toBe(200);
  });
});
