import { TEST_ACTOR } from "../../../helpers/audit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChangeBus, type Change, type ChangeBus } from "~/server/changes";
import type { Database } from "~/server/db";
import { ledgerEntries, promoCodes, promoRedemptions } from "~/server/db/schema";
import { silentLogger } from "~/server/gateway/logger";
import {
  createPromoCode,
  listPromoCodes,
  PromoCodeError,
  redeemPromoCode,
  type PromoRefusal,
} from "~/server/services/promo-codes";
import { createUser } from "~/server/services/users";
import { balanceOf, expectLedgerConsistent, ledgerOf } from "../../../helpers/ledger-assertions";
import { createTestDatabase, type TestDatabase } from "../../../helpers/test-database";

// Concurrency is the point here: on PostgreSQL (TEST_DATABASE_URL) every redemption gets its own connection.
let database: TestDatabase;
let db: Database;
let changes: ChangeBus;
const published: Change[] = [];
let users = 0;
const NOW = new Date("2026-03-04T12:00:00Z");

beforeAll(async () => {
  database = await createTestDatabase({ poolSize: 12 });
  db = database.handle.db;
  changes = await createChangeBus(database.handle, silentLogger, { listen: false });
  changes.subscribe((change) => {
    published.push(change);
  });
});

afterAll(async () => {
  await changes?.close();
  await database?.drop();
});

async function newUser(): Promise<string> {
  users += 1;
  return (await createUser(db, { email: `promo${users}@example.com`, password: "password-123" })).id;
}

async function refusal(promise: Promise<unknown>): Promise<PromoRefusal | "invalid" | "exists"> {
  const error: unknown = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof PromoCodeError)) throw new Error(`expected a PromoCodeError, got ${String(error)}`);
  return error.reason;
}

async function promoRow(code: string) {
  const [row] = await db.select().from(promoCodes).where(eq(promoCodes.code, code));
  return row!;
}

describe("createPromoCode", () => {
  it("stores the code upper-case and refuses malformed, duplicate and worthless codes", async () => {
    const promo = await createPromoCode(db, { code: "  welcome-10 ", amountNano: 10_000_000_000n }, TEST_ACTOR);
    expect(promo).toMatchObject({ code: "WELCOME-10", amountNano: 10_000_000_000n, redemptionCount: 0 });
    expect(await refusal(createPromoCode(db, { code: "Welcome-10", amountNano: 1n }, TEST_ACTOR))).toBe("exists");
    for (const code of ["ab", "has space", "émoji", "x".repeat(41)]) {
      expect(await refusal(createPromoCode(db, { code, amountNano: 1n }, TEST_ACTOR)), code).toBe("invalid");
    }
    expect(await refusal(createPromoCode(db, { code: "FREE", amountNano: 0n }, TEST_ACTOR))).toBe("invalid");
    expect(await refusal(createPromoCode(db, { code: "FREE", amountNano: 1n, maxRedemptions: 0 }, TEST_ACTOR))).toBe(
      "invalid",
    );
    expect((await listPromoCodes(db)).map((row) => row.code)).toEqual(["WELCOME-10"]);
  });
});

