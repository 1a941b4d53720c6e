import { TRPCError } from "@trpc/server";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { users } from "~/server/db/schema";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import {
  changePassword,
  deleteAccount,
  describeAccountDeletion,
  endAllSessions,
  renameUser,
} from "~/server/services/account-settings";
import { getBalanceNano } from "~/server/services/credits";
import {
  requestEmailChange,
  requestPasswordReset,
  sendEmailVerification,
  type EmailLinkDeps,
} from "~/server/services/email-links";
import { clientAddress } from "~/server/auth/sign-in-throttle";
import { originFrom } from "~/server/public-origin";
import { createUser, emailSchema, passwordSchema, UserExistsError } from "~/server/services/users";
import { ServiceError } from "~/server/services/service-error";
import { createTRPCRouter, protectedProcedure, publicProcedure, type TRPCContext } from "../trpc";

function emailLinkDeps(ctx: TRPCContext): EmailLinkDeps {
  const { db, mailer, logger, env } = ctx.container;
  return { db, mailer, logger, origin: originFrom(env, ctx.headers) };
}

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
        // The confirmation link is on its way while the new customer looks around; failing to send it is logged.
        await sendEmailVerification(emailLinkDeps(ctx), user.id);
        return { id: user.id, email: user.email };
      } catch (error) {
        // In the customer's words (the service's message is written for operators).
        if (error instanceof UserExistsError)
          throw new ServiceError(error.kind, "An account with this email already exists", { cause: error });
        throw error;
      }
    }),

  /** Mails a link to choose a password: how an account made through a provider gets one. Throttled as resets are. */
  sendPasswordLink: protectedProcedure.mutation(async ({ ctx }) => {
    const [user] = await ctx.container.db
      .select({ email: users.email })
      .from(users)
      .where(eq(users.id, ctx.session.user.id))
      .limit(1);
    if (user === undefined) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
    const outcome = await requestPasswordReset(
      { ...emailLinkDeps(ctx), throttle: ctx.container.resetThrottle },
      { email: user.email, ip: clientAddress(ctx.headers) },
    );
    if (outcome === "throttled") {
      throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: "Too many links asked for: wait an hour." });
    }
  }),

  /** Mails a new link that confirms the account's address (a no-op once it is confirmed). */
  sendVerification: protectedProcedure.mutation(({ ctx }) =>
    sendEmailVerification(emailLinkDeps(ctx), ctx.session.user.id),
  ),

  /** Mails a link to the new address, which the account moves to when it is followed; the password confirms. */
  requestEmailChange: protectedProcedure
    .input(z.object({ newEmail: emailSchema, password: z.string().max(256) }))
    .mutation(async ({ ctx, input }) => {
      try {
        return await requestEmailChange(emailLinkDeps(ctx), { userId: ctx.session.user.id, ...input });
      } catch (error) {
        if (error instanceof UserExistsError)
          throw new ServiceError(error.kind, "Another account uses that address already.", { cause: error });
        throw error;
      }
    }),

  me: protectedProcedure.query(async ({ ctx }) => {
    const [user] = await ctx.container.db
      .select({
        id: users.id,
        email: users.email,
        emailVerified: users.emailVerified,
        name: users.name,
        role: users.role,
        createdAt: users.createdAt,
        hasPassword: sql<boolean>`${users.passwordHash} is not null`,
      })
      .from(users)
      .where(eq(users.id, ctx.session.user.id))
      .limit(1);
    // A valid token for a deleted user.
    if (user === undefined) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
    return user;
  }),

  rename: protectedProcedure.input(z.object({ name: z.string().trim().max(100) })).mutation(async ({ ctx, input }) => {
    await renameUser(ctx.container.db, ctx.session.user.id, input.name === "" ? null : input.name);
  }),

  /** Ends every session, this one included: the page sends the customer to sign in with the new password. */
  changePassword: protectedProcedure
    .input(z.object({ current: z.string().max(256), next: passwordSchema }))
    .mutation(async ({ ctx, input }) => {
      await changePassword(ctx.container.db, ctx.session.user.id, input);
    }),

  endAllSessions: protectedProcedure.mutation(async ({ ctx }) => {
    await endAllSessions(ctx.container.db, ctx.session.user.id);
  }),

  /** What deleting would leave behind: stated before the customer confirms (keys not yet revoked, disabled included). */
  deletionSummary: protectedProcedure.query(async ({ ctx }) => {
    const { balanceNano, activeKeys } = await describeAccountDeletion(ctx.container.db, ctx.session.user.id);
    return { balanceUsd: formatNanoAsUsd(balanceNano), activeKeys };
  }),

  delete: protectedProcedure.input(z.object({ password: z.string().max(256) })).mutation(async ({ ctx, input }) => {
    const { db, changes } = ctx.container;
    return deleteAccount(db, changes, ctx.session.user.id, input.password);
  }),

  balance: protectedProcedure.query(async ({ ctx }) => {
    const { db, usageWriter } = ctx.container;
    const userId = ctx.session.user.id;
    // Debits this process has metered but not yet committed (group commit) are already spent.
    const balanceNano = (await getBalanceNano(db, userId)) - usageWriter.pendingDebitNano(userId);
    return { balanceNano, balanceUsd: formatNanoAsUsd(balanceNano) };
  }),
});
