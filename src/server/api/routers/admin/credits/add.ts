import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { formatNanoAsUsd, parseUsdToNano } from "~/server/gateway/billing/money";
import { addCredits } from "~/server/services/credits";
import { emailSchema, findUserByEmail } from "~/server/services/users";
import { adminProcedure } from "../../../trpc";
import { MAX_GRANT_NANO } from "../shared";

/** A grant (a gift, goodwill) posted as a ledger `adjustment`. */
export const addCredit = adminProcedure
  .input(
    z.object({
      email: emailSchema,
      /** A decimal string, parsed exactly: "12.5", "0.000000001". */
      usd: z
        .string()
        .trim()
        .regex(/^\d+(\.\d{1,9})?$/, "A positive USD amount with at most 9 decimals"),
      note: z.string().trim().max(500).optional(),
      /** Makes a retried submission a no-op instead of a second grant. */
      requestId: z.uuid().optional(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const amountNano = parseUsdToNano(input.usd);
    if (amountNano <= 0n) throw new TRPCError({ code: "BAD_REQUEST", message: "The amount must be positive" });
    if (amountNano > MAX_GRANT_NANO)
      throw new TRPCError({ code: "BAD_REQUEST", message: "At most 1,000,000 USD at a time" });
    const { db, changes } = ctx.container;
    const user = await findUserByEmail(db, input.email);
    if (user === null) throw new TRPCError({ code: "NOT_FOUND", message: `No user with email ${input.email}` });
    // The note is the customer's to read on their billing page; who granted it is in the audit log.
    const result = await addCredits(
      db,
      changes,
      {
        userId: user.id,
        amountNano,
        kind: "adjustment",
        ...(input.requestId === undefined ? {} : { externalId: `admin-${input.requestId}` }),
        note: input.note || "Credit granted",
      },
      { actor: ctx.actor, action: "credits.grant", targetLabel: user.email },
    );
    return {
      userId: user.id,
      amountNano,
      balanceNano: result.balanceNano,
      balanceUsd: formatNanoAsUsd(result.balanceNano),
      posted: result.posted,
    };
  });
