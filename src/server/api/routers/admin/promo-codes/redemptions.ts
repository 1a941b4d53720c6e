import { z } from "zod";
import { listPromoRedemptions } from "~/server/services/promo-codes";
import { adminProcedure } from "../../../trpc";

/** Who redeemed a code, and when. */
export const promoRedemptions = adminProcedure
  .input(z.object({ id: z.uuid() }))
  .query(({ ctx, input }) => listPromoRedemptions(ctx.container.db, input.id));
