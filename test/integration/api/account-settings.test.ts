import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteAccount, isSessionCurrent } from "~/server/services/account-settings";
import { createApiKey } from "~/server/services/api-keys";
import { addCredits } from "~/server/services/credits";
import { authenticateUser, createUser } from "~/server/services/users";
import { pairCustomer, startGatewayPair, type GatewayPair } from "../../helpers/gateway-pair";
import { ledgerOf } from "../../helpers/ledger-assertions";
import { startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

/*
 * What customers change about their own account through the dashboard's procedures: name, password, sessions, and
 * deleting the account (its keys refused at once, by every gateway process; its ledger kept; sign-in refused).
 */

let app: ApiTestApp;

beforeAll(async () => {
  app = await startApiTestApp();
});

afterAll(async () => {
  await app?.close();
});

const PASSWORD = "the first password";

async function newCustomer(): Promise<SessionUser & { apiKey: string }> {
  const { db, changes } = app.container;
  const user = await createUser(db, { email: `settings-${crypto.randomUUID()}@example.com`, password: PASSWORD });
  await addCredits(db, changes, { userId: user.id, amountNano: 2_500_000_000n });
  const { plaintext } = await createApiKey(db, { userId: user.id, name: "laptop" });
  return { id: user.id, email: user.email, role: "user", apiKey: plaintext };
}

async function refusal(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe("account settings", () => {
  it("renames the account, and clears the name when given none", async () => {
    const customer = await newCustomer();
    const caller = app.callerFor(customer);
    await caller.account.rename({ name: "  Ada Lovelace " });
    expect((await caller.account.me()).name).toBe("Ada Lovelace");
    await caller.account.rename({ name: "" });
    expect((await caller.account.me()).name).toBeNull();
  });

  it("changes the password only against the current one, and ends every session signed in before", async () => {
    const customer = await newCustomer();
    const caller = app.callerFor(customer);
    const signedInBefore = Date.now() - 1;
    const wrong = await refusal(caller.account.changePassword({ current: "not it", next: "a new password" }));
    expect(wrong.code).toBe("BAD_REQUEST");
    expect(wrong.message).toBe("That is not your current password.");
    expect(await isSessionCurrent(app.container.db, customer.id, signedInBefore)).toBe(true);

    await caller.account.changePassword({ current: PASSWORD, next: "a new password" });
    const { db } = app.container;
    expect(await authenticateUser(db, customer.email, PASSWORD)).toBeNull();
    expect((await authenticateUser(db, customer.email, "a new password"))?.id).toBe(customer.id);
    expect(await isSessionCurrent(db, customer.id, signedInBefore)).toBe(false);
    // Signing in again, with the new password, makes a session that counts.
    expect(await isSessionCurrent(db, customer.id, Date.now() + 1)).toBe(true);
    // The new password must be a real one.
    expect((await refusal(caller.account.changePassword({ current: "a new password", next: "short" }))).code).toBe(
      "BAD_REQUEST",
    );
  });

  it("signs out of every session at once", async () => {
    const customer = await newCustomer();
    const signedInBefore = Date.now() - 1;
    await app.callerFor(customer).account.endAllSessions();
    expect(await isSessionCurrent(app.container.db, customer.id, signedInBefore)).toBe(false);
  });

  it("states the balance and keys before deleting, then revokes the keys, keeps the ledger and refuses sign-in", async () => {
    const customer = await newCustomer();
    const caller = app.callerFor(customer);
    const { db, authenticator } = app.container;
    expect(await caller.account.deletionSummary()).toEqual({ balanceUsd: "2.5", activeKeys: 1 });
    expect((await authenticator.authenticate(customer.apiKey)).status).toBe("active");
    const ledgerBefore = await ledgerOf(db, customer.id);

    expect((await refusal(caller.account.delete({ password: "not it" }))).code).toBe("BAD_REQUEST");
    expect((await authenticator.authenticate(customer.apiKey)).status).toBe("active");

    expect(await caller.account.delete({ password: PASSWORD })).toEqual({ revokedKeys: 1 });
    expect((await authenticator.authenticate(customer.apiKey)).status).toBe("revoked");
    expect(await authenticateUser(db, customer.email, PASSWORD)).toBeNull();
    expect(await isSessionCurrent(db, customer.id, Date.now() + 1)).toBe(false);
    expect(await ledgerOf(db, customer.id)).toEqual(ledgerBefore);
    // A session token that outlived the account can do nothing with it.
    const ghost = await refusal(caller.account.rename({ name: "ghost" }));
    expect(ghost.code, String(ghost.cause)).toBe("NOT_FOUND");
  });
});

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)("deleting an account with two gateway processes", () => {
  let pair: GatewayPair;

  beforeAll(async () => {
    pair = await startGatewayPair({ channel: { name: "unused", baseUrl: "http://127.0.0.1:9/v1", models: [] } });
  });

  afterAll(async () => {
    await pair?.close();
  });

  it("refuses the account's keys on every process at once", async () => {
    const { db } = pair.database.handle;
    const { user, call, statuses } = await pairCustomer(pair, "leaving@example.com", PASSWORD);
    // Each process has the key in its cache.
    expect(await statuses()).toEqual([200, 200]);

    await deleteAccount(db, pair.changes, user.id, PASSWORD);
    for (const gateway of pair.gateways) {
      await expect.poll(async () => (await call(gateway.baseUrl)).status, { timeout: 5_000, interval: 50 }).toBe(401);
      const refused = (await (await call(gateway.baseUrl)).json()) as { error: { code: string } };
      expect(refused.error.code).toBe("api_key_revoked");
    }
  });
});
