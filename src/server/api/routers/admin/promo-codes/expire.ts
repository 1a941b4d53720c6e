import { z } from "zod";
import { describePromoCode, expirePromoCode } from "~/server/services/promo-codes";
import { adminProcedure } from "../../../trpc";
import { mapServiceErrors } from "../shared";

/** Ends a code now; redemptions already made stay. */
export const expirePromo = adminProcedure
  .input(z.object({ id: z.uuid() }))
  .mutation(({ ctx, input }) =>
    mapServiceErrors(async () => describePromoCode(await expirePromoCode(ctx.container.db, input.id, ctx.actor))),
  );
