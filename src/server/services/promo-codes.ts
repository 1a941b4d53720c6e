import { desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "~/server/db";
import { promoCodes, promoRedemptions, users } from "~/server/db/schema";
import type { ChangeBus } from "~/server/changes";
import { postLedgerEntries } from "~/server/gateway/billing/ledger";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import type { AuditActor } from "./audit-actor";
import { recordAudit } from "./audit-log";
import { NotFoundError } from "./users";
import { ServiceError } from "./service-error";

export type PromoCode = typeof promoCodes.$inferSelect;

/** Codes are compared upper-case, so `welcome-10` and `WELCOME-10` are the same code. */
export const promoCodeSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9-]{3,40}$/, "3 to 40 letters, digits or dashes");

export type PromoRefusal = "unknown" | "expired" | "exhausted" | "already-redeemed";

/** Why a code could not be redeemed, in words fit for the customer; `reason` is for mapping to status codes. */
export class PromoCodeError extends ServiceError {
  constructor(
    readonly reason: PromoRefusal | "invalid" | "exists",
    message: string,
  ) {
    super(
      reason === "unknown"
        ? "not_found"
        : reason === "exists" || reason === "already-redeemed"
          ? "conflict"
          : "invalid_input",
      message,
    );
    this.name = "PromoCodeError";
  }
}

export function describePromoCode(promo: PromoCode) {
  return {
    id: promo.id,
    code: promo.code,
    amountNano: promo.amountNano,
    amountUsd: formatNanoAsUsd(promo.amountNano),
    maxRedemptions: promo.maxRedemptions,
    redemptionCount: promo.redemptionCount,
    expiresAt: promo.expiresAt,
    createdAt: promo.createdAt,
  };
}

export async function createPromoCode(
  db: Database,
  input: { code: string; amountNano: bigint; maxRedemptions?: number | null; expiresAt?: Date | null },
  actor: AuditActor,
): Promise<PromoCode> {
  const parsed = promoCodeSchema.safeParse(input.code);
  if (!parsed.success) throw new PromoCodeError("invalid", `Promo codes are ${parsed.error.issues[0]?.message}`);
  if (input.amountNano <= 0n) throw new PromoCodeError("invalid", "A promo code must be worth a positive amount");
  const maxRedemptions = input.maxRedemptions ?? null;
  if (maxRedemptions !== null && !(Number.isSafeInteger(maxRedemptions) && maxRedemptions >= 1))
    throw new PromoCodeError("invalid", "The maximum number of redemptions must be a whole number of at least 1");
  return db.transaction(async (tx) => {
    const [promo] = await tx
      .insert(promoCodes)
      .values({ code: parsed.data, amountNano: input.amountNano, maxRedemptions, expiresAt: input.expiresAt ?? null })
      .onConflictDoNothing({ target: promoCodes.code })
      .returning();
    if (promo === undefined) throw new PromoCodeError("exists", `A promo code ${parsed.data} already exists`);
    await recordAudit(tx, actor, {
      action: "promo-code.create",
      target: { type: "promo-code", id: promo.id, label: promo.code },
      after: { amountUsd: formatNanoAsUsd(promo.amountNano), maxRedemptions, expiresAt: promo.expiresAt },
    });
    return promo;
  });
}

/** Newest first. Codes are made by hand, so there are few enough to list at once. */
export function listPromoCodes(db: Database): Promise<PromoCode[]> {
  return db.select().from(promoCodes).orderBy(desc(promoCodes.createdAt));
}

/**
 * Credits a promo code's amount to a user, at most once per user and at most `max_redemptions` times in all.
 * One transaction: the code's row is locked first, so concurrent redemptions of one code queue up and each sees the
 * count and redemptions committed before it; the (code, user) primary key and the ledger's unique
 * `(promo, "<code id>:<user id>")` are two more guards against a double credit.
 */
export async function redeemPromoCode(
  db: Database,
  changes: ChangeBus,
  input: { userId: string; code: string; now: Date },
): Promise<{ promo: PromoCode; amountNano: bigint; balanceNano: bigint }> {
  const parsed = promoCodeSchema.safeParse(input.code);
  const code = parsed.success ? parsed.data : input.code.trim();
  const result = await db.transaction(async (tx) => {
    const [promo] = parsed.success
      ? await tx.select().from(promoCodes).where(eq(promoCodes.code, code)).for("update")
      : [];
    if (promo === undefined) throw new PromoCodeError("unknown", `There is no promo code ${code}`);
    if (promo.expiresAt !== null && promo.expiresAt.getTime() <= input.now.getTime())
      throw new PromoCodeError("expired", `Promo code ${promo.code} has expired`);
    const [redemption] = await tx
      .insert(promoRedemptions)
      .values({ promoCodeId: promo.id, userId: input.userId, redeemedAt: input.now })
      .onConflictDoNothing()
      .returning();
    if (redemption === undefined)
      throw new PromoCodeError("already-redeemed", `You have already redeemed promo code ${promo.code}`);
    // Checked after the user's own redemption so that someone who already has it hears that, not "used up".
    if (promo.maxRedemptions !== null && promo.redemptionCount >= promo.maxRedemptions)
      throw new PromoCodeError("exhausted", `Promo code ${promo.code} has been used up`);
    const [updated] = await tx
      .update(promoCodes)
      .set({ redemptionCount: sql`${promoCodes.redemptionCount} + 1` })
      .where(eq(promoCodes.id, promo.id))
      .returning();
    const posted = await postLedgerEntries(tx, [
      {
        userId: input.userId,
        kind: "promo",
        externalId: `${promo.id}:${input.userId}`,
        amountNano: promo.amountNano,
        note: `Promo code ${promo.code}`,
      },
    ]);
    // The redemption row was new, so the ledger entry must be too; anything else is a broken invariant.
    if (posted.posted.length !== 1) throw new Error(`promo ${promo.id} was already credited to ${input.userId}`);
    return {
      promo: updated ?? promo,
      amountNano: promo.amountNano,
      balanceNano: posted.balances.get(input.userId) ?? 0n,
    };
  });
  await changes.publish({ topic: "balance-changed", userId: input.userId });
  return result;
}

/**
 * Ends a code now: it can no longer be redeemed (redemptions already made stay). An already expired code keeps its
 * expiry; audited either way only when it changes.
 */
export async function expirePromoCode(db: Database, promoCodeId: string, actor: AuditActor): Promise<PromoCode> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(promoCodes).where(eq(promoCodes.id, promoCodeId)).for("update").limit(1);
    if (before === undefined) throw new NotFoundError(`No promo code ${promoCodeId}`);
    const now = new Date();
    if (before.expiresAt !== null && before.expiresAt <= now) return before;
    const [after] = await tx
      .update(promoCodes)
      .set({ expiresAt: now })
      .where(eq(promoCodes.id, promoCodeId))
      .returning();
    await recordAudit(tx, actor, {
      action: "promo-code.expire",
      target: { type: "promo-code", id: before.id, label: before.code },
      before: { expiresAt: before.expiresAt },
      after: { expiresAt: now },
    });
    return after!;
  });
}

/** Who redeemed a code and when, newest first. */
export async function listPromoRedemptions(db: Database, promoCodeId: string) {
  return db
    .select({ userId: promoRedemptions.userId, email: users.email, redeemedAt: promoRedemptions.redeemedAt })
    .from(promoRedemptions)
    .innerJoin(users, eq(users.id, promoRedemptions.userId))
    .where(eq(promoRedemptions.promoCodeId, promoCodeId))
    .orderBy(desc(promoRedemptions.redeemedAt));
}
