import { z } from "zod";
import { setChannelEnabled } from "~/server/services/channels";
import { adminProcedure } from "../../../trpc";

/** Enabling also clears the broken mark (the operator says the cause is fixed). */
export const setChannelEnabledProcedure = adminProcedure
  .input(z.object({ id: z.uuid(), enabled: z.boolean() }))
  .mutation(({ ctx, input }) =>
    setChannelEnabled(ctx.container.db, ctx.container.changes, input.id, input.enabled, ctx.actor),
  );
