import { and, eq, isNull, sql } from "drizzle-orm";
import Stripe from "stripe";
import { stripeEvents } from "~/server/db/schema";
import type { StripeEventContext, StripeEventHandler } from "./event-context";
import { chargeDisputeCreated } from "./events/charge-dispute-created";
import { chargeRefunded } from "./events/charge-refunded";
import { checkoutSessionAsyncPaymentFailed } from "./events/checkout-session-async-payment-failed";
import { checkoutSessionAsyncPaymentSucceeded } from "./events/checkout-session-async-payment-succeeded";
import { checkoutSessionCompleted } from "./events/checkout-session-completed";
import { checkoutSessionExpired } from "./events/checkout-session-expired";
import { paymentIntentPaymentFailed } from "./events/payment-intent-payment-failed";
import { paymentIntentSucceeded } from "./events/payment-intent-succeeded";

/** The events Tollgate acts on, one handler file each; anything else is acknowledged and ignored. */
export const STRIPE_EVENT_HANDLERS: Readonly<Record<string, StripeEventHandler>> = {
  "checkout.session.completed": checkoutSessionCompleted,
  "checkout.session.async_payment_succeeded": checkoutSessionAsyncPaymentSucceeded,
  "checkout.session.async_payment_failed": checkoutSessionAsyncPaymentFailed,
  "checkout.session.expired": checkoutSessionExpired,
  "charge.refunded": chargeRefunded,
  "charge.dispute.created": chargeDisputeCreated,
  "payment_intent.succeeded": paymentIntentSucceeded,
  "payment_intent.payment_failed": paymentIntentPaymentFailed,
};

/** Enough of an error for an operator to see what failed; the whole of it is in the server log. */
const MAX_ERROR_LENGTH = 500;

export interface StripeWebhookDeps extends StripeEventContext {
  /** STRIPE_WEBHOOK_SECRET; null refuses every event, since none can be verified. */
  webhookSecret: string | null;
}

export interface StripeWebhookRequest {
  /** The body exactly as received: the signature covers these bytes, so it must not be parsed and re-serialized. */
  rawBody: string;
  /** The `Stripe-Signature` header. */
  signature: string | null;
}

export interface StripeWebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

/**
 * `POST /api/stripe/webhook`, framework-free. Verifies the signature (400 and nothing changed when it does not
 * match), records the event in `stripe_events`, runs its handler and only then marks it processed. A redelivery of a
 * processed event is answered at once; concurrent deliveries may all run the handler, which is safe because every
 * money movement is a ledger entry with a unique `(kind, external_id)`. A handler that throws gets a 500, so Stripe
 * retries, and the event stays unprocessed so that the retry runs it again.
 */
export async function handleStripeWebhook(
  deps: StripeWebhookDeps,
  request: StripeWebhookRequest,
): Promise<StripeWebhookResponse> {
  if (deps.webhookSecret === null) {
    return { status: 503, body: { error: "Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)" } };
  }
  if (request.signature === null || request.signature === "") {
    return { status: 400, body: { error: "Missing Stripe-Signature header" } };
  }
  let event: Stripe.Event;
  try {
    event = await Stripe.webhooks.constructEventAsync(request.rawBody, request.signature, deps.webhookSecret);
  } catch (error) {
    deps.logger.warn("refused a Stripe webhook with a bad signature", { error });
    return { status: 400, body: { error: "Invalid signature" } };
  }

  const handler = STRIPE_EVENT_HANDLERS[event.type];
  if (handler === undefined) {
    // Kept, so operators can see what Stripe sends that Tollgate does not act on.
    await deps.db
      .insert(stripeEvents)
      .values({ id: event.id, type: event.type, ignored: true, processedAt: sql`now()` })
      .onConflictDoNothing();
    return { status: 200, body: { received: true, ignored: true } };
  }

  try {
    // `do nothing` rather than a plain insert: concurrent deliveries of one event must not fail on the primary key.
    await deps.db.insert(stripeEvents).values({ id: event.id, type: event.type }).onConflictDoNothing();
    const [seen] = await deps.db
      .select({ processedAt: stripeEvents.processedAt })
      .from(stripeEvents)
      .where(eq(stripeEvents.id, event.id));
    if (seen !== undefined && seen.processedAt !== null)
      return { status: 200, body: { received: true, duplicate: true } };

    await deps.db
      .update(stripeEvents)
      .set({ attempts: sql`${stripeEvents.attempts} + 1` })
      .where(eq(stripeEvents.id, event.id));
    await handler(event.data.object, deps);
    await deps.db
      .update(stripeEvents)
      .set({ processedAt: sql`now()`, lastError: null })
      .where(and(eq(stripeEvents.id, event.id), isNull(stripeEvents.processedAt)));
    return { status: 200, body: { received: true } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await deps.db
      .update(stripeEvents)
      .set({ lastError: message.slice(0, MAX_ERROR_LENGTH) })
      .where(eq(stripeEvents.id, event.id))
      // Best effort: the database may be what failed; the log has the error either way.
      .catch(() => {});
    deps.logger.error("processing a Stripe event failed; Stripe will retry", {
      error,
      eventId: event.id,
      type: event.type,
    });
    return { status: 500, body: { error: "Processing failed; retry later" } };
  }
}
