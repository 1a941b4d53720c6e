import { z } from "zod";
import { ledgerFilterSchema, searchLedger } from "~/server/services/ledger-search";
import { adminProcedure } from "../../../trpc";

/** Every account's ledger, newest first, by kind, part of an email and dates. */
export const searchLedgerProcedure = adminProcedure
  .input(
    ledgerFilterSchema.extend({
      limit: z.number().int().min(1).max(200).default(50),
      cursor: z
        .string()
        .regex(/^\d{1,19}$/)
        .nullish(),
    }),
  )
  .query(({ ctx, input }) => {
    const { limit, cursor, ...filter } = input;
    return searchLedger(ctx.container.db, filter, { limit, cursor: cursor == null ? null : BigInt(cursor) });
  });