describe("redeemPromoCode", () => {
  it("credits the amount once through a promo ledger entry, case-insensitively, and tells gateways", async () => {
    const promo = await createPromoCode(db, { code: "ONCE-1", amountNano: 1_500_000_001n }, TEST_ACTOR);
    const userId = await newUser();
    const result = await redeemPromoCode(db, changes, { userId, code: " once-1 ", now: NOW });
    expect(result).toMatchObject({ amountNano: 1_500_000_001n, balanceNano: 1_500_000_001n });
    expect(result.promo.redemptionCount).toBe(1);
    expect(published).toContainEqual({ topic: "balance-changed", userId });

    expect(await refusal(redeemPromoCode(db, changes, { userId, code: "ONCE-1", now: NOW }))).toBe("already-redeemed");
    const entries = await ledgerOf(db, userId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      kind: "promo",
      externalId: `${promo.id}:${userId}`,
      amountNano: 1_500_000_001n,
      note: "Promo code ONCE-1",
    });
    expect(await balanceOf(db, userId)).toBe(1_500_000_001n);
    expect((await promoRow("ONCE-1")).redemptionCount).toBe(1);
    await expectLedgerConsistent(db, userId);
  });

  it("credits one user once however many redemptions race", async () => {
    await createPromoCode(db, { code: "RACE-ONE", amountNano: 2_000_000_000n }, TEST_ACTOR);
    const userId = await newUser();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => redeemPromoCode(db, changes, { userId, code: "race-one", now: NOW })),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") expect(result.reason).toMatchObject({ reason: "already-redeemed" });
    }
    expect(await balanceOf(db, userId)).toBe(2_000_000_000n);
    expect(await ledgerOf(db, userId)).toHaveLength(1);
    expect((await promoRow("RACE-ONE")).redemptionCount).toBe(1);
    await expectLedgerConsistent(db, userId);
  });

  it("admits exactly max_redemptions users when more race for the code", async () => {
    const promo = await createPromoCode(db, { code: "FIRST-3", amountNano: 1_000n, maxRedemptions: 3 }, TEST_ACTOR);
    const userIds = await Promise.all(Array.from({ length: 8 }, () => newUser()));
    const results = await Promise.allSettled(
      userIds.map((userId) => redeemPromoCode(db, changes, { userId, code: "FIRST-3", now: NOW })),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(3);
    for (const result of results) {
      if (result.status === "rejected") expect(result.reason).toMatchObject({ reason: "exhausted" });
    }
    expect((await promoRow("FIRST-3")).redemptionCount).toBe(3);
    expect(await db.select().from(promoRedemptions).where(eq(promoRedemptions.promoCodeId, promo.id))).toHaveLength(3);
    const credited = await db.select().from(ledgerEntries).where(eq(ledgerEntries.kind, "promo"));
    expect(credited.filter((entry) => entry.externalId.startsWith(`${promo.id}:`))).toHaveLength(3);
    for (const userId of userIds) await expectLedgerConsistent(db, userId);
  });

  it("refuses unknown and expired codes, crediting nothing", async () => {
    const expiresAt = new Date("2026-03-04T12:00:00Z");
    await createPromoCode(db, { code: "SPRING", amountNano: 1_000n, expiresAt }, TEST_ACTOR);
    const userId = await newUser();
    expect(await refusal(redeemPromoCode(db, changes, { userId, code: "NO-SUCH-CODE", now: NOW }))).toBe("unknown");
    expect(await refusal(redeemPromoCode(db, changes, { userId, code: "?", now: NOW }))).toBe("unknown");
    expect(await refusal(redeemPromoCode(db, changes, { userId, code: "spring", now: expiresAt }))).toBe("expired");
    expect(await balanceOf(db, userId)).toBe(0n);
    expect((await promoRow("SPRING")).redemptionCount).toBe(0);

    await redeemPromoCode(db, changes, { userId, code: "spring", now: new Date(expiresAt.getTime() - 1) });
    expect(await balanceOf(db, userId)).toBe(1_000n);
  });

  it("tells a user who already has a used-up code that they have it", async () => {
    await createPromoCode(db, { code: "SOLO", amountNano: 1n, maxRedemptions: 1 }, TEST_ACTOR);
    const userId = await newUser();
    await redeemPromoCode(db, changes, { userId, code: "SOLO", now: NOW });
    expect(await refusal(redeemPromoCode(db, changes, { userId, code: "SOLO", now: NOW }))).toBe("already-redeemed");
    expect(await refusal(redeemPromoCode(db, changes, { userId: await newUser(), code: "SOLO", now: NOW }))).toBe(
      "exhausted",
    );
  });
});
