import { z } from "zod";
import { readStoredChannelStats } from "~/server/services/channel-stats";
import { listChannels } from "~/server/services/channels";
import { adminProcedure } from "../../../trpc";

/**
 * Live statistics per channel and upstream model over 5 minutes, 30 minutes and a day, as every gateway process
 * stored them; this process's newest counts are written first.
 */
export const channelStats = adminProcedure
  .input(z.object({ channelId: z.uuid().optional() }).optional())
  .query(async ({ ctx, input }) => {
    const { db, channelStatsPersistence } = ctx.container;
    await channelStatsPersistence.flush();
    const names = new Map((await listChannels(db)).map((channel) => [channel.id, channel.name]));
    const rows = await readStoredChannelStats(db, Date.now(), input?.channelId);
    return rows.map((row) => ({ ...row, channelName: names.get(row.channelId) ?? null }));
  });
