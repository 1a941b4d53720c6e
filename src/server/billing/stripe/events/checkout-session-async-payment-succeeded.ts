import type { StripeEventHandler } from "../event-context";
import { checkoutSessionSchema } from "../objects";
import { settleCheckoutSession } from "../settle-checkout-session";

/** A delayed payment of a completed session arrived: credit it (once, even if `completed` said paid as well). */
export const checkoutSessionAsyncPaymentSucceeded: StripeEventHandler = async (object, context) => {
  await settleCheckoutSession(checkoutSessionSchema.parse(object), context);
};
