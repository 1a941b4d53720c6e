import type Stripe from "stripe";
import type { Database } from "~/server/db";
import { topUps } from "~/server/db/schema";
import { nanoToCents } from "./amounts";
import { ensureStripeCustomer } from "./customers";
import { METADATA } from "./objects";

export interface CheckoutTopUpInput {
  user: { id: string; email: string | null };
  /** Already checked against the presets and limits (`topUpAmountProblem`). */
  amountNano: bigint;
  /** Keep the card on the customer for off-session auto top-ups. */
  saveCard: boolean;
}

/**
 * Starts a top-up: a Stripe Checkout Session for the amount, on the user's customer, and a pending `top_ups` row.
 * Nothing is credited here or on the success page: only the webhook credits, once Stripe says the money is there.
 */
export async function createCheckoutTopUp(
  deps: { db: Database; stripe: Stripe; publicUrl: string },
  input: CheckoutTopUpInput,
): Promise<{ topUpId: string; checkoutSessionId: string; url: string }> {
  const { db, stripe } = deps;
  const customerId = await ensureStripeCustomer(db, stripe, input.user);
  const metadata = {
    [METADATA.userId]: input.user.id,
    [METADATA.amountNano]: input.amountNano.toString(),
    [METADATA.saveCard]: String(input.saveCard),
  };
  const session = await stripe.checkout.sessions.create({
    mode: "payment",
    customer: customerId,
    client_reference_id: input.user.id,
    line_items: [
      {
        quantity: 1,
        price_data: {
          currency: "usd",
          unit_amount: nanoToCents(input.amountNano),
          product_data: { name: "Tollgate credit" },
        },
      },
    ],
    metadata,
    payment_intent_data: {
      metadata: { ...metadata, [METADATA.source]: "checkout" },
      ...(input.saveCard ? { setup_future_usage: "off_session" as const } : {}),
    },
    success_url: `${deps.publicUrl}/billing?topup=success`,
    cancel_url: `${deps.publicUrl}/billing?topup=cancelled`,
  });
  if (session.url === null) throw new Error("Stripe returned a Checkout Session without a URL");
  const [row] = await db
    .insert(topUps)
    .values({ userId: input.user.id, source: "checkout", amountNano: input.amountNano, checkoutSessionId: session.id })
    // The webhook may have been faster and written the row already.
    .onConflictDoUpdate({ target: topUps.checkoutSessionId, set: { checkoutSessionId: session.id } })
    .returning({ id: topUps.id });
  if (row === undefined) throw new Error("The top-up row was not written");
  return { topUpId: row.id, checkoutSessionId: session.id, url: session.url };
}
