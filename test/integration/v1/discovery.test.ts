import { TEST_ACTOR } from "../../helpers/audit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nanoToUsdNumber } from "~/server/gateway/billing/money";
import type { CatalogModel as CatalogFileModel } from "~/server/catalog/catalog-file";
import { createApiKey } from "~/server/services/api-keys";
import { importCatalog } from "~/server/services/catalog";
import { addChannel } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { loadOpenApiComponents, type OpenApiComponents } from "../../helpers/openapi-components";
import { balanceOf, generationsOf } from "../../helpers/ledger-assertions";

/*
 * The key-authenticated discovery and account endpoints, each answer checked against the OpenAPI document the
 * gateway publishes at /v1/openapi.json (so the document is proven to describe what is really sent).
 */

let harness: GatewayHarness;
let account: { userId: string; apiKey: string; apiKeyId: string };
let openApi: OpenApiComponents;
let document: OpenApiComponents["document"];

beforeAll(async () => {
  harness = await startGatewayHarness();
  account = await harness.createFundedUser("10");
  openApi = await loadOpenApiComponents(harness.baseUrl);
  document = openApi.document;
});

afterAll(async () => {
  await harness?.stop();
});

function expectMatchesComponent(component: string, value: unknown): void {
  openApi.expectMatches(component, value);
}

