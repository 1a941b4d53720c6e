import { z } from "zod";
import { findRequests } from "~/server/services/request-search";
import { adminProcedure } from "../../../trpc";

/** The calls a customer or a log line quotes: by request id or generation id, across every account. */
export const findRequest = adminProcedure
  .input(z.object({ id: z.string().trim().min(1).max(200) }))
  .query(({ ctx, input }) => findRequests(ctx.container.db, input.id));
