import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
});
