import type { StripeEventHandler } from "../event-context";
import { checkoutSessionSchema } from "../objects";
import { settleCheckoutSession } from "../settle-checkout-session";

/**
 * The customer finished Checkout. Cards are paid by now (`payment_status: "paid"`): credit. Delayed methods (bank
 * debits) are still `unpaid`: the top-up waits for `async_payment_succeeded` or `async_payment_failed`.
 */
export const checkoutSessionCompleted: StripeEventHandler = async (object, context) => {
  await settleCheckoutSession(checkoutSessionSchema.parse(object), context);
};
