import { z } from "zod";
import { usdAmountSchema } from "~/server/services/credits";
import { createPromoCode, describePromoCode, promoCodeSchema } from "~/server/services/promo-codes";
import { adminProcedure } from "../../../trpc";
import { MAX_GRANT_NANO } from "../shared";

export const createPromo = adminProcedure
  .input(
    z.object({
      code: promoCodeSchema,
      amountUsd: usdAmountSchema.refine((nano) => nano > 0n && nano <= MAX_GRANT_NANO, "Between 0 and 1,000,000 USD"),
      /** Across all users; each user can redeem a code once. Omitted or null for no cap. */
      maxRedemptions: z.number().int().min(1).max(2_147_483_647).nullish(),
      expiresAt: z.date().nullish(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const promo = await createPromoCode(
      ctx.container.db,
      {
        code: input.code,
        amountNano: input.amountUsd,
        maxRedemptions: input.maxRedemptions ?? null,
        expiresAt: input.expiresAt ?? null,
      },
      ctx.actor,
    );
    return describePromoCode(promo);
  });
