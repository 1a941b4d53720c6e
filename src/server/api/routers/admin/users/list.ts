import { z } from "zod";
import { searchUsers } from "~/server/services/account-overview";
import { adminProcedure } from "../../../trpc";

/** Accounts by email (any part of it) or exact id, newest first, a page at a time; all of them without a query. */
export const listUsers = adminProcedure
  .input(
    z.object({
      query: z.string().trim().max(320).default(""),
      limit: z.number().int().min(1).max(100).default(50),
      cursor: z.string().nullish(),
    }),
  )
  .query(({ ctx, input }) =>
    searchUsers(ctx.container.db, { query: input.query, limit: input.limit, cursor: input.cursor ?? null }),
  );
