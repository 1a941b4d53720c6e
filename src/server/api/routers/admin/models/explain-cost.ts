import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { explainGenerationCost } from "~/server/services/price-versions";
import { adminProcedure } from "../../../trpc";

/** A past call's cost recomputed from its tokens and the price version it was billed at. */
export const explainCost = adminProcedure
  .input(z.object({ generationId: z.string().min(1).max(200) }))
  .query(async ({ ctx, input }) => {
    const explanation = await explainGenerationCost(ctx.container.db, input.generationId);
    if (explanation === null)
      throw new TRPCError({ code: "NOT_FOUND", message: `No generation ${input.generationId}` });
    return explanation;
  });
