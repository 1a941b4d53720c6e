import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { users } from "~/server/db/schema";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { getBalanceNano } from "~/server/services/credits";
import { createUser, emailSchema, passwordSchema, UserExistsError } from "~/server/services/users";
import { createTRPCRouter, protectedProcedure, publicProcedure } from "../trpc";

export const accountRouter = createTRPCRouter({
  signUp: publicProcedure
    .input(
      z.object({
        email: emailSchema,
        password: passwordSchema,
        name: z.string().trim().max(100).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      try {
        const user = await createUser(ctx.container.db, {
          email: input.email,
          password: input.password,
          name: input.name === undefined || input.name === "" ? null : input.name,
        });
        return { id: user.id, email: user.email };
      } catch (error) {
        if (error instanceof UserExistsError) {
          throw new TRPCError({ code: "CONFLICT", message: "An account with this email already exists", cause: error });
        }
        throw error;
      }
    }),

  me: protectedProcedure.query(async ({ ctx }) => {
    const [user] = await ctx.container.db
      .select({ id: users.id, email: users.email, name: users.name, role: users.role, createdAt: users.createdAt })
      .from(users)
      .where(eq(users.id, ctx.session.user.id))
      .limit(1);
    // A valid token for a deleted user.
    if (user === undefined) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
    return user;
  }),

  balance: protectedProcedure.query(async ({ ctx }) => {
    const { db, usageWriter } = ctx.container;
    const userId = ctx.session.user.id;
    // Debits this process has metered but not yet committed (group commit) are already spent.
    const balanceNano = (await getBalanceNano(db, userId)) - usageWriter.pendingDebitNano(userId);
    return { balanceNano, balanceUsd: formatNanoAsUsd(balanceNano) };
  }),
});
