import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizeCredentials, DisabledAccountSignInError } from "~/server/auth/config";
import { decideOAuthSignIn } from "~/server/auth/oauth-sign-in";
import { accounts, auditLog } from "~/server/db/schema";
import { isSessionCurrent } from "~/server/services/account-settings";
import { setAccountDisabled } from "~/server/services/account-status";
import { createApiKey } from "~/server/services/api-keys";
import { createUser } from "~/server/services/users";
import { runCli } from "~/cli/run-cli";
import { TEST_ACTOR } from "../../helpers/audit";
import { pairCustomer, startGatewayPair, type GatewayPair } from "../../helpers/gateway-pair";
import { createCliTestContext, type CliTestContext } from "../cli/cli-harness";
import { createSessionUser, startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

/*
 * An admin disables an account: its keys are refused (403 account_disabled), its sessions end, a sign-in with the
 * right password is refused with the reason, a provider sign-in too; enabling it restores everything as it was.
 */

const PASSWORD = "customer-password";

describe("disabling and enabling an account", () => {
  let app: ApiTestApp;
  let admin: SessionUser;

  beforeAll(async () => {
    app = await startApiTestApp();
    admin = await createSessionUser(app, "ops@example.com", "admin");
  });

  afterAll(async () => {
    await app?.close();
  });

  it("refuses the account's keys, sessions and sign-ins, and restores them when enabled", async () => {
    const { db, authenticator } = app.container;
    const customer = await createUser(db, { email: "disabled@example.com", password: PASSWORD });
    await db.insert(accounts).values({
      userId: customer.id,
      type: "oidc",
      provider: "oidc",
      providerAccountId: "customer-sub",
    });
    const { plaintext } = await createApiKey(db, { userId: customer.id, name: "server" });
    expect(await authenticator.authenticate(plaintext)).toMatchObject({ status: "active" });
    const signedInAt = Date.now() - 1_000;
    expect(await isSessionCurrent(db, customer.id, signedInAt)).toBe(true);

    const caller = app.callerFor(admin);
    const status = await caller.admin.users.setDisabled({
      userId: customer.id,
      disabled: true,
      reason: "chargeback under review",
    });
    expect(status.disabledAt).toBeInstanceOf(Date);

    expect(await authenticator.authenticate(plaintext)).toEqual({ status: "account_disabled" });
    expect(await isSessionCurrent(db, customer.id, signedInAt)).toBe(false);
    await expect(authorizeCredentials(db, { email: customer.email, password: PASSWORD })).rejects.toBeInstanceOf(
      DisabledAccountSignInError,
    );
    // A wrong password learns nothing about the account.
    expect(await authorizeCredentials(db, { email: customer.email, password: "wrong password" })).toBeNull();
    const identity = {
      provider: "oidc",
      providerAccountId: "customer-sub",
      email: customer.email,
      emailVerified: true,
    };
    expect(await decideOAuthSignIn(db, identity)).toBe("AccountDisabled");
    expect(await decideOAuthSignIn(db, { ...identity, providerAccountId: "another-sub" })).toBe("AccountDisabled");

    await caller.admin.users.setDisabled({ userId: customer.id, disabled: false });
    expect(await authenticator.authenticate(plaintext)).toMatchObject({ status: "active" });
    expect(await authorizeCredentials(db, { email: customer.email, password: PASSWORD })).toMatchObject({
      id: customer.id,
    });
    expect(await decideOAuthSignIn(db, identity)).toBe("allow");

    const audit = await db.select().from(auditLog).where(eq(auditLog.targetId, customer.id)).orderBy(auditLog.id);
    expect(audit).toMatchObject([
      {
        action: "account.disable",
        actor: "ops@example.com",
        before: { disabled: false, reason: null },
        after: { disabled: true, reason: "chargeback under review" },
        note: "chargeback under review",
      },
      { action: "account.enable", before: { disabled: true }, after: { disabled: false, reason: null } },
    ]);
  });

  it("asks for a reason, refuses an admin disabling themselves, and is for admins only", async () => {
    const customer = await createUser(app.container.db, { email: "kept@example.com", password: PASSWORD });
    const caller = app.callerFor(admin);
    await expect(caller.admin.users.setDisabled({ userId: customer.id, disabled: true })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      caller.admin.users.setDisabled({ userId: admin.id, disabled: true, reason: "oops" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      caller.admin.users.setDisabled({ userId: "no-such-user", disabled: true, reason: "x" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    const member = { id: customer.id, email: customer.email, role: "user" as const };
    await expect(
      app.callerFor(member).admin.users.setDisabled({ userId: customer.id, disabled: false }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    const rows = await app.container.db.select().from(auditLog).where(eq(auditLog.targetId, customer.id));
    expect(rows).toHaveLength(0);
  });
});

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)("a disabled account on two gateway processes", () => {
  let pair: GatewayPair;

  beforeAll(async () => {
    pair = await startGatewayPair({ channel: { name: "unused", baseUrl: "http://127.0.0.1:9/v1", models: [] } });
  });

  afterAll(async () => {
    await pair?.close();
  });

  it("is refused by every process at once, and served again once enabled", async () => {
    const { db } = pair.database.handle;
    const { user, call, statuses } = await pairCustomer(pair, "paused@example.com", PASSWORD);
    // Each process has the key in its cache.
    expect(await statuses()).toEqual([200, 200]);

    await setAccountDisabled(db, pair.changes, { userId: user.id, disabled: true, reason: "abuse report" }, TEST_ACTOR);
    for (const gateway of pair.gateways) {
      await expect.poll(async () => (await call(gateway.baseUrl)).status, { timeout: 5_000, interval: 50 }).toBe(403);
      const refused = (await (await call(gateway.baseUrl)).json()) as { error: Record<string, unknown> };
      expect(refused.error).toMatchObject({ type: "permission_error", code: "account_disabled", param: null });
    }

    await setAccountDisabled(db, pair.changes, { userId: user.id, disabled: false }, TEST_ACTOR);
    for (const gateway of pair.gateways) {
      await expect.poll(async () => (await call(gateway.baseUrl)).status, { timeout: 5_000, interval: 50 }).toBe(200);
    }
  });
});

describe("user disable and user enable in the CLI", () => {
  let cli: CliTestContext;

  beforeAll(async () => {
    cli = await createCliTestContext(process.env.TEST_DATABASE_URL === undefined ? "pglite" : "postgres");
  });

  afterAll(async () => {
    await cli?.close();
  });

  it("disables with a required reason and enables again, recorded as the shell's user", async () => {
    const { db } = cli.context;
    const user = await createUser(db, { email: "cli-paused@example.com", password: PASSWORD });
    expect((await runCli(["user", "disable", "--email", user.email], cli.context)).exitCode).toBe(2);
    const disabled = await runCli(
      ["user", "disable", "--email", user.email, "--reason", "unpaid invoice"],
      cli.context,
    );
    expect(disabled).toMatchObject({ exitCode: 0, stdout: "Disabled cli-paused@example.com (unpaid invoice)\n" });
    await expect(authorizeCredentials(db, { email: user.email, password: PASSWORD })).rejects.toBeInstanceOf(
      DisabledAccountSignInError,
    );
    expect((await runCli(["user", "enable", "--email", user.email], cli.context)).exitCode).toBe(0);
    expect(await authorizeCredentials(db, { email: user.email, password: PASSWORD })).toMatchObject({ id: user.id });
    const audit = await db.select().from(auditLog).where(eq(auditLog.targetId, user.id)).orderBy(auditLog.id);
    expect(audit.map((row) => [row.action, row.actor, row.via])).toEqual([
      ["account.disable", "cli:tester@test-host", "cli"],
      ["account.enable", "cli:tester@test-host", "cli"],
    ]);
  });
});
