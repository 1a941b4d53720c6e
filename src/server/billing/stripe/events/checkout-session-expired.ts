import { and, eq, sql } from "drizzle-orm";
import { topUps } from "~/server/db/schema";
import type { StripeEventHandler } from "../event-context";
import { checkoutSessionSchema } from "../objects";

/** The customer left Checkout without paying and the session ran out (after 24 hours): the top-up will never pay. */
export const checkoutSessionExpired: StripeEventHandler = async (object, context) => {
  const session = checkoutSessionSchema.parse(object);
  await context.db
    .update(topUps)
    .set({ status: "expired", updatedAt: sql`now()` })
    .where(and(eq(topUps.checkoutSessionId, session.id), eq(topUps.status, "pending")));
};
