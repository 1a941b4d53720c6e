import { and, eq, sql } from "drizzle-orm";
import { stripeCustomers, topUps } from "~/server/db/schema";
import { postLedgerEntries } from "~/server/gateway/billing/ledger";
import type { StripeEventContext } from "./event-context";
import { usdCentsToNano } from "./event-context";
import { userExists } from "./lookups";
import { METADATA, type CheckoutSessionObject } from "./objects";

/**
 * Brings a top-up up to date with its Checkout Session: records the PaymentIntent, and once the session is paid
 * credits it (ledger kind `topup`, external id = the session id, so `completed` and `async_payment_succeeded` for the
 * same session credit once between them) and keeps the card the customer chose to save.
 */
export async function settleCheckoutSession(
  session: CheckoutSessionObject,
  context: StripeEventContext,
): Promise<void> {
  const { db } = context;
  const userId = await userOfSession(context, session);
  if (userId === null) {
    context.logger.warn("ignored a Checkout Session that is not a Tollgate top-up", { sessionId: session.id });
    return;
  }
  const paid = session.payment_status === "paid";
  const paymentIntentId =
    typeof session.payment_intent === "string" ? session.payment_intent : (session.payment_intent?.id ?? null);
  const amountNano = usdCentsToNano(session.amount_total, session.currency);
  // Read before the transaction: it may take an API call, and row locks should not wait on the network.
  const paymentMethodId = paid ? await savedPaymentMethod(context, session) : null;

  const credited = await db.transaction(async (tx) => {
    // The ledger first: every writer locks the balance row before anything else, so none of them can deadlock.
    const ledger = paid
      ? await postLedgerEntries(tx, [
          { userId, kind: "topup", externalId: session.id, amountNano, note: "Stripe Checkout top-up" },
        ])
      : null;
    // Upsert: the row written when the session was created may be missing if that process died right after Stripe
    // answered; the payment is credited all the same.
    await tx
      .insert(topUps)
      .values({
        userId,
        source: "checkout",
        status: paid ? "paid" : "pending",
        amountNano,
        checkoutSessionId: session.id,
        paymentIntentId,
      })
      .onConflictDoUpdate({
        target: topUps.checkoutSessionId,
        set: {
          paymentIntentId: sql`coalesce(excluded.payment_intent_id, ${topUps.paymentIntentId})`,
          // A late `completed (unpaid)` must not undo `paid` or `failed`: only payment moves the status here.
          ...(paid ? { status: "paid" as const, failureMessage: null } : {}),
          updatedAt: sql`now()`,
        },
      });
    if (paymentMethodId !== null && session.customer) {
      await tx
        .update(stripeCustomers)
        .set({ defaultPaymentMethodId: paymentMethodId })
        .where(and(eq(stripeCustomers.customerId, session.customer), eq(stripeCustomers.userId, userId)));
    }
    return (ledger?.posted.length ?? 0) > 0;
  });
  if (credited) await context.balanceChanged(userId);
}

/** The user who started the session: its top-up row, or the metadata Tollgate wrote on it. */
async function userOfSession(context: StripeEventContext, session: CheckoutSessionObject): Promise<string | null> {
  const [row] = await context.db
    .select({ userId: topUps.userId })
    .from(topUps)
    .where(eq(topUps.checkoutSessionId, session.id));
  if (row !== undefined) return row.userId;
  const userId = session.metadata[METADATA.userId];
  return userId !== undefined && (await userExists(context.db, userId)) ? userId : null;
}

/**
 * The card kept for auto top-up, when the customer asked for it. A session does not name its card: the PaymentIntent
 * does, so it is read from the event when expanded, else fetched.
 */
async function savedPaymentMethod(context: StripeEventContext, session: CheckoutSessionObject): Promise<string | null> {
  if (session.metadata[METADATA.saveCard] !== "true" || !session.payment_intent) return null;
  if (typeof session.payment_intent !== "string") return session.payment_intent.payment_method ?? null;
  if (context.stripe === null) {
    context.logger.warn("cannot read the saved card without STRIPE_SECRET_KEY", { sessionId: session.id });
    return null;
  }
  const intent = await context.stripe.paymentIntents.retrieve(session.payment_intent);
  const method = intent.payment_method;
  return typeof method === "string" ? method : (method?.id ?? null);
}
