import { z } from "zod";
import { emailSchema } from "~/server/services/users";
import { setAccountRateLimits } from "~/server/services/api-keys";
import { adminProcedure } from "../../../trpc";
import { rateLimitSchema, requireUser } from "../shared";

/** An account's own rate limits across all its keys; null removes one, an omitted one stays. */
export const setUserRateLimits = adminProcedure
  .input(
    z
      .object({
        userId: z.string().min(1).optional(),
        email: emailSchema.optional(),
        requestsPerMinute: rateLimitSchema,
        tokensPerMinute: rateLimitSchema,
        concurrentRequests: rateLimitSchema,
      })
      .refine((input) => (input.userId === undefined) !== (input.email === undefined), "Give userId or email")
      .refine(
        (limits) =>
          limits.requestsPerMinute !== undefined ||
          limits.tokensPerMinute !== undefined ||
          limits.concurrentRequests !== undefined,
        "Give at least one of requestsPerMinute, tokensPerMinute, concurrentRequests (null removes a limit).",
      ),
  )
  .mutation(async ({ ctx, input }) => {
    const { db, changes } = ctx.container;
    const user = await requireUser(db, input);
    const { email: _email, userId: _userId, ...limits } = input;
    return setAccountRateLimits(db, changes, { userId: user.id, ...limits }, ctx.actor);
  });
