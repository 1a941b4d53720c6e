import { and, asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, endpointPriceVersions, generations } from "~/server/db/schema";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { createApiKey } from "~/server/services/api-keys";
import { addCredits } from "~/server/services/credits";
import { listModelEndpoints, updateModelEndpoint } from "~/server/services/model-endpoints";
import { explainGenerationCost } from "~/server/services/price-versions";
import { TEST_ACTOR } from "../../helpers/audit";
import { chatInProcess, readGatewayBody } from "../../helpers/gateway-call";
import { pairCustomer, startGatewayPair, type GatewayPair } from "../../helpers/gateway-pair";
import { createSessionUser, startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

/*
 * Models and prices from the console: an endpoint repriced by an admin is a dated version with who set it, billed
 * from the next call on every process, and every past call's cost is explained exactly by the version it names.
 */

/**
 * Prices that make the arithmetic plain: USD per million tokens of 1,000 in and 2,000 out are nano-USD per token of
 * 1e6 and 2e6, so with 10 % markup a call costs (in × 1e6 + out × 2e6) × 1.1, exactly, at `scale` 1.
 */
const REPRICE = { inputPrice: "1000", outputPrice: "2000", markupPercent: "10" } as const;

/** What a call of these token counts costs at REPRICE divided by `scale`, in nano-USD. */
function repricedCostNano(usage: { prompt_tokens: number; completion_tokens: number }, scale = 1n): bigint {
  const base = BigInt(usage.prompt_tokens) * 1_000_000n + BigInt(usage.completion_tokens) * 2_000_000n;
  return (base * 11n) / 10n / scale;
}

interface Completion {
  id: string;
  usage: { prompt_tokens: number; completion_tokens: number; cost: number };
}

describe("models and prices in the console", () => {
  let app: ApiTestApp;
  let admin: SessionUser;
  let member: SessionUser;
  let key: string;

  beforeAll(async () => {
    app = await startApiTestApp();
    admin = await createSessionUser(app, "prices@example.com", "admin");
    member = await createSessionUser(app, "buyer@example.com");
    await addCredits(app.container.db, app.container.changes, { userId: member.id, amountNano: 100_000_000_000n });
    key = (await createApiKey(app.container.db, { userId: member.id, name: "prices" })).plaintext;
  });

  afterAll(async () => {
    await app?.close();
  });

  async function chat(content = "hi"): Promise<Completion> {
    const response = await chatInProcess(app.container.gateway, key, "tollgate/echo", content);
    const text = await readGatewayBody(response);
    expect(response.status, text).toBe(200);
    return JSON.parse(text) as Completion;
  }

  async function echoEndpoint() {
    const { endpoints } = await app.callerFor(admin).admin.models.get({ id: "tollgate/echo" });
    expect(endpoints).toHaveLength(1);
    return endpoints[0]!;
  }

  it("reprices an endpoint as a dated version by the admin, bills the next call at it, and explains every call", async () => {
    const caller = app.callerFor(admin);
    const { db } = app.container;
    const endpoint = await echoEndpoint();
    const before = await chat("before the change");

    await caller.admin.models.updateEndpoint({ id: endpoint.id, patch: REPRICE });
    const history = await caller.admin.models.priceHistory({ endpointId: endpoint.id });
    expect(history[0]).toMatchObject({
      changedBy: admin.email,
      inputPriceNano: 1_000_000_000_000n,
      outputPriceNano: 2_000_000_000_000n,
      markupBasisPoints: 1000,
    });
    expect(history[1]?.inputPriceNano).toBe(endpoint.inputPriceNano);
    expect(history[0]!.validFrom.getTime()).toBeGreaterThanOrEqual(history[1]!.validFrom.getTime());
    expect((await echoEndpoint()).priceVersionId).toBe(history[0]!.id);

    // Billed at the new prices from the next call, to the nano-dollar.
    const after = await chat("after the change");
    expect(after.usage.cost).toBe(Number(repricedCostNano(after.usage)) / 1e9);

    // A second repricing leaves both earlier calls explained by the versions they were billed at.
    await caller.admin.models.updateEndpoint({ id: endpoint.id, patch: { inputPrice: "3", markupPercent: null } });
    const later = await chat("at the third price");
    await app.container.usageWriter.flush();
    const rows = await db
      .select()
      .from(generations)
      .where(eq(generations.userId, member.id))
      .orderBy(asc(generations.createdAt));
    expect(rows.map((row) => row.id)).toEqual([before.id, after.id, later.id]);
    const versions = new Set(rows.map((row) => row.priceVersionId));
    expect(versions.size).toBe(3);
    for (const row of rows) {
      const explanation = await caller.admin.models.explainCost({ generationId: row.id });
      expect(explanation.recomputedNano).toBe(row.costNano);
      expect(explanation.billedNano).toBe(row.costNano);
      expect(row.costNano).toBeGreaterThan(0n);
    }
    expect(rows[1]!.costNano).toBe(repricedCostNano(after.usage));
    expect(rows[1]!.markupBasisPoints).toBe(1000);
    // Without its own markup the endpoint takes the platform's (0 here).
    expect(rows[2]!.markupBasisPoints).toBe(0);

    const audits = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "endpoint.update"), eq(auditLog.targetId, endpoint.id)))
      .orderBy(asc(auditLog.id));
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({
      actor: admin.email,
      before: { inputPrice: formatNanoAsUsd(endpoint.inputPriceNano), markupPercent: null },
      after: { inputPrice: "1000", outputPrice: "2000", markupPercent: "10" },
    });
  });

  it("changes priority, weight and enabled without a new price version", async () => {
    const caller = app.callerFor(admin);
    const endpoint = await echoEndpoint();
    const versionsBefore = await caller.admin.models.priceHistory({ endpointId: endpoint.id });
    await caller.admin.models.updateEndpoint({ id: endpoint.id, patch: { priority: 5, weight: 3 } });
    expect(await caller.admin.models.priceHistory({ endpointId: endpoint.id })).toHaveLength(versionsBefore.length);
    expect(await echoEndpoint()).toMatchObject({ priority: 5, weight: 3 });

    await caller.admin.models.updateEndpoint({ id: endpoint.id, patch: { enabled: false } });
    await expect
      .poll(async () => (await chatInProcess(app.container.gateway, key)).status, { timeout: 5_000, interval: 25 })
      .not.toBe(200);
    await caller.admin.models.updateEndpoint({ id: endpoint.id, patch: { enabled: true } });
    await expect
      .poll(async () => (await chatInProcess(app.container.gateway, key)).status, { timeout: 5_000, interval: 25 })
      .toBe(200);
  });

  it("refuses bad prices and unknown endpoints, writing no version and no audit row", async () => {
    const caller = app.callerFor(admin);
    const { db } = app.container;
    const endpoint = await echoEndpoint();
    const versionCount = async () => (await db.select().from(endpointPriceVersions)).length;
    const auditCount = async () => (await db.select().from(auditLog)).length;
    const [versions, audits] = [await versionCount(), await auditCount()];
    for (const patch of [
      { inputPrice: "-1" },
      { inputPrice: "0.0000000001" },
      { outputPrice: "abc" },
      { markupPercent: "5.555" },
    ]) {
      await expect(caller.admin.models.updateEndpoint({ id: endpoint.id, patch })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    }
    await expect(
      caller.admin.models.updateEndpoint({ id: "00000000-0000-4000-8000-000000000000", patch: { inputPrice: "1" } }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await versionCount()).toBe(versions);
    expect(await auditCount()).toBe(audits);
  });

  it("refuses a price edit made from a version someone has replaced since, so neither change is lost unseen", async () => {
    const caller = app.callerFor(admin);
    const opened = await echoEndpoint();
    // Another admin saves first.
    await caller.admin.models.updateEndpoint({
      id: opened.id,
      patch: { outputPrice: "7" },
      expectedPriceVersionId: opened.priceVersionId!,
    });
    await expect(
      caller.admin.models.updateEndpoint({
        id: opened.id,
        patch: { inputPrice: "9" },
        expectedPriceVersionId: opened.priceVersionId!,
      }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await echoEndpoint()).toMatchObject({
      outputPriceNano: 7_000_000_000n,
      inputPriceNano: opened.inputPriceNano,
    });
  });

  it("versions cannot be rewritten", async () => {
    const { db } = app.container;
    const refusal = async (statement: Promise<unknown>) => {
      const error = (await statement.then(() => null).catch((caught: unknown) => caught)) as Error | null;
      return String((error?.cause as Error | undefined)?.message ?? error?.message);
    };
    expect(await refusal(db.execute(sql`update endpoint_price_versions set changed_by = 'someone else'`))).toMatch(
      /append-only/,
    );
    expect(await refusal(db.execute(sql`delete from endpoint_price_versions`))).toMatch(/append-only/);
    expect(await refusal(db.execute(sql`truncate endpoint_price_versions`))).toMatch(/append-only/);
  });

  it("adds a model, edits its metadata, serves it from a channel at its list prices, and disables it", async () => {
    const caller = app.callerFor(admin);
    const created = await caller.admin.models.create({
      id: "acme/widget-1",
      name: "Widget 1",
      description: "A test model",
      author: "acme",
      upstreamModel: "widget-1",
      releasedAt: "2026-11-01",
      contextLength: 8192,
      maxOutputTokens: 1024,
      inputModalities: ["text"],
      outputModalities: ["text"],
      supportedParameters: ["max_tokens"],
      pricing: { input: "0.5", output: "1.5", cacheRead: null, cacheWrite: null },
    });
    expect(created.inputPriceNano).toBe(500_000_000n);
    await expect(
      caller.admin.models.create({ ...(await toCatalogInput("acme/widget-1")), name: "again" }),
    ).rejects.toMatchObject({ code: "CONFLICT" });

    await caller.admin.models.update({ id: "acme/widget-1", patch: { name: "Widget One", contextLength: 16_384 } });
    const channel = await caller.admin.channels.create({
      kind: "openai-compatible",
      name: "acme-upstream",
      baseUrl: "http://127.0.0.1:9/v1",
    });
    expect(
      await caller.admin.models.addEndpoints({ channelId: channel.id, models: [{ modelId: "acme/widget-1" }] }),
    ).toEqual({ added: 1 });
    // Adding again changes nothing, and keeps the endpoint's prices.
    expect(
      await caller.admin.models.addEndpoints({ channelId: channel.id, models: [{ modelId: "acme/widget-1" }] }),
    ).toEqual({ added: 0 });
    const detail = await caller.admin.models.get({ id: "acme/widget-1" });
    expect(detail.model).toMatchObject({ name: "Widget One", contextLength: 16_384 });
    expect(detail.endpoints).toEqual([
      expect.objectContaining({
        channelName: "acme-upstream",
        upstreamModel: "widget-1",
        inputPriceNano: 500_000_000n,
        outputPriceNano: 1_500_000_000n,
        markupBasisPoints: null,
      }),
    ]);
    expect((await caller.admin.models.priceHistory({ endpointId: detail.endpoints[0]!.id }))[0]).toMatchObject({
      changedBy: admin.email,
      inputPriceNano: 500_000_000n,
    });

    await caller.admin.models.update({ id: "acme/widget-1", patch: { enabled: false } });
    const listed = (await caller.admin.models.list()).find((model) => model.id === "acme/widget-1");
    expect(listed).toMatchObject({ enabled: false, endpointCount: 1, enabledEndpointCount: 1 });
    const actions = (await app.container.db.select().from(auditLog).where(eq(auditLog.targetId, "acme/widget-1"))).map(
      (row) => row.action,
    );
    expect(actions).toEqual(["model.create", "model.update", "model.disable"]);
    // Serving the model was one audited change; serving it again, none.
    const served = await app.container.db.select().from(auditLog).where(eq(auditLog.targetId, channel.id));
    expect(served.map((row) => [row.action, row.after])).toEqual([
      ["channel.create", expect.anything()],
      ["channel.add-models", { models: ["acme/widget-1"] }],
    ]);
  });

  async function toCatalogInput(id: string) {
    const { model } = await app.callerFor(admin).admin.models.get({ id });
    return {
      id: model.id,
      name: model.name,
      description: model.description,
      author: model.author,
      upstreamModel: model.upstreamModel,
      releasedAt: model.releasedAt.toISOString().slice(0, 10),
      contextLength: model.contextLength,
      maxOutputTokens: model.maxOutputTokens,
      inputModalities: ["text" as const],
      outputModalities: ["text" as const],
      supportedParameters: model.supportedParameters,
      pricing: { input: "1", output: "1", cacheRead: null, cacheWrite: null },
    };
  }

  it("explains a call from before price versions existed as unexplained, not as a wrong price", async () => {
    const { db } = app.container;
    const [row] = await db.select().from(generations).where(eq(generations.userId, member.id)).limit(1);
    await db.insert(generations).values({ ...row!, id: "gen-legacy", priceVersionId: null, markupBasisPoints: null });
    expect(await explainGenerationCost(db, "gen-legacy")).toMatchObject({ version: null, recomputedNano: null });
    expect(await explainGenerationCost(db, "gen-missing")).toBeNull();
  });
});

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)("a price change on two gateway processes", () => {
  let pair: GatewayPair;

  beforeAll(async () => {
    pair = await startGatewayPair({ channel: { name: "unused", baseUrl: "http://127.0.0.1:9/v1", models: [] } });
  });

  afterAll(async () => {
    await pair?.close();
  });

  it("bills new calls on every process at the new price at once, each call explained by its version", async () => {
    const { db } = pair.database.handle;
    const { user, call } = await pairCustomer(pair, "repriced@example.com", "customer-password");
    for (const gateway of pair.gateways) expect((await call(gateway.baseUrl)).status).toBe(200);

    const [endpoint] = await listModelEndpoints(db, "tollgate/echo");
    await updateModelEndpoint(
      db,
      pair.changes,
      endpoint!.id,
      // A hundredth of REPRICE: the pair's customer has $1, which must cover a call's worst-case hold.
      { inputPrice: 10_000_000_000n, outputPrice: 20_000_000_000n, markupPercent: 1000 },
      TEST_ACTOR,
    );

    for (const gateway of pair.gateways) {
      await expect
        .poll(
          async () => {
            const completion = (await (await call(gateway.baseUrl)).json()) as Completion;
            return completion.usage.cost === Number(repricedCostNano(completion.usage, 100n)) / 1e9;
          },
          { timeout: 5_000, interval: 50 },
        )
        .toBe(true);
    }
    await pair.stopGateways();
    const rows = await db.select().from(generations).where(eq(generations.userId, user.id));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const row of rows) {
      expect((await explainGenerationCost(db, row.id))?.recomputedNano).toBe(row.costNano);
    }
    // Calls before the change and after it name the two versions.
    expect(new Set(rows.map((row) => row.priceVersionId)).size).toBe(2);
  });
});
