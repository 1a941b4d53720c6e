import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Change } from "~/server/changes";
import { apiKeys } from "~/server/db/schema";
import { hashApiKey, isWellFormedApiKey } from "~/server/gateway/keys/api-key-format";
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
});
