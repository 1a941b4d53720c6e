import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Change } from "~/server/changes";
import { apiKeys } from "~/server/db/schema";
import type { GatewayResponse } from "~/server/gateway";
import { hashApiKey, isWellFormedApiKey } from "~/server/gateway/keys/api-key-format";
import { addCredits } from "~/server/services/credits";
import { startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

describe("keys router", () => {
  let app: ApiTestApp;
  let alice: SessionUser;
  let bob: SessionUser;

  beforeAll(async () => {
    app = await startApiTestApp();
    const signUp = app.callerFor(null).account.signUp;
    const a = await signUp({ email: "alice@example.com", password: "alice-password" });
    const b = await signUp({ email: "bob@example.com", password: "bob-password" });
    alice = { ...a, role: "user" };
    bob = { ...b, role: "user" };
  });

  afterAll(async () => {
    await app.close();
  });

  it("creates a key, returns its plaintext once, and lists it by prefix without the hash", async () => {
    const caller = app.callerFor(alice);
    const created = await caller.keys.create({ name: "  laptop  " });
    expect(isWellFormedApiKey(created.plaintext)).toBe(true);
    expect(created.name).toBe("laptop");
    expect(created.plaintext.startsWith(created.prefix)).toBe(true);

    const keys = await caller.keys.list();
    const listed = keys.find((key) => key.id === created.id);
    expect(listed).toMatchObject({ name: "laptop", prefix: created.prefix, lastUsedAt: null, revokedAt: null });
    expect(listed?.createdAt).toBeInstanceOf(Date);
    // Neither the plaintext nor its hash ever comes back.
    const serialized = JSON.stringify(keys);
    expect(serialized).not.toContain(created.plaintext);
    expect(serialized).not.toContain(hashApiKey(created.plaintext));
    expect(Object.keys(listed ?? {})).not.toContain("hash");
  });

  it("rejects a blank key name", async () => {
    await expect(app.callerFor(alice).keys.create({ name: "   " })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("lists only the caller's own keys", async () => {
    await app.callerFor(bob).keys.create({ name: "bob's key" });
    const aliceKeys = await app.callerFor(alice).keys.list();
    expect(aliceKeys.map((key) => key.name)).not.toContain("bob's key");
  });

  it("revokes the caller's key and refuses to revoke it twice", async () => {
    const caller = app.callerFor(alice);
    const created = await caller.keys.create({ name: "to revoke" });
    const revoked = await caller.keys.revoke({ id: created.id });
    expect(revoked.id).toBe(created.id);
    expect(revoked.revokedAt).toBeInstanceOf(Date);

    const listed = (await caller.keys.list()).find((key) => key.id === created.id);
    expect(listed?.revokedAt).toBeInstanceOf(Date);
    await expect(caller.keys.revoke({ id: created.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("answers NOT_FOUND for someone else's key and leaves it active", async () => {
    const bobsKey = await app.callerFor(bob).keys.create({ name: "bob's secret" });
    await expect(app.callerFor(alice).keys.revoke({ id: bobsKey.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const stillActive = (await app.callerFor(bob).keys.list()).find((key) => key.id === bobsKey.id);
    expect(stillActive?.revokedAt).toBeNull();
  });

  it("answers NOT_FOUND for an unknown id and BAD_REQUEST for a malformed one", async () => {
    await expect(app.callerFor(alice).keys.revoke({ id: crypto.randomUUID() })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(app.callerFor(alice).keys.revoke({ id: "sk-gw-12345678" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });

  const rowOf = async (id: string) => (await app.container.db.select().from(apiKeys).where(eq(apiKeys.id, id)))[0]!;

  it("creates a key with an exact spend limit, reset period and expiry", async () => {
    const caller = app.callerFor(alice);
    const expiresAt = new Date("2031-06-30T00:00:00Z");
    const created = await caller.keys.create({
      name: "budgeted",
      limitUsd: "12.345678901",
      limitReset: "monthly",
      expiresAt,
    });
    expect(created).toMatchObject({
      spendLimitUsd: "12.345678901",
      limitReset: "monthly",
      expiresAt,
      periodSpendUsd: "0",
      remainingUsd: "12.345678901",
      status: "active",
    });
    expect(await rowOf(created.id)).toMatchObject({
      spendLimitNano: 12_345_678_901n,
      limitReset: "monthly",
      expiresAt,
    });
    // A number is read by its decimal spelling, so 0.1 is exactly 100,000,000 nano-USD.
    const fromNumber = await caller.keys.create({ name: "number", limitUsd: 0.1 });
    expect((await rowOf(fromNumber.id)).spendLimitNano).toBe(100_000_000n);
    const listed = (await caller.keys.list()).find((key) => key.id === created.id);
    expect(listed).toMatchObject({ spendLimitUsd: "12.345678901", limitReset: "monthly", disabledAt: null });
  });

  it("refuses limits it cannot take exactly or that make no sense", async () => {
    const caller = app.callerFor(alice);
    for (const limitUsd of ["-1", "1e3", "1.0000000001", "abc", -0.5]) {
      await expect(caller.keys.create({ name: "bad", limitUsd })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    await expect(caller.keys.create({ name: "bad", limitReset: "daily" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "A reset period needs a spend limit",
    });
    await expect(caller.keys.create({ name: "bad", expiresAt: new Date(Date.now() - 60_000) })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });

  it("updates a key's limit, reset and expiry, leaving omitted fields as they are", async () => {
    const caller = app.callerFor(alice);
    const created = await caller.keys.create({ name: "to update", limitUsd: "5", limitReset: "daily" });
    const updated = await caller.keys.update({ id: created.id, limitUsd: "7.000000001" });
    expect(updated).toMatchObject({ spendLimitUsd: "7.000000001", limitReset: "daily" });
    expect((await rowOf(created.id)).spendLimitNano).toBe(7_000_000_001n);

    const expiresAt = new Date("2032-01-01T00:00:00Z");
    expect(await caller.keys.update({ id: created.id, limitReset: "weekly", expiresAt })).toMatchObject({
      spendLimitUsd: "7.000000001",
      limitReset: "weekly",
      expiresAt,
    });
    expect(await caller.keys.update({ id: created.id, limitUsd: null, expiresAt: null })).toMatchObject({
      spendLimitUsd: null,
      limitReset: null,
      expiresAt: null,
      remainingUsd: null,
    });
    await expect(app.callerFor(bob).keys.update({ id: created.id, limitUsd: "1" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect((await rowOf(created.id)).spendLimitNano).toBeNull();
  });

  it("disables and enables a key, evicting it from the gateways' caches each time", async () => {
    const published: Change[] = [];
    const unsubscribe = app.container.changes.subscribe((change) => {
      published.push(change);
    });
    try {
      const caller = app.callerFor(alice);
      const created = await caller.keys.create({ name: "switch" });
      const disabled = await caller.keys.setDisabled({ id: created.id, disabled: true });
      expect(disabled.status).toBe("disabled");
      expect(disabled.disabledAt).toBeInstanceOf(Date);
      expect(await app.container.authenticator.authenticate(created.plaintext)).toEqual({ status: "disabled" });

      await expect(app.callerFor(bob).keys.setDisabled({ id: created.id, disabled: false })).rejects.toMatchObject({
        code: "NOT_FOUND",
      });
      const enabled = await caller.keys.setDisabled({ id: created.id, disabled: false });
      expect(enabled).toMatchObject({ status: "active", disabledAt: null });
      expect(await app.container.authenticator.authenticate(created.plaintext)).toMatchObject({
        status: "active",
        principal: { apiKeyId: created.id },
      });
      const hash = hashApiKey(created.plaintext);
      expect(published.filter((change) => change.topic === "api-key-revoked" && change.hash === hash)).toHaveLength(2);
    } finally {
      unsubscribe();
    }
  });

  /** Every change the routers publish while `work` runs. */
  async function publishedDuring(work: () => Promise<void>): Promise<Change[]> {
    const published: Change[] = [];
    const unsubscribe = app.container.changes.subscribe((change) => {
      published.push(change);
    });
    try {
      await work();
    } finally {
      unsubscribe();
    }
    return published;
  }

  it("offers the models the gateway can route, by id and name, to signed-in users only", async () => {
    const models = await app.callerFor(alice).keys.models();
    expect(models).toContainEqual({ id: "tollgate/echo", name: expect.any(String) as unknown });
    expect(models.map((model) => model.id)).toEqual(app.container.catalog.listModels().map((model) => model.id));
    await expect(app.callerFor(null).keys.models()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("creates a key with a model allowlist and its own rate limits, and lists them", async () => {
    const caller = app.callerFor(alice);
    const created = await caller.keys.create({
      name: "restricted",
      allowedModels: ["tollgate/echo", "tollgate/echo", "openai/gpt-4.1-nano"],
      requestsPerMinute: 60,
      tokensPerMinute: 100_000,
      concurrentRequests: 2,
    });
    expect(created).toMatchObject({
      allowedModels: ["tollgate/echo", "openai/gpt-4.1-nano"],
      requestsPerMinute: 60,
      tokensPerMinute: 100_000,
      concurrentRequests: 2,
    });
    expect(await rowOf(created.id)).toMatchObject({
      allowedModels: ["tollgate/echo", "openai/gpt-4.1-nano"],
      requestsPerMinute: 60,
      tokensPerMinute: 100_000,
      concurrentRequests: 2,
    });
    expect((await caller.keys.list()).find((key) => key.id === created.id)).toMatchObject({
      allowedModels: ["tollgate/echo", "openai/gpt-4.1-nano"],
      requestsPerMinute: 60,
      concurrentRequests: 2,
    });
    // Without them: every model, the configured default rates.
    expect(await caller.keys.create({ name: "open" })).toMatchObject({
      allowedModels: null,
      requestsPerMinute: null,
      tokensPerMinute: null,
      concurrentRequests: null,
    });
  });

  it("refuses an allowlist or rate limit that makes no sense, creating nothing", async () => {
    const caller = app.callerFor(alice);
    const before = (await caller.keys.list()).length;
    const refused = [
      { allowedModels: [] },
      { allowedModels: ["  "] },
      { allowedModels: ["no-such/model"] },
      { requestsPerMinute: 0 },
      { tokensPerMinute: -5 },
      { concurrentRequests: 1.5 },
      { requestsPerMinute: 2_147_483_648 },
    ];
    for (const input of refused) {
      await expect(caller.keys.create({ name: "bad", ...input }), JSON.stringify(input)).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    }
    await expect(caller.keys.create({ name: "bad", allowedModels: ["no-such/model"] })).rejects.toMatchObject({
      message: "Unknown model: no-such/model",
    });
    // Field by field, for the form to say which.
    const zodError = await caller.keys.create({ name: "bad", tokensPerMinute: 0 }).catch((error: unknown) => error);
    expect(zodError).toMatchObject({ message: expect.stringContaining("must be at least 1") as unknown });
    expect((await caller.keys.list()).length).toBe(before);
  });

  it("sets and clears a key's allowlist through update, evicting it from the gateways' caches", async () => {
    const caller = app.callerFor(alice);
    const created = await caller.keys.create({ name: "allowlist", limitUsd: "3" });
    const hash = (await rowOf(created.id)).hash;
    const published = await publishedDuring(async () => {
      expect(await caller.keys.update({ id: created.id, allowedModels: ["tollgate/echo"] })).toMatchObject({
        allowedModels: ["tollgate/echo"],
        // Fields not sent stay as they were.
        spendLimitUsd: "3",
      });
    });
    expect(published).toEqual([
      { topic: "api-key-revoked", hash },
      { topic: "api-key-changed", id: created.id },
    ]);
    expect((await rowOf(created.id)).allowedModels).toEqual(["tollgate/echo"]);

    // Other changes leave the allowlist alone; null allows every model again.
    await caller.keys.update({ id: created.id, limitUsd: "4" });
    expect((await rowOf(created.id)).allowedModels).toEqual(["tollgate/echo"]);
    expect(await caller.keys.update({ id: created.id, allowedModels: null })).toMatchObject({ allowedModels: null });
    expect((await rowOf(created.id)).allowedModels).toBeNull();

    for (const allowedModels of [[], ["no-such/model"]]) {
      await expect(caller.keys.update({ id: created.id, allowedModels })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    }
    expect((await rowOf(created.id)).allowedModels).toBeNull();
  });

  it("keeps a model the catalog no longer knows on an allowlist that still names it", async () => {
    const caller = app.callerFor(alice);
    const created = await caller.keys.create({ name: "legacy" });
    // As `key create --models` may have stored it: the CLI does not check ids against the catalog.
    await app.container.db
      .update(apiKeys)
      .set({ allowedModels: ["retired/model", "tollgate/echo"] })
      .where(eq(apiKeys.id, created.id));
    expect(
      await caller.keys.update({ id: created.id, allowedModels: ["tollgate/echo", "retired/model"] }),
    ).toMatchObject({ allowedModels: ["tollgate/echo", "retired/model"] });
    await expect(
      caller.keys.update({ id: created.id, allowedModels: ["tollgate/echo", "another-retired/model"] }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: "Unknown model: another-retired/model" });
  });

  it("sets and clears a key's rate limits through update, one at a time or together", async () => {
    const caller = app.callerFor(alice);
    const created = await caller.keys.create({ name: "rates", requestsPerMinute: 10 });
    const hash = (await rowOf(created.id)).hash;
    const published = await publishedDuring(async () => {
      expect(await caller.keys.update({ id: created.id, tokensPerMinute: 5_000, concurrentRequests: 3 })).toMatchObject(
        { requestsPerMinute: 10, tokensPerMinute: 5_000, concurrentRequests: 3 },
      );
    });
    expect(published).toContainEqual({ topic: "api-key-revoked", hash });
    expect(await rowOf(created.id)).toMatchObject({
      requestsPerMinute: 10,
      tokensPerMinute: 5_000,
      concurrentRequests: 3,
    });

    expect(
      await caller.keys.update({ id: created.id, requestsPerMinute: null, concurrentRequests: null }),
    ).toMatchObject({ requestsPerMinute: null, tokensPerMinute: 5_000, concurrentRequests: null });
    for (const limits of [
      { requestsPerMinute: 0 },
      { tokensPerMinute: 2.5 },
      { concurrentRequests: -1 },
      { tokensPerMinute: 2_147_483_648 },
    ]) {
      await expect(caller.keys.update({ id: created.id, ...limits }), JSON.stringify(limits)).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    }
    expect(await rowOf(created.id)).toMatchObject({
      requestsPerMinute: null,
      tokensPerMinute: 5_000,
      concurrentRequests: null,
    });
  });

  it("answers NOT_FOUND when changing the allowlist or rate limits of someone else's key, changing nothing", async () => {
    const bobsKey = await app.callerFor(bob).keys.create({ name: "bob's limited", requestsPerMinute: 5 });
    const stranger = app.callerFor(alice).keys;
    await expect(stranger.update({ id: bobsKey.id, allowedModels: ["tollgate/echo"] })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(stranger.update({ id: bobsKey.id, requestsPerMinute: null })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect(await rowOf(bobsKey.id)).toMatchObject({ allowedModels: null, requestsPerMinute: 5 });
  });

  it("has /v1 refuse the models a key's allowlist leaves out, and count its own rate limit, from the next call", async () => {
    const caller = app.callerFor(alice);
    await addCredits(app.container.db, app.container.changes, { userId: alice.id, amountNano: 1_000_000_000n });
    const created = await caller.keys.create({ name: "echo only", allowedModels: ["tollgate/echo"] });
    const chat = () =>
      app.container.gateway.handle({
        method: "POST",
        path: "/v1/chat/completions",
        query: new URLSearchParams(),
        headers: { authorization: `Bearer ${created.plaintext}`, "content-type": "application/json" },
        body: Buffer.from(JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "hi" }] })),
        signal: new AbortController().signal,
      });
    expect((await settle(await chat())).status).toBe(200);

    await caller.keys.update({ id: created.id, allowedModels: ["openai/gpt-4.1-nano"] });
    const refused = await settle(await chat());
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: "model_not_allowed", param: "model" } });

    await caller.keys.update({ id: created.id, allowedModels: null, requestsPerMinute: 1 });
    const allowed = await settle(await chat());
    expect(allowed.status, allowed.text).toBe(200);
    expect(allowed.headers["x-ratelimit-limit-requests"]).toBe("1");
    expect((await settle(await chat())).status).toBe(429);
  });
});

/** A gateway response's status, headers and whole body. */
async function settle(response: GatewayResponse): Promise<GatewayResponse & { text: string }> {
  const { body } = response;
  let text = "";
  if (typeof body === "string") text = body;
  else if (body instanceof Uint8Array) text = new TextDecoder().decode(body);
  else {
    const decoder = new TextDecoder();
    for await (const chunk of body) text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    text += decoder.decode();
  }
  return { ...response, text };
}
