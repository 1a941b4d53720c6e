import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, generations, topUps, usageHourly } from "~/server/db/schema";
import type { Database } from "~/server/db";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { describeAccount } from "~/server/services/account-overview";
import { describeOverview } from "~/server/services/admin-overview";
import { createApiKey } from "~/server/services/api-keys";
import { addCredits } from "~/server/services/credits";
import { chatInProcess, readGatewayBody } from "../../helpers/gateway-call";
import { createSessionUser, startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

/*
 * What the console's Users and Overview pages read: an account as support sees it, search, and the operator's
 * overview of money and health, all from the rollups and the live statistics.
 */

describe("the console's account and overview reads", () => {
  let app: ApiTestApp;
  let admin: SessionUser;
  let member: SessionUser;
  let key: string;

  beforeAll(async () => {
    app = await startApiTestApp();
    admin = await createSessionUser(app, "console@example.com", "admin");
    member = await createSessionUser(app, "shopper@example.com");
    await addCredits(app.container.db, app.container.changes, { userId: member.id, amountNano: 5_000_000_000n });
    key = (await createApiKey(app.container.db, { userId: member.id, name: "shop key" })).plaintext;
    // The demo endpoint with a 10 % markup of its own: the overview's margin is that tenth.
    const caller = app.callerFor(admin);
    const [endpoint] = (await caller.admin.models.get({ id: "tollgate/echo" })).endpoints;
    await caller.admin.models.updateEndpoint({
      id: endpoint!.id,
      patch: { inputPrice: "10", outputPrice: "20", markupPercent: "10" },
    });
    for (const content of ["one", "two", "three"]) {
      const response = await chatInProcess(app.container.gateway, key, "tollgate/echo", content);
      expect(response.status, await readGatewayBody(response)).toBe(200);
    }
    await app.container.usageWriter.flush();
    await app.container.db.insert(topUps).values({
      userId: member.id,
      source: "checkout",
      status: "failed",
      amountNano: 20_000_000_000n,
      failureMessage: "Your card was declined.",
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it("finds accounts by part of the email or by exact id", async () => {
    const caller = app.callerFor(admin);
    expect((await caller.admin.users.list({ query: "SHOPPER@" })).items.map((user) => user.email)).toEqual([
      member.email,
    ]);
    expect((await caller.admin.users.list({ query: member.id })).items.map((user) => user.email)).toEqual([
      member.email,
    ]);
    // LIKE wildcards are searched for as themselves.
    expect((await caller.admin.users.list({ query: "%" })).items).toEqual([]);
  });

  it("describes an account: balance, spend today, keys, failed top-ups, and its history as the customer sees it", async () => {
    const caller = app.callerFor(admin);
    const calls = await app.container.db.select().from(generations).where(eq(generations.userId, member.id));
    const spentNano = calls.reduce((sum, call) => sum + call.costNano, 0n);
    expect(spentNano).toBeGreaterThan(0n);

    const account = await caller.admin.users.get({ userId: member.id });
    expect(account).toMatchObject({
      email: member.email,
      balanceUsd: formatNanoAsUsd(5_000_000_000n - spentNano),
      heldUsd: "0",
      disabledAt: null,
      rateLimits: { requestsPerMinute: null, tokensPerMinute: null, concurrentRequests: null },
    });
    expect(account).toMatchObject({ spentUsd: formatNanoAsUsd(spentNano), requests: 3 });
    expect(account.spendByDay).toHaveLength(30);
    expect(account.spendByDay.at(-1)).toEqual({
      day: new Date().toISOString().slice(0, 10),
      costUsd: formatNanoAsUsd(spentNano),
      requests: 3,
    });
    expect(account.keys.map((item) => [item.name, item.status])).toEqual([["shop key", "active"]]);
    expect(account.topUps).toEqual([
      expect.objectContaining({ status: "failed", amountUsd: "20", failureMessage: "Your card was declined." }),
    ]);

    const history = await caller.admin.users.history({ userId: member.id });
    const own = await app.callerFor(member).billing.history({});
    expect(history).toEqual(own);
    await expect(caller.admin.users.get({ userId: "no-such-user" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("buckets days in UTC whatever the database session's time zone", async () => {
    const { db, holds } = app.container;
    // West of UTC, a UTC midnight printed in local time would be the day before.
    const [account, overview] = await db.transaction(async (tx) => {
      await tx.execute(sql`set local timezone = 'America/New_York'`);
      const inNewYork = tx as unknown as Database;
      return [
        await describeAccount(inNewYork, (userId) => holds.heldNano(userId), member.id),
        await describeOverview(inNewYork),
      ] as const;
    });
    const today = new Date().toISOString().slice(0, 10);
    expect(account.spendByDay.at(-1)).toMatchObject({ day: today, requests: 3 });
    expect(overview.days.at(-1)).toMatchObject({ day: today, requests: 3 });
  });

  it("sums money in, usage billed, its cost and the margin per day, and lists what needs a human", async () => {
    const overview = await app.callerFor(admin).admin.overview.get();
    const slots = await app.container.db.select().from(usageHourly);
    const billedNano = slots.reduce((sum, slot) => sum + slot.costNano, 0n);
    const providerCostNano = slots.reduce((sum, slot) => sum + slot.providerCostNano, 0n);
    // Every call was billed at a 10 % markup: what they cost us is the billed amount without it (rounded down).
    const calls = await app.container.db.select().from(generations);
    expect(providerCostNano).toBe(calls.reduce((sum, call) => sum + (call.costNano * 10n) / 11n, 0n));
    expect(overview.totals).toMatchObject({
      billedUsd: formatNanoAsUsd(billedNano),
      providerCostUsd: formatNanoAsUsd(providerCostNano),
      marginUsd: formatNanoAsUsd(billedNano - providerCostNano),
      requests: 3,
      // Credits granted by hand are not top-ups (money in through Stripe).
      topUpsUsd: "0",
    });
    expect(overview.days).toHaveLength(30);
    expect(overview.days.at(-1)?.billedUsd).toBe(formatNanoAsUsd(billedNano));
    expect(overview.activeAccounts).toEqual({ lastDay: 1, last30Days: 1 });
    expect(overview.failedTopUps).toEqual([
      expect.objectContaining({ email: member.email, amountUsd: "20", failureMessage: "Your card was declined." }),
    ]);
    expect(overview.disputes).toEqual([]);
    // The demo channel served the three calls this hour, none failed.
    expect(overview.worstChannels).toEqual([
      expect.objectContaining({ name: "tollgate-demo", requests: 3, errorRate: 0, brokenReason: null }),
    ]);
    expect(overview.now.errorRate).toBe(0);
    expect(overview.now.requestsPerMinute).toBeCloseTo(3 / 5);
  });

  it("expires a promo code now, once, audited, and lists who redeemed it", async () => {
    const caller = app.callerFor(admin);
    const promo = await caller.admin.promoCodes.create({ code: "SPRING-26", amountUsd: "3" });
    await app.callerFor(member).billing.redeemPromo({ code: "spring-26" });
    expect(await caller.admin.promoCodes.redemptions({ id: promo.id })).toEqual([
      expect.objectContaining({ userId: member.id, email: member.email }),
    ]);
    const expired = await caller.admin.promoCodes.expire({ id: promo.id });
    expect(expired.expiresAt?.getTime()).toBeLessThanOrEqual(Date.now());
    // Expiring an expired code changes nothing and records nothing.
    await caller.admin.promoCodes.expire({ id: promo.id });
    const rows = await app.container.db.select().from(auditLog).where(eq(auditLog.targetId, promo.id));
    expect(rows.map((row) => row.action)).toEqual(["promo-code.create", "promo-code.expire"]);
    // Nobody else can redeem it now.
    const refused = caller.billing.redeemPromo({ code: "SPRING-26" });
    await expect(refused).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(refused).rejects.toThrow(/expired/);
    await expect(caller.admin.promoCodes.expire({ id: "00000000-0000-4000-8000-000000000000" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("searches every account's ledger by kind, email and dates, and reconciles from the console", async () => {
    const caller = app.callerFor(admin);
    const usage = await caller.admin.money.ledger({ kind: "usage", email: "shopper@" });
    expect(usage.items.length).toBeGreaterThan(0);
    expect(usage.items.every((entry) => entry.kind === "usage" && entry.email === member.email)).toBe(true);
    const promos = await caller.admin.money.ledger({ kind: "promo", email: "SHOPPER" });
    expect(promos.items.map((entry) => entry.amountUsd)).toEqual(["3"]);
    const tomorrow = new Date(Date.now() + 86_400_000);
    expect((await caller.admin.money.ledger({ from: tomorrow })).items).toEqual([]);
    // Paging: one at a time, newest first, each entry once.
    const all = await caller.admin.money.ledger({ email: "shopper@", limit: 200 });
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof caller.admin.money.ledger>> = await caller.admin.money.ledger({
        email: "shopper@",
        limit: 1,
        cursor,
      });
      paged.push(...page.items.map((entry) => entry.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(paged).toEqual(all.items.map((entry) => entry.id));

    const reconciled = await caller.admin.money.reconcile();
    expect(reconciled.mismatches).toEqual([]);
    expect(reconciled.accounts).toBeGreaterThanOrEqual(2);
    expect(await caller.admin.money.stripeEvents()).toEqual([]);
  });
  it("finds a call by the request id its client was sent, or by its generation id, across accounts", async () => {
    // An account of its own, so the other tests' figures stay as they are.
    const quoter = await createSessionUser(app, "quoter@example.com");
    await addCredits(app.container.db, app.container.changes, { userId: quoter.id, amountNano: 1_000_000_000n });
    const quoterKey = (await createApiKey(app.container.db, { userId: quoter.id, name: "quoted" })).plaintext;
    const response = await app.container.gateway.handle({
      method: "POST",
      path: "/v1/chat/completions",
      query: new URLSearchParams(),
      headers: {
        authorization: `Bearer ${quoterKey}`,
        "content-type": "application/json",
        "x-request-id": "support-ticket-4711",
      },
      body: Buffer.from(JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "quoted" }] })),
      signal: new AbortController().signal,
    });
    expect(response.status).toBe(200);
    await readGatewayBody(response);
    await app.container.usageWriter.flush();
    const caller = app.callerFor(admin);
    const [found, ...more] = await caller.admin.requests.find({ id: "support-ticket-4711" });
    expect(more).toEqual([]);
    expect(found).toMatchObject({
      generationId: response.headers["x-generation-id"],
      requestId: "support-ticket-4711",
      userId: quoter.id,
      email: "quoter@example.com",
      modelId: "tollgate/echo",
      httpStatus: 200,
    });
    expect(found!.matchedBy).toBe("request id");
    expect(await caller.admin.requests.find({ id: found!.generationId })).toEqual([
      { ...found, matchedBy: "generation id" },
    ]);
    expect(await caller.admin.requests.find({ id: "support-ticket-0000" })).toEqual([]);
  });
});
