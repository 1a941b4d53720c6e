import { TEST_ACTOR } from "../../helpers/audit";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogModel as CatalogFileModel } from "~/server/catalog/catalog-file";
import { rowsOf } from "~/server/db/raw-rows";
import { modelEndpoints, models } from "~/server/db/schema";
import { importCatalog } from "~/server/services/catalog";
import { addChannel, setChannelEnabled } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { loadOpenApiComponents, type OpenApiComponents } from "../../helpers/openapi-components";

/*
 * The public catalog (/api/v1/models, OpenRouter's shape): no key, exactly the models a call could be routed to, at
 * the prices a call is charged (the platform's markup included), cached by ETag until the catalog changes.
 */

let harness: GatewayHarness;
let origin: string;
let openApi: OpenApiComponents;

interface PublicModel {
  id: string;
  canonical_slug: string;
  architecture: { modality: string; input_modalities: string[] };
  pricing: Record<string, string>;
  pricing_per_million_usd: Record<string, string | null>;
  supported_parameters: string[];
  providers: string[];
}

function catalogModel(id: string, overrides: Partial<CatalogFileModel> = {}): CatalogFileModel {
  return {
    id,
    name: `${id} (test)`,
    description: "A model of the public catalog test.",
    author: "test",
    upstreamModel: id.split("/")[1]!,
    releasedAt: "2026-01-01",
    contextLength: 32_000,
    maxOutputTokens: 4_000,
    inputModalities: ["text", "image"],
    outputModalities: ["text"],
    supportedParameters: ["tools", "temperature"],
    pricing: { input: "3", output: "15", cacheRead: "0.3", cacheWrite: null },
    ...overrides,
  };
}

