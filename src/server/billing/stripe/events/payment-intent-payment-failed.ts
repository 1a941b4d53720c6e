import { and, eq, sql } from "drizzle-orm";
import { autoTopUpSettings, topUps } from "~/server/db/schema";
import type { StripeEventHandler } from "../event-context";
import { findAutoTopUp } from "../lookups";
import { METADATA, paymentIntentSchema } from "../objects";

/**
 * An off-session auto top-up failed (a declined card, or one that now needs the customer present). Nothing was
 * credited; the top-up and the settings record why, for the dashboard. Checkout retries its own failures.
 */
export const paymentIntentPaymentFailed: StripeEventHandler = async (object, context) => {
  const intent = paymentIntentSchema.parse(object);
  if (intent.metadata[METADATA.source] !== "auto") return;
  const topUp = await findAutoTopUp(context.db, intent);
  if (topUp === null) {
    context.logger.warn("ignored a failed PaymentIntent that is not a Tollgate top-up", { paymentIntentId: intent.id });
    return;
  }
  const message = intent.last_payment_error?.message ?? "The payment failed";
  await context.db.transaction(async (tx) => {
    await tx
      .update(topUps)
      .set({ status: "failed", paymentIntentId: intent.id, failureMessage: message, updatedAt: sql`now()` })
      .where(and(eq(topUps.id, topUp.id), eq(topUps.status, "pending")));
    await tx
      .update(autoTopUpSettings)
      .set({ lastStatus: "failed", lastError: message, updatedAt: sql`now()` })
      .where(eq(autoTopUpSettings.userId, topUp.userId));
  });
};
