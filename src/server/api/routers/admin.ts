import { TRPCError } from "@trpc/server";
import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "~/server/db";
import { balances, users } from "~/server/db/schema";
import { formatNanoAsUsd, NANO_PER_USD, parseUsdToNano } from "~/server/gateway/billing/money";
import { setAccountRateLimits } from "~/server/services/api-keys";
import { auditFilterSchema, listAuditLog } from "~/server/services/audit-log";
import { addCredits, adjustCredits, usdAmountSchema } from "~/server/services/credits";
import {
  createPromoCode,
  describePromoCode,
  listPromoCodes,
  PromoCodeError,
  promoCodeSchema,
} from "~/server/services/promo-codes";
import { AccountStatusError, setAccountDisabled } from "~/server/services/account-status";
import { emailSchema, findUserByEmail, NotFoundError } from "~/server/services/users";
import { adminProcedure, createTRPCRouter } from "../trpc";
import { adminChannelsRouter } from "./admin-channels";

/** Guards against a slipped finger; larger grants can be made in steps or through the CLI. */
const MAX_GRANT_NANO = 1_000_000n * NANO_PER_USD;

const rateLimitSchema = z.number().int().min(1).max(2_147_483_647).nullish();

const usersRouter = createTRPCRouter({
  /** Newest first. The cursor is the id of the last user of the previous page. */
  list: adminProcedure
    .input(
      z.object({
        limit: z.number().int().min(1).max(100).default(50),
        cursor: z.string().nullish(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const { db } = ctx.container;
      let after;
      if (input.cursor != null) {
        // Compare in the database: timestamps there have microseconds, a JS Date only milliseconds.
        const anchor = db.select({ createdAt: users.createdAt }).from(users).where(eq(users.id, input.cursor));
        after = or(
          lt(users.createdAt, sql`(${anchor})`),
          and(eq(users.createdAt, sql`(${anchor})`), lt(users.id, input.cursor)),
        );
      }
      const rows = await db
        .select({
          id: users.id,
          email: users.email,
          name: users.name,
          role: users.role,
          createdAt: users.createdAt,
          balanceNano: balances.balanceNano,
        })
        .from(users)
        .leftJoin(balances, eq(balances.userId, users.id))
        .where(after)
        .orderBy(desc(users.createdAt), desc(users.id))
        .limit(input.limit + 1);
      const page = rows.slice(0, input.limit);
      const items = page.map((row) => {
        const balanceNano = row.balanceNano ?? 0n;
        return { ...row, balanceNano, balanceUsd: formatNanoAsUsd(balanceNano) };
      });
      return { items, nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null };
    }),

  /**
   * Disables an account (its keys refused on every gateway from their next call, its sessions ended, sign-in refused
   * with the reason) or enables it again; nothing else about it changes.
   */
  setDisabled: adminProcedure
    .input(
      z.object({
        userId: z.string().min(1),
        disabled: z.boolean(),
        reason: z.string().trim().max(500).nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { db, changes } = ctx.container;
      try {
        return await setAccountDisabled(db, changes, input, ctx.actor);
      } catch (error) {
        if (error instanceof NotFoundError) throw new TRPCError({ code: "NOT_FOUND", message: error.message });
        if (error instanceof AccountStatusError) throw new TRPCError({ code: "BAD_REQUEST", message: error.message });
        throw error;
      }
    }),

  /** An account's own rate limits across all its keys; null removes one, an omitted one stays. */
  setRateLimits: adminProcedure
    .input(
      z
        .object({
          email: emailSchema,
          requestsPerMinute: rateLimitSchema,
          tokensPerMinute: rateLimitSchema,
          concurrentRequests: rateLimitSchema,
        })
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
      const user = await findUserByEmail(db, input.email);
      if (user === null) throw new TRPCError({ code: "NOT_FOUND", message: `No user with email ${input.email}` });
      const { email: _email, ...limits } = input;
      return setAccountRateLimits(db, changes, { userId: user.id, ...limits }, ctx.actor);
    }),
});

const creditsRouter = createTRPCRouter({
  add: adminProcedure
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
    }),
});

/** The user an admin names by id or by email (exactly one of them). */
async function requireUser(db: Database, input: { userId?: string | undefined; email?: string | undefined }) {
  const condition =
    input.userId !== undefined ? eq(users.id, input.userId) : eq(users.email, input.email?.trim().toLowerCase() ?? "");
  const [user] = await db.select({ id: users.id, email: users.email }).from(users).where(condition).limit(1);
  if (user === undefined)
    throw new TRPCError({ code: "NOT_FOUND", message: `No user ${input.userId ?? input.email ?? ""}` });
  return user;
}

const auditRouter = createTRPCRouter({
  /** Every admin action (console, CLI, the server's own set-up), newest first, filtered; 50 at a time by default. */
  list: adminProcedure
    .input(
      auditFilterSchema.extend({
        limit: z.number().int().min(1).max(200).default(50),
        cursor: z.number().int().positive().nullish(),
      }),
    )
    .query(({ ctx, input }) => {
      const { limit, cursor, ...filter } = input;
      return listAuditLog(ctx.container.db, filter, { limit, cursor: cursor ?? null });
    }),
});

export const adminRouter = createTRPCRouter({
  users: usersRouter,
  credits: creditsRouter,
  channels: adminChannelsRouter,
  audit: auditRouter,

  createPromoCode: adminProcedure
    .input(
      z.object({
        code: promoCodeSchema,
        amountUsd: usdAmountSchema.refine((nano) => nano > 0n && nano <= MAX_GRANT_NANO, "Between 0 and 1,000,000 USD"),
        /** Across all users; each user can redeem a code once. Omitted or null for no cap. */
        maxRedemptions: z.number().int().min(1).nullish(),
        expiresAt: z.date().nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      try {
        const promo = await createPromoCode(
          ctx.container.db,
          {
            code: input.code,
            amountNano: input.amountUsd,
            maxRedemptions: input.maxRedemptions ?? null,
            expiresAt: input.expiresAt ?? null,
          },
          ctx.actor,
        );
        return describePromoCode(promo);
      } catch (error) {
        if (error instanceof PromoCodeError)
          throw new TRPCError({ code: error.reason === "exists" ? "CONFLICT" : "BAD_REQUEST", message: error.message });
        throw error;
      }
    }),

  listPromoCodes: adminProcedure.query(async ({ ctx }) => {
    const promos = await listPromoCodes(ctx.container.db);
    return promos.map(describePromoCode);
  }),

  /** A correction up or down (negative amounts allowed), posted as a ledger `adjustment` with a required note. */
  adjustCredits: adminProcedure
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
          /** Makes a retried submission a no-op instead of a second adjustment. */
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
    }),
});
