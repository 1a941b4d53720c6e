import { and, eq, sql } from "drizzle-orm";
import { topUps } from "~/server/db/schema";
import type { StripeEventHandler } from "../event-context";
import { checkoutSessionSchema } from "../objects";

/** A delayed payment of a completed session failed: nothing was credited, so only the top-up's status changes. */
export const checkoutSessionAsyncPaymentFailed: StripeEventHandler = async (object, context) => {
  const session = checkoutSessionSchema.parse(object);
  await context.db
    .update(topUps)
    .set({ status: "failed", failureMessage: "The payment failed", updatedAt: sql`now()` })
    .where(and(eq(topUps.checkoutSessionId, session.id), eq(topUps.status, "pending")));
};
