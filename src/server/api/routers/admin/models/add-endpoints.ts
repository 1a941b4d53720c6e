import { z } from "zod";
import { addChannelModels } from "~/server/services/model-endpoints";
import { adminProcedure } from "../../../trpc";

/** Makes a channel serve more models, each at its list prices; endpoints the channel has stay as they are. */
export const addEndpoints = adminProcedure
  .input(
    z.object({
      channelId: z.uuid(),
      models: z
        .array(
          z.object({
            modelId: z.string().trim().min(1).max(200),
            upstreamModel: z.string().trim().min(1).max(200).optional(),
          }),
        )
        .min(1)
        .max(500),
    }),
  )
  .mutation(async ({ ctx, input }) => ({
    added: await addChannelModels(ctx.container.db, ctx.container.changes, input.channelId, input.models, ctx.actor),
  }));
