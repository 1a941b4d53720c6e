import { z } from "zod";
import { listStripeEvents } from "~/server/services/ledger-search";
import { adminProcedure } from "../../../trpc";

/** Stripe's webhook events as received, newest first: processed, ignored, or failing with the last error. */
export const stripeEventsProcedure = adminProcedure
  .input(z.object({ limit: z.number().int().min(1).max(200).default(50) }).default({ limit: 50 }))
  .query(({ ctx, input }) => listStripeEvents(ctx.container.db, input.limit));
