import { TRPCError } from "@trpc/server";
import { z } from "zod";
import {
  ACTIVITY_GROUPS,
  activityFilterOptions,
  activityFilterSchema,
  findGenerationDetail,
  keySpendByDay,
  listRequestLog,
  logCursorSchema,
  requestLogFilterSchema,
  summarizeActivity,
} from "~/server/services/activity";
import { createTRPCRouter, protectedProcedure } from "../trpc";

/** The signed-in account's activity: only ever its own rows. */
export const activityRouter = createTRPCRouter({
  /** Totals, the chart's series and the breakdowns by model and key, from the hourly rollup: one call per view. */
  summary: protectedProcedure
    .input(activityFilterSchema.extend({ groupBy: z.enum(ACTIVITY_GROUPS).default("model") }))
    .query(({ ctx, input }) => summarizeActivity(ctx.container.db, ctx.session.user.id, input, new Date())),

  /** The request log, newest first; the cursor is the last row's start time and id. */
  log: protectedProcedure
    .input(
      requestLogFilterSchema.extend({
        limit: z.number().int().min(1).max(100).default(50),
        cursor: logCursorSchema.nullish(),
      }),
    )
    .query(({ ctx, input }) =>
      listRequestLog(
        ctx.container.db,
        ctx.session.user.id,
        input,
        { cursor: input.cursor ?? null, limit: input.limit },
        new Date(),
      ),
    ),

  /** One request's detail: what GET /v1/generation returns, with every upstream attempt. */
  generation: protectedProcedure
    .input(z.object({ id: z.string().trim().min(1).max(200) }))
    .query(async ({ ctx, input }) => {
      const detail = await findGenerationDetail(ctx.container.db, ctx.session.user.id, input.id);
      if (detail === null) throw new TRPCError({ code: "NOT_FOUND", message: "No such request" });
      return detail;
    }),

  /** Each key's spend per UTC day over the last two weeks, for the keys page's sparklines. */
  keySpendByDay: protectedProcedure.query(({ ctx }) =>
    keySpendByDay(ctx.container.db, ctx.session.user.id, new Date()),
  ),

  /** The keys, models and providers the filters offer. */
  filterOptions: protectedProcedure.query(({ ctx }) =>
    activityFilterOptions(ctx.container.db, ctx.session.user.id, new Date()),
  ),
});
