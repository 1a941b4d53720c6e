import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addCredits } from "~/server/services/credits";
import { startApiTestApp, type ApiTestApp } from "./support";

describe("account router", () => {
  let app: ApiTestApp;

  beforeAll(async () => {
    app = await startApiTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it("signs up a new user with a normalised email and a zero balance", async () => {
    const result = await app.callerFor(null).account.signUp({
      email: "Ada@Example.com",
      password: "correct horse battery",
      name: "Ada",
    });
    expect(result.email).toBe("ada@example.com");

    const caller = app.callerFor({ id: result.id, email: result.email, role: "user" });
    await expect(caller.account.me()).resolves.toMatchObject({
      id: result.id,
      email: "ada@example.com",
      name: "Ada",
      role: "user",
    });
    await expect(caller.account.balance()).resolves.toEqual({ balanceNano: 0n, balanceUsd: "0" });
  });

  it("refuses a second account with the same email (any case) with CONFLICT", async () => {
    await app.callerFor(null).account.signUp({ email: "dup@example.com", password: "password-one" });
    await expect(
      app.callerFor(null).account.signUp({ email: "DUP@example.com", password: "password-two" }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("rejects invalid sign-up input with BAD_REQUEST and field errors", async () => {
    const attempt = app.callerFor(null).account.signUp({ email: "not-an-email", password: "short" });
    await expect(attempt).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("reports the balance exactly, in nano-USD and as a decimal string", async () => {
    const { id, email } = await app
      .callerFor(null)
      .account.signUp({ email: "rich@example.com", password: "password-123" });
    await addCredits(app.container.db, app.container.changes, { userId: id, amountNano: 12_500_000_001n });
    await expect(app.callerFor({ id, email, role: "user" }).account.balance()).resolves.toEqual({
      balanceNano: 12_500_000_001n,
      balanceUsd: "12.500000001",
    });
  });

  it("refuses protected procedures without a session", async () => {
    const signedOut = app.callerFor(null);
    await expect(signedOut.account.me()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(signedOut.account.balance()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(signedOut.keys.list()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(signedOut.keys.create({ name: "x" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(signedOut.keys.revoke({ id: crypto.randomUUID() })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(signedOut.admin.users.list({})).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("treats a session whose user no longer exists as signed out in `me`", async () => {
    const ghost = app.callerFor({ id: crypto.randomUUID(), email: "ghost@example.com", role: "user" });
    await expect(ghost.account.me()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});
