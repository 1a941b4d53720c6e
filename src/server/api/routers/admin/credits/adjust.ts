import { z } from "zod";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { adjustCredits, usdAmountSchema } from "~/server/services/credits";
import { emailSchema } from "~/server/services/users";
import { adminProcedure } from "../../../trpc";
import { MAX_GRANT_NANO, requireUser } from "../shared";

/** A correction up or down (negative amounts allowed), posted as a ledger `adjustment` with a required note. */
export const adjustCredit = adminProcedure
  .input(
    z
      .object({
        userId: z.string().min(1).optional(),
        email: emailSchema.optional(),
        amountUsd: usdAmountSchema.refine(
          (nano) => nano !== 0n && nano <= MAX_GRANT_NANO && nano >= -MAX_GRANT_NANO,
          "A non-zero amount of at most 1,000,000 USD either way",
        ),
        note: z.string().trim().min(1, "Say why").max(500),
        /** Makes a retried submission (a double click, a resent form) a no-op instead of a second adjustment. */
        requestId: z.uuid().optional(),
      })
      .refine((input) => (input.userId === undefined) !== (input.email === undefined), "Give userId or email"),
  )
  .mutation(async ({ ctx, input }) => {
    const { db, changes } = ctx.container;
    const user = await requireUser(db, input);
    const result = await adjustCredits(
      db,
      changes,
      {
        userId: user.id,
        amountNano: input.amountUsd,
        note: input.note,
        ...(input.requestId === undefined ? {} : { requestId: input.requestId }),
      },
      { actor: ctx.actor, targetLabel: user.email },
    );
    return {
      userId: user.id,
      email: user.email,
      amountNano: input.amountUsd,
      amountUsd: formatNanoAsUsd(input.amountUsd),
      balanceNano: result.balanceNano,
      balanceUsd: formatNanoAsUsd(result.balanceNano),
      posted: result.posted,
    };
  });