async function get(path: string, apiKey = account.apiKey) {
  const response = await fetch(`${harness.baseUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const client = (apiKey: string) => new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 });

describe("GET /v1/openapi.json", () => {
  it("is an OpenAPI 3.1 document of every /v1 endpoint, generated from the request schema", () => {
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        "/api/v1/models",
        "/api/v1/models/{author}/{slug}/endpoints",
        "/v1/activity",
        "/v1/chat/completions",
        "/v1/credits",
        "/v1/embeddings",
        "/v1/generation",
        "/v1/key",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/models",
        "/v1/models/{id}",
        "/v1/models/{author}/{slug}/endpoints",
        "/v1/openapi.json",
        "/v1/prices",
        "/v1/responses",
      ].sort(),
    );
    const request = document.components.schemas.ChatCompletionRequest as {
      properties: Record<string, { anyOf?: { maximum?: number; minimum?: number }[] }>;
      required: string[];
    };
    expect(request.required).toEqual(expect.arrayContaining(["model", "messages"]));
    const temperature = JSON.stringify(request.properties.temperature);
    expect(temperature).toContain('"maximum":2');
    expect(temperature).toContain('"minimum":0');
  });

  it("describes the completions the gateway really returns", async () => {
    const completion = await client(account.apiKey).chat.completions.create({
      model: "tollgate/echo",
      messages: [{ role: "user", content: "describe me" }],
    });
    expectMatchesComponent("ChatCompletion", completion);
    const stream = await client(account.apiKey).chat.completions.create({
      model: "tollgate/echo",
      messages: [{ role: "user", content: "stream me" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) expectMatchesComponent("ChatCompletionChunk", chunk);
    const { body } = await get("/models/nobody%2Fnothing");
    expectMatchesComponent("Error", body);
  });
});

describe("models and prices", () => {
  it("lists models with prices, and the price list per million tokens", async () => {
    const models = await get("/models");
    expectMatchesComponent("ModelList", models.body);
    const prices = await get("/prices");
    expect(prices.status).toBe(200);
    expectMatchesComponent("PriceList", prices.body);
    const echo = (prices.body.data as { model: string; providers: { input: string; output: string }[] }[]).find(
      (entry) => entry.model === "tollgate/echo",
    );
    expect(echo?.providers[0]).toMatchObject({ input: "1", output: "2" });
  });

  it("shows a key restricted to some models only those, and refuses the others with 403", async () => {
    const { plaintext } = await createApiKey(harness.container.db, {
      userId: account.userId,
      name: "echo only",
      allowedModels: ["tollgate/echo"],
    });
    const models = await get("/models", plaintext);
    expect((models.body.data as { id: string }[]).map((model) => model.id)).toEqual(["tollgate/echo"]);
    const prices = await get("/prices", plaintext);
    expect((prices.body.data as { model: string }[]).map((entry) => entry.model)).toEqual(["tollgate/echo"]);

    const anyModel = (await get("/models")).body.data as { id: string }[];
    const other = anyModel.find((model) => model.id !== "tollgate/echo");
    if (other !== undefined) {
      expect((await get(`/models/${other.id}`, plaintext)).status).toBe(404);
      const error = await client(plaintext)
        .chat.completions.create({ model: other.id, messages: [{ role: "user", content: "x" }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect((error as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe("model_not_allowed");
    }
    expect((await get("/models/tollgate%2Fecho", plaintext)).status).toBe(200);
    const key = await get("/key", plaintext);
    expect((key.body.data as { allowed_models: string[] }).allowed_models).toEqual(["tollgate/echo"]);
  });
});

describe("supported parameters", () => {
  it("lists only the parameters that one of the model's endpoints can carry to its provider", async () => {
    const model: CatalogFileModel = {
      id: "test/capabilities",
      name: "Capabilities (test)",
      description: "A model whose catalog entry claims more than some adapters carry.",
      author: "test",
      upstreamModel: "capabilities-1",
      releasedAt: "2026-01-01",
      contextLength: 8_000,
      maxOutputTokens: 1_000,
      inputModalities: ["text"],
      outputModalities: ["text"],
      supportedParameters: ["tools", "logprobs", "top_k"],
      pricing: { input: "1", output: "2", cacheRead: null, cacheWrite: null },
    };
    const { db, secretBox, changes } = harness.container;
    await importCatalog(db, changes, [model], TEST_ACTOR);
    const listed = async () =>
      ((await get(`/models/${encodeURIComponent(model.id)}`)).body as { supported_parameters: string[] })
        .supported_parameters;

    // Gemini takes top_k but has no logprobs.
    await addChannel(
      db,
      secretBox,
      changes,
      {
        kind: "gemini",
        name: "capabilities-gemini",
        baseUrl: "https://gemini.invalid/v1beta",
        apiKey: "gm-test",
        models: [{ modelId: model.id, upstreamModel: "capabilities-1" }],
      },
      TEST_ACTOR,
    );
    expect(await listed()).toEqual(["tools", "top_k"]);

    // OpenAI carries logprobs: with both endpoints every parameter reaches some provider.
    await addChannel(
      db,
      secretBox,
      changes,
      {
        kind: "openai",
        name: "capabilities-openai",
        baseUrl: "https://openai.invalid/v1",
        apiKey: "sk-test",
        models: [{ modelId: model.id, upstreamModel: "capabilities-1" }],
      },
      TEST_ACTOR,
    );
    expect(await listed()).toEqual(["tools", "logprobs", "top_k"]);
  });
});

describe("the account endpoints", () => {
  it("report the key's spend, the account's credits and each generation, consistently with the ledger", async () => {
    const buyer = await harness.createFundedUser("3");
    const before = await get("/key", buyer.apiKey);
    expectMatchesComponent("KeyInfo", before.body);
    expect(before.body.data).toMatchObject({ usage: 0, usage_daily: 0, limit: null, allowed_models: null });

    const completion = await client(buyer.apiKey).chat.completions.create({
      model: "tollgate/echo",
      messages: [{ role: "user", content: "what did this cost?" }],
    });
    const cost = (completion.usage as unknown as { cost: number }).cost;
    expect(cost).toBeGreaterThan(0);

    // Asked before the usage writer's next batch: the queued generation is already visible.
    const early = await get(`/generation?id=${completion.id}`, buyer.apiKey);
    expect(early.status).toBe(200);
    expectMatchesComponent("Generation", early.body);
    expect(early.body.data).toMatchObject({
      id: completion.id,
      model: "tollgate/echo",
      tokens_prompt: completion.usage?.prompt_tokens,
      tokens_completion: completion.usage?.completion_tokens,
      total_cost: cost,
      streamed: false,
      cancelled: false,
      finish_reason: "stop",
      status: 200,
    });

    await harness.container.usageWriter.flush();
    const stored = await get(`/generation?id=${completion.id}`, buyer.apiKey);
    expect(stored.body).toEqual(early.body);
    const [row] = await generationsOf(harness.container.db, buyer.userId);
    expect((stored.body.data as { latency: number }).latency).toBe(row?.latencyMs);

    const key = await get("/key", buyer.apiKey);
    expect(key.body.data).toMatchObject({ usage: cost, usage_daily: cost, usage_weekly: cost, usage_monthly: cost });

    const credits = await get("/credits", buyer.apiKey);
    expectMatchesComponent("Credits", credits.body);
    const balance = await balanceOf(harness.container.db, buyer.userId);
    // Nothing in flight: nothing held, the whole balance available.
    expect(credits.body.data).toEqual({
      total_credits: 3,
      total_usage: cost,
      balance: String(nanoToUsdNumber(balance)),
      held: "0",
      available: String(nanoToUsdNumber(balance)),
    });
  });

  it("keeps generations private to their account", async () => {
    const completion = await client(account.apiKey).chat.completions.create({
      model: "tollgate/echo",
      messages: [{ role: "user", content: "mine" }],
    });
    await harness.container.usageWriter.flush();
    const stranger = await harness.createFundedUser("1");
    const response = await get(`/generation?id=${completion.id}`, stranger.apiKey);
    expect(response.status).toBe(404);
    expectMatchesComponent("Error", response.body);
    expect((await get("/generation")).status).toBe(400);
  });

  it("needs a key for everything but the document", async () => {
    for (const path of ["/models", "/prices", "/key", "/credits", "/generation?id=gen-x"]) {
      const response = await fetch(`${harness.baseUrl}${path}`);
      expect(response.status, path).toBe(401);
    }
    expect((await fetch(`${harness.baseUrl}/openapi.json`)).status).toBe(200);
    const wrongMethod = await fetch(`${harness.baseUrl}/credits`, {
      method: "POST",
      headers: { authorization: `Bearer ${account.apiKey}` },
    });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET");
  });
});
