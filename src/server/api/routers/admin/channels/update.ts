import { z } from "zod";
import { channelPatchSchema, updateChannel } from "~/server/services/channels";
import { adminProcedure } from "../../../trpc";

/** Changes the fields given; a new key or base URL, or enabling, clears the broken mark. Gateways reload. */
export const updateChannelProcedure = adminProcedure
  .input(z.object({ id: z.uuid(), patch: channelPatchSchema }))
  .mutation(({ ctx, input }) => {
    const { db, changes, secretBox } = ctx.container;
    return updateChannel(db, changes, secretBox, input.id, input.patch, ctx.actor);
  });
