import { describeOverview } from "~/server/services/admin-overview";
import { adminProcedure } from "../../../trpc";

/** Money in against usage billed and its cost, activity and health now, and what needs a human. */
export const getOverview = adminProcedure.query(async ({ ctx }) => {
  const { db, channelStatsPersistence } = ctx.container;
  // This process's newest channel counts first, so "now" includes them.
  await channelStatsPersistence.flush();
  return describeOverview(db);
});
