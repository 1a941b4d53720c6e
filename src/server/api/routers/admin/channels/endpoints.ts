import { z } from "zod";
import { listChannelEndpoints } from "~/server/services/model-endpoints";
import { adminProcedure } from "../../../trpc";

/** The models a channel serves: each endpoint with its upstream name, prices, priority, weight and whether enabled. */
export const channelEndpoints = adminProcedure
  .input(z.object({ channelId: z.uuid() }))
  .query(({ ctx, input }) => listChannelEndpoints(ctx.container.db, input.channelId));
