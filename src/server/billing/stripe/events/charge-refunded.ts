import { sql } from "drizzle-orm";
import { rowsOf } from "~/server/db/raw-rows";
import { lockBalances, postLedgerEntries } from "~/server/gateway/billing/ledger";
import { usdCentsToNano, type StripeEventHandler } from "../event-context";
import { findUserOfPayment } from "../lookups";
import { chargeSchema } from "../objects";

/**
 * Money went back to the customer: debit it (kind `refund`). A charge can be refunded in several steps and
 * `amount_refunded` is the running total, so each event debits only what earlier ones have not. The external id
 * `<charge>:<total>` makes a redelivery a no-op; an older event arriving late finds nothing left to debit.
 */
export const chargeRefunded: StripeEventHandler = async (object, context) => {
  const charge = chargeSchema.parse(object);
  const refundedNano = usdCentsToNano(charge.amount_refunded, charge.currency);
  const userId = await findUserOfPayment(context.db, {
    paymentIntentId: charge.payment_intent,
    customerId: charge.customer,
  });
  if (userId === null) {
    context.logger.warn("ignored a refund of a charge that is not a Tollgate top-up", { chargeId: charge.id });
    return;
  }

  const debited = await context.db.transaction(async (tx) => {
    // The ledger's own balance lock, taken before reading what was debited so far: two partial-refund events of one
    // charge are then decided one after the other and cannot both debit the same difference.
    await lockBalances(tx, [userId]);
    const [row] = rowsOf<{ debited: string }>(
      await tx.execute(sql`
        select coalesce(-sum(amount_nano), 0)::text as debited from ledger_entries
        where user_id = ${userId} and kind = 'refund' and starts_with(external_id, ${`${charge.id}:`})`),
    );
    const deltaNano = refundedNano - BigInt(row?.debited ?? "0");
    if (deltaNano <= 0n) return false;
    const ledger = await postLedgerEntries(tx, [
      {
        userId,
        kind: "refund",
        externalId: `${charge.id}:${charge.amount_refunded}`,
        amountNano: -deltaNano,
        note: `Stripe refund of ${charge.id}`,
      },
    ]);
    return ledger.posted.length > 0;
  });
  if (debited) await context.balanceChanged(userId);
};
