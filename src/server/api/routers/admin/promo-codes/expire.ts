import { z } from "zod";
import { describePromoCode, expirePromoCode } from "~/server/services/promo-codes";
import { adminProcedure } from "../../../trpc";

/** Ends a code now; redemptions already made stay. */
export const expirePromo = adminProcedure
  .input(z.object({ id: z.uuid() }))
  .mutation(async ({ ctx, input }) => describePromoCode(await expirePromoCode(ctx.container.db, input.id, ctx.actor)));
