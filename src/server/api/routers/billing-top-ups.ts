import { TRPCError } from "@trpc/server";
import Stripe from "stripe";
import { z } from "zod";
import { formatCents, topUpAmountProblem } from "~/server/billing/stripe/amounts";
import { readAutoTopUpSettings, saveAutoTopUpSettings } from "~/server/billing/stripe/auto-top-up-settings";
import { createCheckoutTopUp } from "~/server/billing/stripe/checkout";
import { stripeBillingConfig } from "~/server/billing/stripe/config";
import { formatNanoAsUsd, parseUsdToNano } from "~/server/gateway/billing/money";
import { protectedProcedure } from "../trpc";

/** "25" or "12.50": what a card can be charged, whole cents. Parsed as a decimal string, never through a float. */
const usdAmount = z
  .string()
  .trim()
  .regex(/^\d+(\.\d{1,2})?$/, "Enter a USD amount with at most 2 decimals")
  .transform(parseUsdToNano);

const NOT_CONFIGURED = "Top-ups are not configured";

/**
 * Stripe top-ups and auto top-up. A plain object of procedures, spread into the billing router, so that these live
 * in their own file without another level in the client's paths (`billing.createTopUp`).
 */
export const billingTopUpProcedures = {
  /** What the top-up form offers; `configured: false` when the server has no Stripe key. */
  topUpOptions: protectedProcedure.query(({ ctx }) => {
    const { stripe, limits } = stripeBillingConfig(ctx.container.env);
    return {
      configured: stripe !== null,
      presets: limits.presetsNano.map(formatCents),
      min: formatCents(limits.minNano),
      max: formatCents(limits.maxNano),
    };
  }),

  /** Starts Stripe Checkout for the amount and returns its URL; the balance changes when the webhook says paid. */
  createTopUp: protectedProcedure
    .input(z.object({ amountUsd: usdAmount, saveCard: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      const { stripe, limits, publicUrl } = stripeBillingConfig(ctx.container.env);
      if (stripe === null) throw new TRPCError({ code: "PRECONDITION_FAILED", message: NOT_CONFIGURED });
      const problem = topUpAmountProblem(input.amountUsd, limits);
      if (problem !== null) throw new TRPCError({ code: "BAD_REQUEST", message: problem });
      const { user } = ctx.session;
      try {
        const topUp = await createCheckoutTopUp(
          { db: ctx.container.db, stripe, publicUrl },
          { user: { id: user.id, email: user.email ?? null }, amountNano: input.amountUsd, saveCard: input.saveCard },
        );
        return { topUpId: topUp.topUpId, url: topUp.url };
      } catch (error) {
        // Stripe's own message may name configuration the customer cannot act on; it goes to the log instead.
        if (!(error instanceof Stripe.errors.StripeError)) throw error;
        ctx.container.logger.error("Stripe refused to start a Checkout Session", { error, userId: user.id });
        throw new TRPCError({ code: "BAD_GATEWAY", message: "Stripe could not start the payment; try again later" });
      }
    }),

  autoTopUp: protectedProcedure.query(async ({ ctx }) => {
    const { stripe } = stripeBillingConfig(ctx.container.env);
    const settings = await readAutoTopUpSettings(ctx.container.db, ctx.session.user.id);
    return {
      configured: stripe !== null,
      enabled: settings.enabled,
      thresholdUsd: settings.thresholdNano === null ? null : formatNanoAsUsd(settings.thresholdNano),
      amountUsd: settings.amountNano === null ? null : formatNanoAsUsd(settings.amountNano),
      hasSavedCard: settings.hasSavedCard,
      lastAttemptAt: settings.lastAttemptAt,
      lastStatus: settings.lastStatus,
      lastError: settings.lastError,
    };
  }),

  /** "When my balance falls below thresholdUsd, add amountUsd" with the card saved at Checkout. */
  saveAutoTopUp: protectedProcedure
    .input(z.object({ enabled: z.boolean(), thresholdUsd: usdAmount, amountUsd: usdAmount }))
    .mutation(async ({ ctx, input }) => {
      const { stripe, limits } = stripeBillingConfig(ctx.container.env);
      const userId = ctx.session.user.id;
      if (input.enabled) {
        if (stripe === null) throw new TRPCError({ code: "PRECONDITION_FAILED", message: NOT_CONFIGURED });
        const { hasSavedCard } = await readAutoTopUpSettings(ctx.container.db, userId);
        if (!hasSavedCard) {
          throw new TRPCError({
            code: "PRECONDITION_FAILED",
            message: "Save a card first: top up once with “save card for auto top-up” ticked",
          });
        }
      }
      const problem = topUpAmountProblem(input.amountUsd, limits);
      if (problem !== null) throw new TRPCError({ code: "BAD_REQUEST", message: problem });
      await saveAutoTopUpSettings(ctx.container.db, userId, {
        enabled: input.enabled,
        thresholdNano: input.thresholdUsd,
        amountNano: input.amountUsd,
      });
      return { enabled: input.enabled };
    }),
};
