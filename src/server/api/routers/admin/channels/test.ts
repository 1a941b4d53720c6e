import { z } from "zod";
import { requireChannel } from "~/server/services/channels";
import { testChannel } from "~/server/services/test-channel";
import { adminProcedure } from "../../../trpc";

/**
 * Sends the channel a one-token request through the gateway's own adapters and transport and records the latency,
 * status and error on the channel. An upstream failure is a result (`ok: false`), not an error.
 */
export const testChannelProcedure = adminProcedure
  .input(z.object({ id: z.uuid(), upstreamModel: z.string().trim().min(1).max(200).optional() }))
  .mutation(async ({ ctx, input }) => {
    const { db, changes, secretBox, providers } = ctx.container;
    const channel = await requireChannel(db, input.id);
    return testChannel({ db, changes, secretBox, providers, actor: ctx.actor }, channel, {
      upstreamModel: input.upstreamModel,
    });
  });
