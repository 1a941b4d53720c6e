import { eq } from "drizzle-orm";
import type Stripe from "stripe";
import type { Database } from "~/server/db";
import { stripeCustomers } from "~/server/db/schema";
import { METADATA } from "./objects";

/**
 * The user's Stripe customer, created on first use. Two first top-ups at once send the same idempotency key, so
 * Stripe creates one customer and answers both with it; the insert keeps whichever row lands first.
 */
export async function ensureStripeCustomer(
  db: Database,
  stripe: Stripe,
  user: { id: string; email: string | null },
): Promise<string> {
  const existing = await findStripeCustomer(db, user.id);
  if (existing !== null) return existing.customerId;
  const customer = await stripe.customers.create(
    { email: user.email ?? undefined, metadata: { [METADATA.userId]: user.id } },
    { idempotencyKey: `tollgate-customer-${user.id}` },
  );
  await db.insert(stripeCustomers).values({ userId: user.id, customerId: customer.id }).onConflictDoNothing();
  const stored = await findStripeCustomer(db, user.id);
  if (stored === null) throw new Error("The Stripe customer row vanished");
  return stored.customerId;
}

export async function findStripeCustomer(
  db: Database,
  userId: string,
): Promise<{ customerId: string; defaultPaymentMethodId: string | null } | null> {
  const [row] = await db
    .select({ customerId: stripeCustomers.customerId, defaultPaymentMethodId: stripeCustomers.defaultPaymentMethodId })
    .from(stripeCustomers)
    .where(eq(stripeCustomers.userId, userId));
  return row ?? null;
}
