import { z } from "zod";
import { listModelEndpoints } from "~/server/services/model-endpoints";
import { requireModel } from "~/server/services/models";
import { adminProcedure } from "../../../trpc";

/** One model with the endpoints serving it: channel, prices, markup, priority, weight, current price version. */
export const getModel = adminProcedure
  .input(z.object({ id: z.string().min(1).max(200) }))
  .query(async ({ ctx, input }) => {
    const { db, env } = ctx.container;
    const model = await requireModel(db, input.id);
    const endpoints = await listModelEndpoints(db, model.id);
    return { model, endpoints, platformMarkupBasisPoints: Number(env.PRICE_MARKUP_PERCENT) };
  });
