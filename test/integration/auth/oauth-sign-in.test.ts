import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthConfig } from "~/server/auth/config";
import { signInButtons } from "~/server/auth/oauth-providers";
import { decideOAuthSignIn } from "~/server/auth/oauth-sign-in";
import { accounts, balances, users } from "~/server/db/schema";
import { createUser } from "~/server/services/users";
import { startApiTestApp, type ApiTestApp } from "../api/support";

describe("sign-in through a provider", () => {
  let app: ApiTestApp;
  const identity = (email: unknown, emailVerified: unknown, providerAccountId = `sub-${String(email)}`) => ({
    provider: "oidc",
    providerAccountId,
    email,
    emailVerified,
  });

  beforeAll(async () => {
    app = await startApiTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it("makes a new account only for an address the provider vouches for", async () => {
    const { db } = app.container;
    expect(await decideOAuthSignIn(db, identity("new@corp.example", true))).toBe("allow");
    expect(await decideOAuthSignIn(db, identity("new@corp.example", "true"))).toBe("allow");
    expect(await decideOAuthSignIn(db, identity("new@corp.example", false))).toBe("EmailNotVerified");
    expect(await decideOAuthSignIn(db, identity("new@corp.example", undefined))).toBe("EmailNotVerified");
    expect(await decideOAuthSignIn(db, identity(undefined, true))).toBe("OAuthNoEmail");
  });

  it("joins an account with the same confirmed address, but not one whose password was set by an unproven owner", async () => {
    const { db } = app.container;
    const squatted = await createUser(db, { email: "victim@corp.example", password: "attacker-password" });
    expect(await decideOAuthSignIn(db, identity("Victim@Corp.example", true))).toBe("ConfirmEmailFirst");
    await db
      .update(users)
      .set({ emailVerified: sql`now()` })
      .where(eq(users.id, squatted.id));
    expect(await decideOAuthSignIn(db, identity("victim@corp.example", true))).toBe("allow");
  });

  it("signs a joined identity in to its account until the account is deleted", async () => {
    const { db } = app.container;
    const user = await createUser(db, { email: "linked@corp.example", password: "some password" });
    await db
      .insert(accounts)
      .values({ userId: user.id, type: "oidc", provider: "oidc", providerAccountId: "sub-linked" });
    // Joined already: the provider's say on the address no longer matters (it may have changed there).
    expect(await decideOAuthSignIn(db, identity("other@corp.example", false, "sub-linked"))).toBe("allow");
    await db
      .update(users)
      .set({ deletedAt: sql`now()` })
      .where(eq(users.id, user.id));
    expect(await decideOAuthSignIn(db, identity("linked@corp.example", true, "sub-linked"))).toBe("AccountDeleted");
    expect(await decideOAuthSignIn(db, identity("linked@corp.example", true, "sub-someone-else"))).toBe(
      "AccountDeleted",
    );
  });

  it("gives an account the adapter makes a balance, as sign-up does", async () => {
    const { adapter } = createAuthConfig(app.container);
    const user = await adapter!.createUser!({
      id: crypto.randomUUID(),
      email: "fresh@corp.example",
      emailVerified: null,
      name: "Fresh",
    });
    const [balance] = await app.container.db.select().from(balances).where(eq(balances.userId, user.id));
    expect(balance?.balanceNano).toBe(0n);
  });

  it("offers a button for each provider whose client id and secret are configured", () => {
    const none = {
      AUTH_GITHUB_ID: undefined,
      AUTH_GITHUB_SECRET: undefined,
      AUTH_GOOGLE_ID: undefined,
      AUTH_GOOGLE_SECRET: undefined,
      AUTH_OIDC_ISSUER: undefined,
      AUTH_OIDC_ID: undefined,
      AUTH_OIDC_SECRET: undefined,
      AUTH_OIDC_NAME: "single sign-on",
    };
    expect(signInButtons(none)).toEqual([]);
    expect(
      signInButtons({
        ...none,
        AUTH_GITHUB_ID: "gh",
        AUTH_GITHUB_SECRET: "gh-secret",
        AUTH_GOOGLE_ID: "google",
        AUTH_OIDC_ISSUER: "https://login.corp.example",
        AUTH_OIDC_ID: "tollgate",
        AUTH_OIDC_SECRET: "secret",
        AUTH_OIDC_NAME: "Corp SSO",
      }),
    ).toEqual([
      { id: "github", name: "GitHub" },
      { id: "oidc", name: "Corp SSO" },
    ]);
  });
});
