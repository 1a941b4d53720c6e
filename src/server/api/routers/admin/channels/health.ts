import { readChannelHealth } from "~/server/services/channel-stats";
import { adminProcedure } from "../../../trpc";

/** Each channel's live statistics over all its models, with its last hour minute by minute (calls and failures). */
export const channelHealth = adminProcedure.query(async ({ ctx }) => {
  const { db, channelStatsPersistence } = ctx.container;
  await channelStatsPersistence.flush();
  return readChannelHealth(db, Date.now());
});
