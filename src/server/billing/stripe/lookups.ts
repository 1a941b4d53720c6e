import { eq } from "drizzle-orm";
import type { Queryable } from "~/server/db";
import { z } from "zod";
import { stripeCustomers, topUps, users } from "~/server/db/schema";
import { METADATA } from "./objects";

/**
 * The Tollgate user behind a payment: through the top-up that created its PaymentIntent, else through the Stripe
 * customer. Null when the payment is not Tollgate's (a Stripe account may serve other products too).
 */
export async function findUserOfPayment(
  db: Queryable,
  payment: { paymentIntentId?: string | null; customerId?: string | null },
): Promise<string | null> {
  if (payment.paymentIntentId) {
    const [row] = await db
      .select({ userId: topUps.userId })
      .from(topUps)
      .where(eq(topUps.paymentIntentId, payment.paymentIntentId));
    if (row !== undefined) return row.userId;
  }
  if (payment.customerId) {
    const [row] = await db
      .select({ userId: stripeCustomers.userId })
      .from(stripeCustomers)
      .where(eq(stripeCustomers.customerId, payment.customerId));
    if (row !== undefined) return row.userId;
  }
  return null;
}

export async function userExists(db: Queryable, userId: string): Promise<boolean> {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId));
  return row !== undefined;
}

/**
 * The auto top-up a PaymentIntent pays for: by the id in its metadata (written before the charge, so it holds even
 * when the event outruns the process that created the PaymentIntent), else by the PaymentIntent id.
 */
export async function findAutoTopUp(
  db: Queryable,
  intent: { id: string; metadata: Record<string, string> },
): Promise<{ id: string; userId: string } | null> {
  const topUpId = intent.metadata[METADATA.topUpId];
  const [row] = await db
    .select({ id: topUps.id, userId: topUps.userId })
    .from(topUps)
    .where(
      topUpId !== undefined && z.uuid().safeParse(topUpId).success
        ? eq(topUps.id, topUpId)
        : eq(topUps.paymentIntentId, intent.id),
    );
  return row ?? null;
}
