import { z } from "zod";
import { describeAccount } from "~/server/services/account-overview";
import { adminProcedure } from "../../../trpc";

/** One account as support sees it: balance and held, spend by day, keys, limits, top-ups and disputes. */
export const getUser = adminProcedure
  .input(z.object({ userId: z.string().min(1).max(200) }))
  .query(({ ctx, input }) => {
    const { db, holds } = ctx.container;
    return describeAccount(db, (userId) => holds.heldNano(userId), input.userId);
  });
