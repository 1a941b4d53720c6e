import { z } from "zod";
import { setAccountDisabled } from "~/server/services/account-status";
import { adminProcedure } from "../../../trpc";

/**
 * Disables an account (its keys refused on every gateway from their next call, its sessions ended, sign-in refused
 * with the reason) or enables it again; nothing else about it changes.
 */
export const setUserDisabled = adminProcedure
  .input(
    z.object({
      userId: z.string().min(1),
      disabled: z.boolean(),
      reason: z.string().trim().max(500).nullish(),
    }),
  )
  .mutation(({ ctx, input }) => {
    const { db, changes } = ctx.container;
    return setAccountDisabled(db, changes, input, ctx.actor);
  });
