import { z } from "zod";
import { billingHistory } from "~/server/services/billing-history";
import { adminProcedure } from "../../../trpc";

/** An account's billing history exactly as its owner sees it on the Billing page, newest first. */
export const userHistory = adminProcedure
  .input(
    z.object({
      userId: z.string().min(1).max(200),
      limit: z.number().int().min(1).max(100).default(25),
      cursor: z.object({ at: z.date(), id: z.string().max(300) }).nullish(),
    }),
  )
  .query(({ ctx, input }) =>
    billingHistory(ctx.container.db, input.userId, { cursor: input.cursor ?? null, limit: input.limit }),
  );
