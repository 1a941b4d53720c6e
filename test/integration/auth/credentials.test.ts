import { CredentialsSignin } from "@auth/core/errors";
import type { JWT } from "@auth/core/jwt";
import type { Session, User } from "next-auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizeCredentials, createAuthConfig } from "~/server/auth/config";
import type { Logger } from "~/server/gateway/logger";
import { startApiTestApp, type ApiTestApp } from "../api/support";

describe("credentials sign-in", () => {
  let app: ApiTestApp;
  let userId: string;

  beforeAll(async () => {
    app = await startApiTestApp();
    ({ id: userId } = await app
      .callerFor(null)
      .account.signUp({ email: "grace@example.com", password: "hopper-1906" }));
  });

  afterAll(async () => {
    await app.close();
  });

  it("accepts the right password, whatever the email's case, and returns id and role", async () => {
    const user = await authorizeCredentials(app.container.db, { email: "Grace@Example.com", password: "hopper-1906" });
    expect(user).toEqual({ id: userId, email: "grace@example.com", name: null, image: null, role: "user" });
  });

  it("refuses a wrong password, an unknown email and malformed input alike", async () => {
    const { db } = app.container;
    await expect(authorizeCredentials(db, { email: "grace@example.com", password: "hopper-1907" })).resolves.toBeNull();
    await expect(
      authorizeCredentials(db, { email: "nobody@example.com", password: "hopper-1906" }),
    ).resolves.toBeNull();
    await expect(authorizeCredentials(db, { email: "grace@example.com" })).resolves.toBeNull();
    await expect(authorizeCredentials(db, { email: "not-an-email", password: "x" })).resolves.toBeNull();
    await expect(
      authorizeCredentials(db, { email: "grace@example.com", password: "x".repeat(10_000) }),
    ).resolves.toBeNull();
    await expect(authorizeCredentials(db, undefined)).resolves.toBeNull();
  });

  it("wires the Credentials provider to the same check, with JWT sessions and the container's secret", async () => {
    const config = createAuthConfig(app.container);
    expect(config.secret).toBe(app.container.authSecret);
    expect(config.session?.strategy).toBe("jwt");
    expect(config.trustHost).toBe(true);
    expect(config.adapter).toBeDefined();
    const provider = config.providers[0];
    if (typeof provider !== "object" || provider.type !== "credentials")
      throw new Error("expected a credentials provider");
    // The provider function keeps the user's `authorize` in `options`.
    const authorize = (provider as unknown as { options: { authorize: (c: unknown, r: Request) => Promise<unknown> } })
      .options.authorize;
    const request = new Request("http://localhost/api/auth/callback/credentials");
    await expect(authorize({ email: "grace@example.com", password: "hopper-1906" }, request)).resolves.toMatchObject({
      id: userId,
    });
    await expect(authorize({ email: "grace@example.com", password: "wrong-password" }, request)).resolves.toBeNull();
  });

  it("puts id and role into the token and the session", async () => {
    const { callbacks } = createAuthConfig(app.container);
    const user: User = { id: userId, email: "grace@example.com", role: "admin" };
    const token = (await callbacks?.jwt?.({ token: { sub: userId }, user, account: null, trigger: "signIn" })) as JWT;
    expect(token).toMatchObject({ id: userId, role: "admin" });
    // Later requests carry no user: the token keeps what sign-in put there.
    const refreshed = (await callbacks?.jwt?.({ token, user: undefined as unknown as User, account: null })) as JWT;
    expect(refreshed).toMatchObject({ id: userId, role: "admin" });

    const session = (await callbacks?.session?.({
      session: { user: { email: "grace@example.com" }, expires: new Date(Date.now() + 60_000).toISOString() },
      token: refreshed,
    } as unknown as Parameters<NonNullable<NonNullable<typeof callbacks>["session"]>>[0])) as Session;
    expect(session.user).toMatchObject({ id: userId, role: "admin", email: "grace@example.com" });
  });

  it("logs a refused password as routine and other auth failures as errors", () => {
    const lines: string[] = [];
    const record =
      (level: string) =>
      (message: string): void => {
        lines.push(`${level}: ${message}`);
      };
    const logger: Logger = {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
    };
    const config = createAuthConfig({ ...app.container, logger });
    config.logger?.error?.(new CredentialsSignin());
    config.logger?.error?.(new Error("adapter down"));
    expect(lines).toEqual(["info: sign-in refused: wrong email or password", "error: auth error"]);
  });
});
