import { and, eq, isNull, sql } from "drizzle-orm";
import { balances } from "~/server/db/schema";
import { postLedgerEntries } from "~/server/gateway/billing/ledger";
import { usdCentsToNano, type StripeEventContext, type StripeEventHandler } from "../event-context";
import { findUserOfPayment } from "../lookups";
import { disputeSchema } from "../objects";

/**
 * The cardholder disputed a payment. Stripe withdraws the disputed amount at once, so it is debited now (kind
 * `dispute`, external id = the dispute id) and the account is flagged for an operator to look at.
 */
export const chargeDisputeCreated: StripeEventHandler = async (object, context) => {
  const dispute = disputeSchema.parse(object);
  const amountNano = usdCentsToNano(dispute.amount, dispute.currency);
  const userId = await userOfDispute(context, dispute.payment_intent ?? null, dispute.charge);
  if (userId === null) {
    context.logger.warn("ignored a dispute of a charge that is not a Tollgate top-up", { disputeId: dispute.id });
    return;
  }

  const debited = await context.db.transaction(async (tx) => {
    const ledger = await postLedgerEntries(tx, [
      {
        userId,
        kind: "dispute",
        externalId: dispute.id,
        amountNano: -amountNano,
        note: `Stripe dispute of ${dispute.charge}`,
      },
    ]);
    // The first dispute's reason stays: every dispute is in the ledger, the flag only has to catch an eye.
    await tx
      .update(balances)
      .set({
        flaggedAt: sql`now()`,
        flagReason: `Stripe dispute ${dispute.id} on charge ${dispute.charge} (${dispute.reason ?? "no reason given"})`,
      })
      .where(and(eq(balances.userId, userId), isNull(balances.flaggedAt)));
    return ledger.posted.length > 0;
  });
  if (debited) await context.balanceChanged(userId);
};

/** A dispute names its charge and PaymentIntent but not the customer; the charge does, at the cost of an API call. */
async function userOfDispute(
  context: StripeEventContext,
  paymentIntentId: string | null,
  chargeId: string,
): Promise<string | null> {
  const byPayment = await findUserOfPayment(context.db, { paymentIntentId });
  if (byPayment !== null || context.stripe === null) return byPayment;
  const charge = await context.stripe.charges.retrieve(chargeId);
  const customerId = typeof charge.customer === "string" ? charge.customer : (charge.customer?.id ?? null);
  return findUserOfPayment(context.db, { customerId });
}
