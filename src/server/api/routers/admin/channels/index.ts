import { createTRPCRouter } from "../../../trpc";
import { createChannel } from "./create";
import { channelEndpoints } from "./endpoints";
import { channelHealth } from "./health";
import { setChannelEnabledProcedure } from "./set-enabled";
import { listChannelsProcedure } from "./list";
import { channelStats } from "./stats";
import { testChannelProcedure } from "./test";
import { updateChannelProcedure } from "./update";

/**
 * Channels for admins: what `tollgate channel list|edit|enable|disable|test` does, over tRPC. Upstream keys go in
 * (`update` with `apiKey`) and never come out: the list says only whether a channel has one.
 */
export const adminChannelsRouter = createTRPCRouter({
  list: listChannelsProcedure,
  stats: channelStats,
  health: channelHealth,
  endpoints: channelEndpoints,
  create: createChannel,
  update: updateChannelProcedure,
  setEnabled: setChannelEnabledProcedure,
  test: testChannelProcedure,
});
