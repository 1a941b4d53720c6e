import { stripeWebhookDeps } from "~/server/billing/stripe/deps-from-container";
import { handleStripeWebhook } from "~/server/billing/stripe/webhook";
import { getContainer } from "~/server/container";

/** Stripe's webhook endpoint. The body is read as text, untouched: the signature covers the exact bytes. */
export async function POST(request: Request): Promise<Response> {
  const result = await handleStripeWebhook(stripeWebhookDeps(await getContainer()), {
    rawBody: await request.text(),
    signature: request.headers.get("stripe-signature"),
  });
  return Response.json(result.body, { status: result.status, headers: { "cache-control": "no-store" } });
}