async function publicGet(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${origin}${path}`, { headers });
  const text = await response.text();
  return { response, body: text === "" ? null : (JSON.parse(text) as Record<string, unknown>) };
}

async function listed(): Promise<PublicModel[]> {
  const { response, body } = await publicGet("/api/v1/models");
  expect(response.status).toBe(200);
  return (body as { data: PublicModel[] }).data;
}

/** What a call could be routed to, read straight from the tables: enabled models with an enabled endpoint on a channel that is enabled and not broken. */
async function routableModelIds(): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await harness.container.db.execute(sql`
      select distinct m.id from models m
      join model_endpoints e on e.model_id = m.id and e.enabled
      join channels c on c.id = e.channel_id and c.enabled and c.broken_at is null
      where m.enabled order by m.id`),
  );
  return rows.map((row) => row.id).sort();
}

beforeAll(async () => {
  harness = await startGatewayHarness({ env: { PRICE_MARKUP_PERCENT: "10" } });
  origin = harness.baseUrl.replace(/\/v1$/, "");
  openApi = await loadOpenApiComponents(harness.baseUrl);
  const { db, secretBox, changes } = harness.container;
  await importCatalog(
    db,
    changes,
    [
      catalogModel("test/listed"),
      catalogModel("test/switched-off"),
      catalogModel("test/channel-off"),
      catalogModel("test/no-tools", { supportedParameters: ["temperature"], inputModalities: ["text"] }),
    ],
    TEST_ACTOR,
  );
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai",
      name: "public-catalog-openai",
      baseUrl: "https://openai.invalid/v1",
      apiKey: "sk-test",
      models: ["test/listed", "test/switched-off", "test/no-tools"].map((modelId) => ({
        modelId,
        upstreamModel: modelId.split("/")[1]!,
      })),
    },
    TEST_ACTOR,
  );
  const { channel } = await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "anthropic",
      name: "public-catalog-off",
      baseUrl: "https://anthropic.invalid/v1",
      apiKey: "sk-ant-test",
      models: [{ modelId: "test/channel-off", upstreamModel: "channel-off" }],
    },
    TEST_ACTOR,
  );
  await setChannelEnabled(db, changes, channel.id, false, TEST_ACTOR);
  await db.update(models).set({ enabled: false }).where(eq(models.id, "test/switched-off"));
  await changes.publish({ topic: "catalog-changed" });
});

afterAll(async () => {
  await harness?.stop();
});

describe("GET /api/v1/models", () => {
  it("needs no key and lists exactly the models a call could be routed to", async () => {
    const { response, body } = await publicGet("/api/v1/models");
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("cache-control")).toContain("public");
    openApi.expectMatches("PublicModelList", body);
    const ids = (body as { data: PublicModel[] }).data.map((model) => model.id);
    expect(ids).toEqual(await routableModelIds());
    expect(ids).toContain("test/listed");
    expect(ids).not.toContain("test/switched-off");
    expect(ids).not.toContain("test/channel-off");
  });

  it("shows the prices a call is charged, markup included, per token and per million tokens", async () => {
    const model = (await listed()).find((entry) => entry.id === "test/listed")!;
    // $3 / $15 / $0.30 per million with a 10% markup.
    expect(model.pricing).toMatchObject({
      prompt: "0.0000033",
      completion: "0.0000165",
      input_cache_read: "0.00000033",
    });
    expect(model.pricing_per_million_usd).toEqual({
      prompt: "3.3",
      completion: "16.5",
      input_cache_read: "0.33",
      input_cache_write: null,
      internal_reasoning: "16.5",
      request: null,
      image: null,
    });
    expect(model).toMatchObject({
      canonical_slug: "test/listed",
      architecture: { modality: "text+image->text" },
      providers: ["openai"],
    });
  });

  it("answers 304 to the ETag it sent until the catalog changes, then the new prices", async () => {
    const first = await publicGet("/api/v1/models");
    const etag = first.response.headers.get("etag")!;
    expect(etag).toMatch(/^".+"$/);
    const again = await publicGet("/api/v1/models", { "if-none-match": etag });
    expect(again.response.status).toBe(304);

    const { db, changes } = harness.container;
    await db
      .update(modelEndpoints)
      .set({ inputPriceNano: 4_000_000_000n })
      .where(eq(modelEndpoints.modelId, "test/listed"));
    await changes.publish({ topic: "catalog-changed" });
    const changed = await publicGet("/api/v1/models", { "if-none-match": etag });
    expect(changed.response.status).toBe(200);
    expect(changed.response.headers.get("etag")).not.toBe(etag);
    const model = (changed.body as { data: PublicModel[] }).data.find((entry) => entry.id === "test/listed")!;
    expect(model.pricing_per_million_usd.prompt).toBe("4.4");
  });

  it("keeps the models that take every parameter asked for", async () => {
    const { body } = await publicGet("/api/v1/models?supported_parameters=tools,temperature");
    const ids = (body as { data: PublicModel[] }).data.map((model) => model.id);
    expect(ids).toContain("test/listed");
    expect(ids).not.toContain("test/no-tools");
    for (const model of (body as { data: PublicModel[] }).data) expect(model.supported_parameters).toContain("tools");
  });

  it("refuses other methods with an OpenAI-shaped 405", async () => {
    const response = await fetch(`${origin}/api/v1/models`, { method: "POST", body: "{}" });
    expect(response.status).toBe(405);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBeTypeOf("string");
  });

  it("leaves /v1/models behind a key", async () => {
    expect((await fetch(`${harness.baseUrl}/models`)).status).toBe(401);
  });
});

describe("GET /api/v1/models/{author}/{slug}/endpoints", () => {
  it("needs no key and shows each provider's prices and statistics", async () => {
    const { response, body } = await publicGet("/api/v1/models/test/listed/endpoints");
    expect(response.status).toBe(200);
    openApi.expectMatches("ModelEndpoints", body);
    const endpoints = (body as { data: { endpoints: { provider_name: string; pricing: { prompt: string } }[] } }).data
      .endpoints;
    expect(endpoints.map((endpoint) => endpoint.provider_name)).toEqual(["openai"]);
    // $4 per million since the ETag test changed it, plus 10%.
    expect(endpoints[0]!.pricing.prompt).toBe("0.0000044");
  });

  it("does not show a model that is switched off, or one no enabled channel serves", async () => {
    for (const id of ["test/switched-off", "test/channel-off", "test/unknown"]) {
      const { response, body } = await publicGet(`/api/v1/models/${id}/endpoints`);
      expect(response.status).toBe(404);
      expect((body as { error: { code: string } }).error.code).toBe("model_not_found");
    }
  });
});
