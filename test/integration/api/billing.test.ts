import { TEST_ACTOR } from "../../helpers/audit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { balances } from "~/server/db/schema";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { addCredits } from "~/server/services/credits";
import { createPromoCode } from "~/server/services/promo-codes";
import { createUser } from "~/server/services/users";
import { expectLedgerConsistent } from "../../helpers/ledger-assertions";
import { startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

describe("billing router", () => {
  let app: ApiTestApp;
  let carol: SessionUser;
  let dave: SessionUser;

  beforeAll(async () => {
    app = await startApiTestApp();
    const c = await createUser(app.container.db, { email: "carol@example.com", password: "carol-password" });
    const d = await createUser(app.container.db, { email: "dave@example.com", password: "dave-password" });
    carol = { id: c.id, email: c.email, role: "user" };
    dave = { id: d.id, email: d.email, role: "user" };
  });

  afterAll(async () => {
    await app.close();
  });

  const credit = (userId: string, amountNano: bigint, note: string) =>
    addCredits(app.container.db, app.container.changes, { userId, amountNano, note });

  it("needs a session", async () => {
    const caller = app.callerFor(null);
    await expect(caller.billing.overview()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(caller.billing.ledger({})).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(caller.billing.redeemPromo({ code: "ANY" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("shows balance, held and available as exact decimal strings, and a flag", async () => {
    const caller = app.callerFor(carol);
    expect(await caller.billing.overview()).toEqual({
      balanceUsd: "0",
      heldUsd: "0",
      availableUsd: "0",
      flagged: false,
      flaggedAt: null,
      flagReason: null,
    });
    await credit(carol.id, 10_000_000_001n, "first");
    // A call in flight holds its worst-case cost (a real hold, wherever admission keeps them).
    const hold = {
      holdId: "gen-overview-hold",
      userId: carol.id,
      apiKeyId: null,
      keyHasSpendLimit: false,
      amountNano: 2_500_000_000n,
    };
    expect(await app.container.holds.place(hold)).toEqual({ kind: "held" });
    const flaggedAt = new Date("2026-03-04T12:00:00Z");
    await app.container.db
      .update(balances)
      .set({ flaggedAt, flagReason: "payment disputed" })
      .where(eq(balances.userId, carol.id));
    expect(await caller.billing.overview()).toEqual({
      balanceUsd: "10.000000001",
      heldUsd: "2.5",
      availableUsd: "7.500000001",
      flagged: true,
      flaggedAt,
      flagReason: "payment disputed",
    });
    // The call settles (here as void, free), which releases its hold.
    app.container.usageWriter.enqueue({
      generation: {
        id: hold.holdId,
        userId: carol.id,
        modelId: "tollgate/echo",
        provider: "tollgate",
        upstreamModel: "echo",
        streamed: false,
        httpStatus: 499,
        latencyMs: 1,
        createdAt: new Date(),
      },
      costNano: 0n,
    });
    await app.container.usageWriter.flush();
    await app.container.db
      .update(balances)
      .set({ flaggedAt: null, flagReason: null })
      .where(eq(balances.userId, carol.id));
    expect(await caller.billing.overview()).toMatchObject({ heldUsd: "0", availableUsd: "10.000000001" });
  });

  it("pages through the caller's own ledger newest first with running balances", async () => {
    await credit(carol.id, -1n, "correction");
    await credit(carol.id, 500_000_000n, "bonus");
    await credit(dave.id, 7n, "someone else's");
    await createPromoCode(app.container.db, { code: "LEDGER-PAGE", amountNano: 250_000_000n }, TEST_ACTOR);
    await app.callerFor(carol).billing.redeemPromo({ code: "ledger-page" });

    const caller = app.callerFor(carol);
    const items = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof caller.billing.ledger>> = await caller.billing.ledger({ limit: 3, cursor });
      expect(page.items.length).toBeLessThanOrEqual(3);
      items.push(...page.items);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);

    expect(pages).toBe(2);
    expect(items.map((item) => [item.kind, item.amountUsd, item.balanceAfterUsd, item.note])).toEqual([
      ["promo", "0.25", "10.75", "Promo code LEDGER-PAGE"],
      ["adjustment", "0.5", "10.5", "bonus"],
      ["adjustment", "-0.000000001", "10", "correction"],
      ["adjustment", "10.000000001", "10.000000001", "first"],
    ]);
    expect(items[0]?.createdAt).toBeInstanceOf(Date);
    expect((await caller.billing.overview()).balanceUsd).toBe("10.75");
    await expectLedgerConsistent(app.container.db, carol.id);
    expect((await app.callerFor(dave).billing.ledger({})).items.map((item) => item.note)).toEqual(["someone else's"]);
  });

  it("shows usage in the history as one line per UTC day and model, with its requests, between the credits", async () => {
    const erin = await createUser(app.container.db, { email: "erin@example.com", password: "password-123" });
    const user = { id: erin.id, email: erin.email, role: "user" as const };
    await credit(erin.id, 5_000_000_000n, "opening credit");
    const day = Date.UTC(2026, 10, 20);
    const call = (model: string, at: number, costNano: bigint, index: number) => ({
      generation: {
        id: `gen-history-${index}`,
        userId: erin.id,
        modelId: model,
        provider: "openai",
        upstreamModel: model,
        streamed: false,
        httpStatus: 200,
        latencyMs: 10,
        createdAt: new Date(at),
      },
      costNano,
    });
    // Day one: three calls of one model, one of another; day two: two calls.
    const calls = [
      call("openai/gpt-4o", day + 3_600_000, 1_000n, 1),
      call("openai/gpt-4o", day + 7_200_000, 2_000n, 2),
      call("openai/gpt-4o", day + 7_300_000, 3_000n, 3),
      call("openai/gpt-4.1-nano", day + 4 * 3_600_000, 5n, 4),
      call("openai/gpt-4o", day + 86_400_000 + 60_000, 7_000n, 5),
      call("openai/gpt-4o", day + 86_400_000 + 120_000, 11_000n, 6),
    ];
    for (const settlement of calls) app.container.usageWriter.enqueue(settlement);
    await app.container.usageWriter.flush();

    const caller = app.callerFor(user);
    const lines = [];
    let cursor: { at: Date; id: string } | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof caller.billing.history>> = await caller.billing.history({
        limit: 2,
        cursor,
      });
      lines.push(...page.items);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);

    // The credit is the newest line (it was added now); the usage lines follow by day, newest first.
    expect(
      lines.map((line) =>
        line.kind === "credit"
          ? ["credit", line.amountUsd, line.note]
          : ["usage", line.day, line.modelId, line.requests, line.amountUsd],
      ),
    ).toEqual([
      ["credit", "5", "opening credit"],
      ["usage", "2026-11-21", "openai/gpt-4o", 2, "-0.000018"],
      ["usage", "2026-11-20", "openai/gpt-4.1-nano", 1, "-0.000000005"],
      ["usage", "2026-11-20", "openai/gpt-4o", 3, "-0.000006"],
    ]);
    expect(pages).toBe(2);
    // The usage lines sum to the ledger's debits.
    const debited = (await caller.billing.ledger({ limit: 100 })).items
      .filter((item) => item.kind === "usage")
      .reduce((sum, item) => sum + parseUsdToNano(item.amountUsd), 0n);
    expect(debited).toBe(-24_005n);
    // Another account sees none of it.
    expect((await app.callerFor(dave).billing.history({})).items.every((line) => line.kind === "credit")).toBe(true);
  });

  it("redeems a promo code once and explains refusals", async () => {
    await createPromoCode(app.container.db, { code: "DAVE-5", amountNano: 5_000_000_000n }, TEST_ACTOR);
    await createPromoCode(
      app.container.db,
      {
        code: "OLD-NEWS",
        amountNano: 1n,
        expiresAt: new Date(Date.now() - 60_000),
      },
      TEST_ACTOR,
    );
    const caller = app.callerFor(dave);
    expect(await caller.billing.redeemPromo({ code: " dave-5 " })).toEqual({
      code: "DAVE-5",
      amountUsd: "5",
      balanceUsd: "5.000000007",
    });
    await expect(caller.billing.redeemPromo({ code: "DAVE-5" })).rejects.toMatchObject({
      code: "CONFLICT",
      message: "You have already redeemed promo code DAVE-5",
    });
    await expect(caller.billing.redeemPromo({ code: "NOPE-NOPE" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller.billing.redeemPromo({ code: "old-news" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "Promo code OLD-NEWS has expired",
    });
    expect((await caller.billing.overview()).balanceUsd).toBe("5.000000007");
    await expectLedgerConsistent(app.container.db, dave.id);
  });
});
