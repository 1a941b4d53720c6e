import { z } from "zod";

/**
 * The few fields of Stripe objects the webhook reads, as minimal schemas (the signature proves who sent an event,
 * not which API version shaped it). A reference may arrive as an id or, when expanded, as the object.
 */
const reference = z
  .union([z.string(), z.looseObject({ id: z.string() })])
  .transform((value) => (typeof value === "string" ? value : value.id));

const metadata = z
  .record(z.string(), z.string())
  .nullish()
  .transform((value) => value ?? {});

/** Metadata keys Tollgate writes on what it creates, so that events can be traced back to a user and a top-up. */
export const METADATA = {
  userId: "tollgate_user_id",
  amountNano: "tollgate_amount_nano",
  topUpId: "tollgate_top_up_id",
  /** `checkout` or `auto`: which flow created a PaymentIntent, and so which event credits it. */
  source: "tollgate_source",
  /** "true" when the customer asked to keep the card for auto top-up. */
  saveCard: "tollgate_save_card",
} as const;

export const checkoutSessionSchema = z.looseObject({
  id: z.string(),
  payment_status: z.string(),
  amount_total: z.number().int().nullish(),
  currency: z.string().nullish(),
  customer: reference.nullish(),
  payment_intent: z
    .union([z.string(), z.looseObject({ id: z.string(), payment_method: reference.nullish() })])
    .nullish(),
  metadata,
});
export type CheckoutSessionObject = z.infer<typeof checkoutSessionSchema>;

export const chargeSchema = z.looseObject({
  id: z.string(),
  amount_refunded: z.number().int(),
  currency: z.string(),
  customer: reference.nullish(),
  payment_intent: reference.nullish(),
});

export const disputeSchema = z.looseObject({
  id: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  charge: reference,
  payment_intent: reference.nullish(),
  reason: z.string().nullish(),
});

export const paymentIntentSchema = z.looseObject({
  id: z.string(),
  amount_received: z.number().int(),
  currency: z.string(),
  customer: reference.nullish(),
  metadata,
  last_payment_error: z.looseObject({ message: z.string().nullish(), code: z.string().nullish() }).nullish(),
});
