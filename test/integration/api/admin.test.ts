import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerEntries, users } from "~/server/db/schema";
import { getBalanceNano } from "~/server/services/credits";
import { createUser } from "~/server/services/users";
import { startApiTestApp, type ApiTestApp, type SessionUser } from "./support";

describe("admin router", () => {
  let app: ApiTestApp;
  let admin: SessionUser;
  let member: SessionUser;

  beforeAll(async () => {
    app = await startApiTestApp();
    const adminUser = await createUser(app.container.db, {
      email: "root@example.com",
      password: "root-password",
      role: "admin",
    });
    admin = { id: adminUser.id, email: adminUser.email, role: "admin" };
    const memberUser = await createUser(app.container.db, { email: "member@example.com", password: "member-password" });
    member = { id: memberUser.id, email: memberUser.email, role: "user" };
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
    expect(entries.map((entry) => entry.note)).toContain("welcome (by root@example.com)");
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
});
