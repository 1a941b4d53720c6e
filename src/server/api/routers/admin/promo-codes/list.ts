import { describePromoCode, listPromoCodes } from "~/server/services/promo-codes";
import { adminProcedure } from "../../../trpc";

export const listPromos = adminProcedure.query(async ({ ctx }) => {
  const promos = await listPromoCodes(ctx.container.db);
  return promos.map(describePromoCode);
});
