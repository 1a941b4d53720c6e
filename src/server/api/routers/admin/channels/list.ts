import { listChannels } from "~/server/services/channels";
import { adminProcedure } from "../../../trpc";

/** Every channel by name, with its health (broken mark and reason), timeouts and last test. */
export const listChannelsProcedure = adminProcedure.query(({ ctx }) => listChannels(ctx.container.db));
