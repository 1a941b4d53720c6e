import { TEST_ACTOR } from "../../helpers/audit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_CHANNEL_NAME } from "~/server/catalog/demo-model";
import { channels } from "~/server/db/schema";
import { addChannel, markChannelBroken } from "~/server/services/channels";
import { TEST_MAX_TOKENS } from "~/server/services/test-channel";
import { createUser } from "~/server/services/users";
import {
  openAIInvalidKeyBody,
  refusedBaseUrl,
  startStubUpstream,
  type StubUpstream,
} from "../../helpers/channel-test-upstream";
import { fixture } from "../../helpers/fixtures";
import { startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

/*
 * admin.channels over tRPC: the container's own catalog must follow every change at once, tests go through the
 * container's provider registry to a local upstream, and no answer ever carries an upstream key.
 */

const SECRET = "sk-admin-test-upstream-secret-1";
const NEW_SECRET = "sk-admin-test-upstream-secret-2";
const MODEL = "openai/gpt-4.1-nano";
const RECORDED_COMPLETION = fixture("openai/finish-length");

describe("admin channels router", () => {
  let app: ApiTestApp;
  let admin: SessionUser;
  let member: SessionUser;
  let upstream: StubUpstream;
  let channelId: string;
  const row = async (id = channelId) => (await app.container.db.select().from(channels).where(eq(channels.id, id)))[0]!;
  const routed = () => app.container.catalog.getModel(MODEL)?.endpoints.map((endpoint) => endpoint.channel) ?? [];
  const isRouted = () => routed().some((channel) => channel.id === channelId);
  const answerWithCompletion = () =>
    upstream.answer({ status: RECORDED_COMPLETION.status, body: RECORDED_COMPLETION.body });

  beforeAll(async () => {
    app = await startApiTestApp();
    const { db, secretBox, changes } = app.container;
    const adminUser = await createUser(db, { email: "root@example.com", password: "root-password", role: "admin" });
    admin = { id: adminUser.id, email: adminUser.email, role: "admin" };
    const memberUser = await createUser(db, { email: "member@example.com", password: "member-password" });
    member = { id: memberUser.id, email: memberUser.email, role: "user" };
    upstream = await startStubUpstream({ status: RECORDED_COMPLETION.status, body: RECORDED_COMPLETION.body });
    const { channel } = await addChannel(
      db,
      secretBox,
      changes,
      {
        kind: "openai",
        name: "stub-openai",
        baseUrl: upstream.baseUrl,
        apiKey: SECRET,
        models: [{ modelId: MODEL, upstreamModel: "gpt-4.1-nano" }],
      },
      TEST_ACTOR,
    );
    channelId = channel.id;
  });

  afterAll(async () => {
    await upstream?.close();
    await app?.close();
  });

  it("refuses members with FORBIDDEN and signed-out callers with UNAUTHORIZED, changing nothing", async () => {
    const before = await row();
    for (const caller of [app.callerFor(member), app.callerFor({ ...member, role: "admin" })]) {
      await expect(caller.admin.channels.list()).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(caller.admin.channels.update({ id: channelId, patch: { weight: 9 } })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(caller.admin.channels.setEnabled({ id: channelId, enabled: false })).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(caller.admin.channels.test({ id: channelId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    }
    const anonymous = app.callerFor(null);
    await expect(anonymous.admin.channels.list()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(anonymous.admin.channels.test({ id: channelId })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(await row()).toEqual(before);
    expect(upstream.received).toHaveLength(0);
  });

  it("lists channels with health, timeouts and last test, and never their keys", async () => {
    const listed = await app.callerFor(admin).admin.channels.list();
    const channel = listed.find((candidate) => candidate.id === channelId);
    expect(channel).toMatchObject({
      name: "stub-openai",
      hasSecret: true,
      enabled: true,
      brokenAt: null,
      brokenReason: null,
      connectTimeoutMs: null,
      totalTimeoutMs: null,
      lastTestedAt: null,
      endpointCount: 1,
    });
    expect(channel).not.toHaveProperty("encryptedSecret");
    expect(JSON.stringify(listed)).not.toContain(SECRET);
  });

  it("update changes the fields given and the gateway's catalog routes by them at once", async () => {
    const caller = app.callerFor(admin);
    const updated = await caller.admin.channels.update({
      id: channelId,
      patch: { name: "renamed", priority: 5, weight: 3, retainsData: false, apiKey: NEW_SECRET },
    });
    expect(updated).toMatchObject({ id: channelId, name: "renamed", priority: 5, weight: 3, retainsData: false });
    expect(JSON.stringify(updated)).not.toContain(NEW_SECRET);
    expect(app.container.secretBox.decrypt((await row()).encryptedSecret!)).toBe(NEW_SECRET);
    expect(routed().find((channel) => channel.id === channelId)).toMatchObject({
      name: "renamed",
      priority: 5,
      weight: 3,
      retainsData: false,
      apiKey: NEW_SECRET,
    });
  });

  it("sets a timeout and resets it to the default with null", async () => {
    const caller = app.callerFor(admin);
    await caller.admin.channels.update({ id: channelId, patch: { firstByteTimeoutMs: 45_000, idleTimeoutMs: 5_000 } });
    expect(await row()).toMatchObject({ firstByteTimeoutMs: 45_000, idleTimeoutMs: 5_000, connectTimeoutMs: null });
    const reset = await caller.admin.channels.update({ id: channelId, patch: { firstByteTimeoutMs: null } });
    expect(reset).toMatchObject({ firstByteTimeoutMs: null, idleTimeoutMs: 5_000 });
    await caller.admin.channels.update({ id: channelId, patch: { idleTimeoutMs: null } });
    expect(await row()).toMatchObject({ firstByteTimeoutMs: null, idleTimeoutMs: null });
  });

  it("refuses bad input, a taken name and an unknown channel with the right codes", async () => {
    const caller = app.callerFor(admin);
    const before = await row();
    for (const patch of [
      { weight: 0 },
      { totalTimeoutMs: 0 },
      { connectTimeoutMs: 1.5 },
      { baseUrl: "ftp://x.example/v1" },
      { baseUrl: "https://user:pass@x.example/v1" },
      { provider: "Not A Slug!" },
      { name: "  " },
      { apiKey: "" },
    ]) {
      await expect(caller.admin.channels.update({ id: channelId, patch })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    }
    await expect(
      caller.admin.channels.update({ id: channelId, patch: { weight: 2, encryptedSecret: "x" } as never }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      caller.admin.channels.update({ id: channelId, patch: { name: DEMO_CHANNEL_NAME } }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    // An openai channel cannot lose its key; the built-in demo channel keeps its identity (the server recreates it).
    await expect(caller.admin.channels.update({ id: channelId, patch: { apiKey: null } })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "openai channels need a key",
    });
    const [demo] = await app.container.db.select().from(channels).where(eq(channels.name, DEMO_CHANNEL_NAME));
    await expect(caller.admin.channels.update({ id: demo!.id, patch: { name: "my-demo" } })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    const unknown = crypto.randomUUID();
    await expect(caller.admin.channels.update({ id: unknown, patch: { weight: 2 } })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(caller.admin.channels.setEnabled({ id: unknown, enabled: true })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(caller.admin.channels.test({ id: unknown })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await row()).toEqual(before);
  });

  it("setEnabled false takes the channel out of routing; true puts it back and clears a broken mark", async () => {
    const caller = app.callerFor(admin);
    expect(isRouted()).toBe(true);
    await caller.admin.channels.setEnabled({ id: channelId, enabled: false });
    expect(isRouted()).toBe(false);
    expect((await row()).enabled).toBe(false);

    await markChannelBroken(app.container.db, app.container.changes, channelId, "upstream answered 401");
    const listed = await caller.admin.channels.list();
    expect(listed.find((channel) => channel.id === channelId)).toMatchObject({
      enabled: false,
      brokenReason: "upstream answered 401",
    });

    const enabled = await caller.admin.channels.setEnabled({ id: channelId, enabled: true });
    expect(enabled).toMatchObject({ enabled: true, brokenAt: null, brokenReason: null });
    expect(isRouted()).toBe(true);
  });

  it("editing the base URL clears a broken mark", async () => {
    await markChannelBroken(app.container.db, app.container.changes, channelId, "upstream answered 403");
    expect(isRouted()).toBe(false);
    const updated = await app
      .callerFor(admin)
      .admin.channels.update({ id: channelId, patch: { baseUrl: `${upstream.baseUrl}/` } });
    expect(updated).toMatchObject({ baseUrl: upstream.baseUrl, brokenAt: null, brokenReason: null });
    expect(isRouted()).toBe(true);
  });

  it("test sends one tiny request and records latency, status 200 and no error", async () => {
    answerWithCompletion();
    const result = await app.callerFor(admin).admin.channels.test({ id: channelId });
    expect(result).toMatchObject({
      channelId,
      upstreamModel: "gpt-4.1-nano",
      ok: true,
      status: 200,
      error: null,
      broken: false,
    });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);

    const request = upstream.received.at(-1)!;
    expect(request).toMatchObject({ method: "POST", url: "/v1/chat/completions" });
    expect(request.headers.authorization).toBe(`Bearer ${NEW_SECRET}`);
    const body = request.body as Record<string, unknown>;
    expect(body).toMatchObject({ model: "gpt-4.1-nano", messages: [{ role: "user", content: "ping" }] });
    const maxTokens = (body.max_completion_tokens ?? body.max_tokens) as number;
    expect(maxTokens).toBe(TEST_MAX_TOKENS);
    expect(maxTokens).toBeLessThanOrEqual(5);

    expect(await row()).toMatchObject({
      lastTestStatus: 200,
      lastTestError: null,
      lastTestLatencyMs: result.latencyMs,
      lastTestedAt: result.testedAt,
    });
    const listed = await app.callerFor(admin).admin.channels.list();
    expect(listed.find((channel) => channel.id === channelId)).toMatchObject({ lastTestStatus: 200 });
  });

  it("test of a refused key records 401 and the parsed message without the key, and marks the channel broken", async () => {
    upstream.answer({ status: 401, body: openAIInvalidKeyBody(NEW_SECRET) });
    const result = await app.callerFor(admin).admin.channels.test({ id: channelId, upstreamModel: "gpt-4.1-nano" });
    expect(result).toMatchObject({
      ok: false,
      status: 401,
      error: "The upstream provider rejected the gateway's credentials.",
      broken: true,
    });
    expect(JSON.stringify(result)).not.toContain(NEW_SECRET);
    const tested = await row();
    expect(tested).toMatchObject({
      lastTestStatus: 401,
      lastTestError: "The upstream provider rejected the gateway's credentials.",
      brokenReason: "upstream answered 401 to a channel test",
    });
    expect(isRouted()).toBe(false);

    // The key works again: a successful test clears the mark and the channel is routed again.
    answerWithCompletion();
    const passed = await app.callerFor(admin).admin.channels.test({ id: channelId });
    expect(passed).toMatchObject({ ok: true, status: 200, brokenCleared: true, broken: false });
    expect(isRouted()).toBe(true);
  });

  it("test of an upstream that refuses the connection records the error and no status", async () => {
    const caller = app.callerFor(admin);
    await caller.admin.channels.update({ id: channelId, patch: { baseUrl: await refusedBaseUrl() } });
    const result = await caller.admin.channels.test({ id: channelId });
    expect(result).toMatchObject({ ok: false, status: null, broken: false });
    expect(result.error).toMatch(/^no answer: .*ECONNREFUSED/);
    expect(await row()).toMatchObject({ lastTestStatus: null, lastTestError: result.error, brokenAt: null });
    expect((await row()).lastTestLatencyMs).toBeGreaterThanOrEqual(0);
  });

  it("test refuses a model the channel does not serve with BAD_REQUEST, sending nothing", async () => {
    const sent = upstream.received.length;
    await expect(
      app.callerFor(admin).admin.channels.test({ id: channelId, upstreamModel: "gpt-nope" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("gpt-nope") as unknown });
    expect(upstream.received).toHaveLength(sent);
  });

  it("tests the built-in demo channel through its in-process upstream", async () => {
    const [demo] = await app.container.db.select().from(channels).where(eq(channels.name, DEMO_CHANNEL_NAME));
    const result = await app.callerFor(admin).admin.channels.test({ id: demo!.id });
    expect(result).toMatchObject({ ok: true, status: 200, error: null });
    expect(await row(demo!.id)).toMatchObject({ lastTestStatus: 200, lastTestError: null });
  });

  it("shows admins each channel+model's live statistics, including this process's newest counts", async () => {
    const { channelStats } = app.container;
    channelStats.record(channelId, "gpt-4.1-nano", { outcome: "success", latencyMs: 400, firstTokenMs: 120 });
    channelStats.record(channelId, "gpt-4.1-nano", { outcome: "success", latencyMs: 420, firstTokenMs: 130 });
    channelStats.record(channelId, "gpt-4.1-nano", { outcome: "provider_error" });
    channelStats.record(channelId, "gpt-4.1-nano", { outcome: "request_error" });

    const rows = await app.callerFor(admin).admin.channels.stats({ channelId });
    expect(rows).toHaveLength(1);
    const [stats] = rows;
    expect(stats).toMatchObject({ channelId, channelName: (await row()).name, upstreamModel: "gpt-4.1-nano" });
    expect(stats!.stats.last5m).toMatchObject({ requests: 4, successes: 2, providerErrors: 1, requestErrors: 1 });
    expect(stats!.stats.last5m.uptime).toBeCloseTo(0.75);
    expect(stats!.stats.last5m.errorRate).toBeCloseTo(0.5);
    expect(stats!.stats.firstTokenMs?.p50).toBeGreaterThan(100);
    expect(stats!.stats.firstTokenMs?.p50).toBeLessThan(160);

    await expect(app.callerFor(member).admin.channels.stats()).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("creates a channel with its key encrypted and its endpoints routed at once, refusing bad input", async () => {
    const caller = app.callerFor(admin);
    const created = await caller.admin.channels.create({
      kind: "openai-compatible",
      name: "created-by-admin",
      provider: "DeepInfra",
      baseUrl: `${upstream.baseUrl}/`,
      apiKey: NEW_SECRET,
      priority: 3,
      models: [{ modelId: MODEL, upstreamModel: "nano-at-deepinfra" }],
    });
    expect(created).toMatchObject({
      name: "created-by-admin",
      provider: "deepinfra",
      baseUrl: upstream.baseUrl,
      priority: 3,
      hasSecret: true,
      endpointCount: 1,
    });
    expect(JSON.stringify(created)).not.toContain(NEW_SECRET);
    const stored = await row(created.id);
    expect(stored.encryptedSecret).not.toContain(NEW_SECRET);
    expect(app.container.secretBox.decrypt(stored.encryptedSecret!)).toBe(NEW_SECRET);
    const routedHere = app.container.catalog
      .getModel(MODEL)
      ?.endpoints.find((endpoint) => endpoint.channel.id === created.id);
    expect(routedHere).toMatchObject({ upstreamModel: "nano-at-deepinfra", channel: { provider: "deepinfra" } });

    await expect(
      caller.admin.channels.create({ kind: "openai-compatible", name: "created-by-admin", baseUrl: upstream.baseUrl }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(
      caller.admin.channels.create({ kind: "anthropic", name: "keyless", baseUrl: upstream.baseUrl }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      caller.admin.channels.create({ kind: "openai", name: "bad-url", baseUrl: "ftp://example.com", apiKey: "k" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      app.callerFor(member).admin.channels.create({ kind: "openai-compatible", name: "x", baseUrl: upstream.baseUrl }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});
