import type Stripe from "stripe";
import type { Database } from "~/server/db";
import type { Logger } from "~/server/gateway/logger";
import { centsToNano } from "./amounts";

/** What an event handler may use. Handlers are idempotent: a redelivered or concurrent event changes nothing more. */
export interface StripeEventContext {
  db: Database;
  /** For the rare lookup an event does not carry (a PaymentIntent's card); null when no secret key is configured. */
  stripe: Stripe | null;
  logger: Logger;
  /** Tells every gateway process (this one first) to re-read a balance the event changed. */
  balanceChanged(userId: string): Promise<void>;
}

/** Handles `event.data.object` of one event type; throwing makes the webhook answer 500 so that Stripe retries. */
export type StripeEventHandler = (object: unknown, context: StripeEventContext) => Promise<void>;

/**
 * Tollgate charges only USD; an amount in another currency would be credited at the wrong value, so it is refused
 * loudly (the event fails and shows up in Stripe's dashboard) rather than converted or skipped.
 */
export function usdCentsToNano(cents: number | null | undefined, currency: string | null | undefined): bigint {
  if (currency?.toLowerCase() !== "usd") throw new Error(`Expected a USD amount, got ${currency ?? "no currency"}`);
  if (cents === null || cents === undefined) throw new Error("The payment has no amount");
  return centsToNano(cents);
}
