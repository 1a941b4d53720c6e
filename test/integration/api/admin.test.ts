import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "~/server/api/root";
import { ledgerEntries, users } from "~/server/db/schema";
import { getBalanceNano } from "~/server/services/credits";
import { createUser } from "~/server/services/users";
import { createSessionUser, startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

describe("admin router", () => {
  let app: ApiTestApp;
  let admin: SessionUser;
  let member: SessionUser;

  beforeAll(async () => {
    app = await startApiTestApp();
    admin = await createSessionUser(app, "root@example.com", "admin");
    member = await createSessionUser(app, "member@example.com");
  });

  afterAll(async () => {
    await app.close();
  });

  it("refuses non-admins with FORBIDDEN", async () => {
    const caller = app.callerFor(member);
    await expect(caller.admin.users.list({})).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(caller.admin.credits.add({ email: member.email, usd: "100", note: "please" })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    expect(await getBalanceNano(app.container.db, member.id)).toBe(0n);
  });

  it("refuses every admin procedure to members, forged admins and the signed-out, before reading any input", async () => {
    const paths = Object.keys(appRouter._def.procedures).filter((path) => path.startsWith("admin."));
    // Found by walking the router, so a procedure added later without adminProcedure fails here.
    expect(paths.length).toBeGreaterThanOrEqual(20);
    const callers = [
      [app.callerFor(member), "FORBIDDEN"],
      [app.callerFor({ ...member, role: "admin" }), "FORBIDDEN"],
      [app.callerFor(null), "UNAUTHORIZED"],
    ] as const;
    for (const path of paths) {
      for (const [caller, code] of callers) {
        const procedure = path
          .split(".")
          .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], caller);
        // No input at all: the guard answers before validation would.
        await expect((procedure as (input?: unknown) => Promise<unknown>)(), path).rejects.toMatchObject({ code });
      }
    }
  });

  it("refuses a session that claims admin when the database says otherwise", async () => {
    const forged = app.callerFor({ ...member, role: "admin" });
    await expect(forged.admin.users.list({})).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("pages through users newest first with a cursor, without gaps or repeats", async () => {
    for (let index = 0; index < 5; index += 1) {
      await createUser(app.container.db, { email: `page-${index}@example.com`, password: "page-password" });
    }
    const caller = app.callerFor(admin);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof caller.admin.users.list>> = await caller.admin.users.list({
        limit: 2,
        cursor,
      });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((user) => user.email));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 20);

    const all = await app.container.db.select({ email: users.email }).from(users);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(all.map((user) => user.email).sort());
    expect(seen.indexOf("page-4@example.com")).toBeLessThan(seen.indexOf("page-0@example.com"));
    const first = await caller.admin.users.list({ limit: 100 });
    expect(first.nextCursor).toBeNull();
    expect(first.items.find((user) => user.email === "member@example.com")).toMatchObject({
      role: "user",
      balanceNano: 0n,
      balanceUsd: "0",
    });
  });

  it("adds credit from an exact decimal string", async () => {
    const caller = app.callerFor(admin);
    const result = await caller.admin.credits.add({ email: "MEMBER@example.com", usd: "0.1", note: "welcome" });
    expect(result).toMatchObject({
      amountNano: 100_000_000n,
      balanceNano: 100_000_000n,
      balanceUsd: "0.1",
      posted: true,
    });
    const again = await caller.admin.credits.add({ email: member.email, usd: "0.2", note: "more" });
    // 0.1 + 0.2 is exactly 0.3 here, unlike in floating point.
    expect(again.balanceUsd).toBe("0.3");
    await caller.admin.credits.add({ email: member.email, usd: "0.000000001" });
    expect(await getBalanceNano(app.container.db, member.id)).toBe(300_000_001n);

    const entries = await app.container.db.select().from(ledgerEntries).where(eq(ledgerEntries.userId, member.id));
    expect(entries.map((entry) => entry.note)).toContain("welcome");
  });

  it("makes a retried grant with the same requestId a no-op", async () => {
    const caller = app.callerFor(admin);
    const requestId = crypto.randomUUID();
    const before = await getBalanceNano(app.container.db, member.id);
    const first = await caller.admin.credits.add({ email: member.email, usd: "5", requestId });
    const second = await caller.admin.credits.add({ email: member.email, usd: "5", requestId });
    expect(first.posted).toBe(true);
    expect(second.posted).toBe(false);
    expect(await getBalanceNano(app.container.db, member.id)).toBe(before + 5_000_000_000n);
  });

  it("rejects amounts that are not exact positive decimals, and unknown users", async () => {
    const caller = app.callerFor(admin);
    for (const usd of ["0", "-1", "1e3", "1.0000000001", "abc", "2000000"]) {
      await expect(caller.admin.credits.add({ email: member.email, usd })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    }
    await expect(caller.admin.credits.add({ email: "nobody@example.com", usd: "1" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("refuses non-admins the promo and adjustment procedures", async () => {
    const caller = app.callerFor(member);
    await expect(caller.admin.promoCodes.create({ code: "SNEAKY", amountUsd: "100" })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(caller.admin.promoCodes.list()).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(
      caller.admin.credits.adjust({ email: member.email, amountUsd: "100", note: "self-service" }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(app.callerFor(null).admin.promoCodes.list()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("creates and lists promo codes with exact amounts", async () => {
    const caller = app.callerFor(admin);
    const expiresAt = new Date("2031-01-01T00:00:00Z");
    const created = await caller.admin.promoCodes.create({
      code: "launch-2031",
      amountUsd: "2.500000001",
      maxRedemptions: 100,
      expiresAt,
    });
    expect(created).toMatchObject({
      code: "LAUNCH-2031",
      amountNano: 2_500_000_001n,
      amountUsd: "2.500000001",
      maxRedemptions: 100,
      redemptionCount: 0,
      expiresAt,
    });
    await expect(caller.admin.promoCodes.create({ code: "LAUNCH-2031", amountUsd: "1" })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    for (const amountUsd of ["0", "-1", "1.0000000001"]) {
      await expect(caller.admin.promoCodes.create({ code: "BAD-AMOUNT", amountUsd })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    }
    await expect(caller.admin.promoCodes.create({ code: "no spaces", amountUsd: "1" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    expect((await caller.admin.promoCodes.list()).map((promo) => promo.code)).toEqual(["LAUNCH-2031"]);
  });

  it("adjusts a balance up or down through a noted ledger adjustment, by email or id", async () => {
    const caller = app.callerFor(admin);
    const before = await getBalanceNano(app.container.db, member.id);
    const down = await caller.admin.credits.adjust({
      email: "Member@Example.com",
      amountUsd: "-0.000000002",
      note: "rounding correction",
    });
    expect(down).toMatchObject({ userId: member.id, amountNano: -2n, amountUsd: "-0.000000002", posted: true });
    const up = await caller.admin.credits.adjust({ userId: member.id, amountUsd: "3", note: "outage credit" });
    expect(up.balanceNano).toBe(before - 2n + 3_000_000_000n);
    expect(await getBalanceNano(app.container.db, member.id)).toBe(before - 2n + 3_000_000_000n);

    const entries = await app.container.db.select().from(ledgerEntries).where(eq(ledgerEntries.userId, member.id));
    expect(entries.slice(-2).map((entry) => [entry.kind, entry.amountNano, entry.note])).toEqual([
      ["adjustment", -2n, "rounding correction"],
      ["adjustment", 3_000_000_000n, "outage credit"],
    ]);
  });

  it("refuses an adjustment without a note, amount or single target", async () => {
    const caller = app.callerFor(admin);
    const before = await getBalanceNano(app.container.db, member.id);
    const attempts = [
      { email: member.email, amountUsd: "1", note: "  " },
      { email: member.email, amountUsd: "0", note: "zero" },
      { amountUsd: "1", note: "nobody" },
      { email: member.email, userId: member.id, amountUsd: "1", note: "both" },
    ];
    for (const attempt of attempts) {
      await expect(caller.admin.credits.adjust(attempt)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    await expect(
      caller.admin.credits.adjust({ email: "nobody@example.com", amountUsd: "1", note: "ghost" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await getBalanceNano(app.container.db, member.id)).toBe(before);
  });

  it("sets an account's rate limits, null removing one, and refuses a call that sets nothing", async () => {
    const caller = app.callerFor(admin);
    expect(
      await caller.admin.users.setRateLimits({ email: member.email, requestsPerMinute: 30, concurrentRequests: 2 }),
    ).toEqual({ requestsPerMinute: 30, tokensPerMinute: null, concurrentRequests: 2 });
    expect(await caller.admin.users.setRateLimits({ email: member.email, concurrentRequests: null })).toEqual({
      requestsPerMinute: 30,
      tokensPerMinute: null,
      concurrentRequests: null,
    });
    const [row] = await app.container.db.select().from(users).where(eq(users.id, member.id));
    expect(row).toMatchObject({ requestsPerMinute: 30, concurrentRequests: null });

    await expect(caller.admin.users.setRateLimits({ email: member.email })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      caller.admin.users.setRateLimits({ email: "ghost@example.com", requestsPerMinute: 1 }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(
      app.callerFor(member).admin.users.setRateLimits({ email: member.email, requestsPerMinute: null }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});
