import { eq, sql } from "drizzle-orm";
import { autoTopUpSettings, topUps } from "~/server/db/schema";
import { postLedgerEntries } from "~/server/gateway/billing/ledger";
import { usdCentsToNano, type StripeEventHandler } from "../event-context";
import { findAutoTopUp, findUserOfPayment } from "../lookups";
import { METADATA, paymentIntentSchema } from "../objects";

/**
 * An off-session auto top-up was paid: credit it (kind `topup`, external id = the PaymentIntent id). Checkout's own
 * PaymentIntents are credited by their session's events instead, under the session id, so they are left alone here.
 */
export const paymentIntentSucceeded: StripeEventHandler = async (object, context) => {
  const intent = paymentIntentSchema.parse(object);
  if (intent.metadata[METADATA.source] !== "auto") return;
  const amountNano = usdCentsToNano(intent.amount_received, intent.currency);
  const topUp = await findAutoTopUp(context.db, intent);
  const userId =
    topUp?.userId ?? (await findUserOfPayment(context.db, { paymentIntentId: intent.id, customerId: intent.customer }));
  if (userId === null) {
    context.logger.warn("ignored a PaymentIntent that is not a Tollgate top-up", { paymentIntentId: intent.id });
    return;
  }

  const credited = await context.db.transaction(async (tx) => {
    const ledger = await postLedgerEntries(tx, [
      { userId, kind: "topup", externalId: intent.id, amountNano, note: "Stripe auto top-up" },
    ]);
    if (topUp !== null) {
      await tx
        .update(topUps)
        .set({ status: "paid", paymentIntentId: intent.id, failureMessage: null, updatedAt: sql`now()` })
        .where(eq(topUps.id, topUp.id));
    }
    await tx
      .update(autoTopUpSettings)
      .set({ lastStatus: "succeeded", lastError: null, updatedAt: sql`now()` })
      .where(eq(autoTopUpSettings.userId, userId));
    return ledger.posted.length > 0;
  });
  if (credited) await context.balanceChanged(userId);
};
