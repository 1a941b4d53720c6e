import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import { balances, ledgerEntries } from "~/server/db/schema";
import { formatNanoAsUsd } from "~/server/gateway/billing/money";
import { redeemPromoCode } from "~/server/services/promo-codes";
import { billingHistory } from "~/server/services/billing-history";
import { createTRPCRouter, protectedProcedure } from "../trpc";
import { billingTopUpProcedures } from "./billing-top-ups";

/** Money leaves as exact decimal USD strings: a float would round what the ledger holds to the nano-dollar. */
export const billingRouter = createTRPCRouter({
  /** Stripe top-ups and auto top-up: topUpOptions, createTopUp, autoTopUp, saveAutoTopUp. */
  ...billingTopUpProcedures,

  /**
   * The recorded balance, what calls in flight hold of it (their worst-case cost until they settle; settled calls
   * not yet written stay held until they are), and what is left to spend.
   */
  overview: protectedProcedure.query(async ({ ctx }) => {
    const [row] = await ctx.container.db
      .select({
        balanceNano: balances.balanceNano,
        flaggedAt: balances.flaggedAt,
        flagReason: balances.flagReason,
      })
      .from(balances)
      .where(eq(balances.userId, ctx.session.user.id));
    const balanceNano = row?.balanceNano ?? 0n;
    // Held amounts live where admission keeps them: in PostgreSQL, or in this process on the embedded database.
    const heldNano = await ctx.container.holds.heldNano(ctx.session.user.id);
    return {
      balanceUsd: formatNanoAsUsd(balanceNano),
      heldUsd: formatNanoAsUsd(heldNano),
      availableUsd: formatNanoAsUsd(balanceNano - heldNano),
      flagged: row?.flaggedAt != null,
      flaggedAt: row?.flaggedAt ?? null,
      flagReason: row?.flagReason ?? null,
    };
  }),

  /** The caller's ledger, newest first; the cursor is the id of the last entry of the previous page. */
  ledger: protectedProcedure
    .input(
      z.object({
        limit: z.number().int().min(1).max(100).default(25),
        cursor: z
          .string()
          .regex(/^\d{1,19}$/)
          .nullish(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const rows = await ctx.container.db
        .select()
        .from(ledgerEntries)
        .where(
          and(
            eq(ledgerEntries.userId, ctx.session.user.id),
            input.cursor == null ? undefined : lt(ledgerEntries.id, BigInt(input.cursor)),
          ),
        )
        .orderBy(desc(ledgerEntries.id))
        .limit(input.limit + 1);
      const page = rows.slice(0, input.limit);
      return {
        items: page.map((entry) => ({
          id: entry.id.toString(),
          kind: entry.kind,
          amountUsd: formatNanoAsUsd(entry.amountNano),
          balanceAfterUsd: formatNanoAsUsd(entry.balanceAfterNano),
          note: entry.note,
          createdAt: entry.createdAt,
        })),
        nextCursor: rows.length > input.limit ? (page.at(-1)?.id.toString() ?? null) : null,
      };
    }),

  /**
   * The Billing page's history, newest first: credits with their running balance, and usage as one line per UTC day
   * and model (from the hourly rollup). The cursor is the last line's time and id.
   */
  history: protectedProcedure
    .input(
      z.object({
        limit: z.number().int().min(1).max(100).default(25),
        cursor: z.object({ at: z.date(), id: z.string().max(300) }).nullish(),
      }),
    )
    .query(({ ctx, input }) =>
      billingHistory(ctx.container.db, ctx.session.user.id, { cursor: input.cursor ?? null, limit: input.limit }),
    ),

  redeemPromo: protectedProcedure
    .input(z.object({ code: z.string().trim().min(1, "Enter a code").max(64) }))
    .mutation(async ({ ctx, input }) => {
      const result = await redeemPromoCode(ctx.container.db, ctx.container.changes, {
        userId: ctx.session.user.id,
        code: input.code,
        now: new Date(),
      });
      return {
        code: result.promo.code,
        amountUsd: formatNanoAsUsd(result.amountNano),
        balanceUsd: formatNanoAsUsd(result.balanceNano),
      };
    }),
});
