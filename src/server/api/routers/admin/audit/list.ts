import { z } from "zod";
import { auditFilterSchema, listAuditLog } from "~/server/services/audit-log";
import { adminProcedure } from "../../../trpc";

/** Every admin action (console, CLI, the server's own set-up), newest first, filtered; 50 at a time by default. */
export const listAudit = adminProcedure
  .input(
    auditFilterSchema.extend({
      limit: z.number().int().min(1).max(200).default(50),
      cursor: z.number().int().positive().nullish(),
    }),
  )
  .query(({ ctx, input }) => {
    const { limit, cursor, ...filter } = input;
    return listAuditLog(ctx.container.db, filter, { limit, cursor: cursor ?? null });
  });
