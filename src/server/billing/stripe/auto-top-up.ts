import { and, eq, sql } from "drizzle-orm";
import Stripe from "stripe";
import type { Database } from "~/server/db";
import { jsonParam, rowsOf } from "~/server/db/raw-rows";
import { autoTopUpSettings, topUps } from "~/server/db/schema";
import type { Clock } from "~/server/gateway/clock";
import type { Logger } from "~/server/gateway/logger";
import { nanoToCents } from "./amounts";
import { METADATA } from "./objects";

export type AutoTopUpOutcome =
  | { status: "skipped" }
  /** The PaymentIntent was accepted (`succeeded`, or `processing`); the credit arrives with its webhook. */
  | { status: "charged"; userId: string; topUpId: string; paymentIntentId: string; paymentIntentStatus: string }
  | { status: "failed"; userId: string; topUpId: string; error: string };

export interface AutoTopUp {
  /** Charges the user's saved card if the balance is under their threshold and no attempt was made recently. */
  check(userId: string, balanceNano: bigint): Promise<AutoTopUpOutcome>;
  /** The same for every balance of a batch, in one statement; for the usage writer's `onBalancesWritten`. */
  checkMany(balances: ReadonlyMap<string, bigint>): Promise<AutoTopUpOutcome[]>;
  /** Fire-and-forget `checkMany`: never delays or fails the caller, logs what goes wrong. */
  onBalancesWritten(balances: ReadonlyMap<string, bigint>): void;
}

export interface AutoTopUpDeps {
  db: Database;
  /** Null when Stripe is not configured: every check is skipped without touching the database. */
  stripe: Stripe | null;
  clock: Clock;
  logger: Logger;
  /** At most one attempt per user per this many milliseconds (AUTO_TOP_UP_MIN_INTERVAL_MS). */
  minIntervalMs: number;
}

interface Claim {
  user_id: string;
  amount_nano: string;
  customer_id: string;
  payment_method_id: string;
}

/**
 * "When my balance falls below X, add Y", charged off-session on the card saved at Checkout. The attempt is claimed
 * by a conditional UPDATE of `last_attempt_at`, so any number of gateway processes seeing the same low balance charge
 * at most once per interval, and a card that keeps failing is retried only that often.
 */
export function createAutoTopUp(deps: AutoTopUpDeps): AutoTopUp {
  const { db, logger } = deps;

  async function claim(balances: ReadonlyMap<string, bigint>): Promise<Claim[]> {
    const now = deps.clock();
    const rows = jsonParam(
      [...balances].map(([userId, balanceNano]) => ({ user_id: userId, balance_nano: balanceNano })),
    );
    return rowsOf<Claim>(
      await db.execute(sql`
        update auto_top_up_settings as settings
        set last_attempt_at = ${new Date(now).toISOString()}::timestamptz, updated_at = now()
        from jsonb_to_recordset(${rows}::jsonb) as written(user_id text, balance_nano bigint), stripe_customers
        where settings.user_id = written.user_id
          and stripe_customers.user_id = settings.user_id
          and stripe_customers.default_payment_method_id is not null
          and settings.enabled
          and written.balance_nano < settings.threshold_nano
          and (settings.last_attempt_at is null
               or settings.last_attempt_at <= ${new Date(now - deps.minIntervalMs).toISOString()}::timestamptz)
        returning settings.user_id, settings.amount_nano::text as amount_nano,
                  stripe_customers.customer_id, stripe_customers.default_payment_method_id as payment_method_id`),
    );
  }

  async function charge(stripe: Stripe, claimed: Claim): Promise<AutoTopUpOutcome> {
    const userId = claimed.user_id;
    const amountNano = BigInt(claimed.amount_nano);
    // Written before the charge, and named in the PaymentIntent's metadata, so the webhook finds it even if it
    // arrives before Stripe's answer does.
    const [topUp] = await db.insert(topUps).values({ userId, source: "auto", amountNano }).returning({ id: topUps.id });
    if (topUp === undefined) throw new Error("The top-up row was not written");
    try {
      const intent = await stripe.paymentIntents.create(
        {
          amount: nanoToCents(amountNano),
          currency: "usd",
          customer: claimed.customer_id,
          payment_method: claimed.payment_method_id,
          off_session: true,
          confirm: true,
          description: "Tollgate auto top-up",
          metadata: {
            [METADATA.userId]: userId,
            [METADATA.amountNano]: amountNano.toString(),
            [METADATA.topUpId]: topUp.id,
            [METADATA.source]: "auto",
          },
        },
        { idempotencyKey: `tollgate-auto-top-up-${topUp.id}` },
      );
      await db.transaction(async (tx) => {
        // Only the PaymentIntent: the status is the webhook's to set, and it may already have.
        await tx
          .update(topUps)
          .set({ paymentIntentId: intent.id, updatedAt: sql`now()` })
          .where(eq(topUps.id, topUp.id));
        await tx
          .update(autoTopUpSettings)
          .set({ lastStatus: intent.status, lastError: null, updatedAt: sql`now()` })
          .where(eq(autoTopUpSettings.userId, userId));
      });
      return {
        status: "charged",
        userId,
        topUpId: topUp.id,
        paymentIntentId: intent.id,
        paymentIntentStatus: intent.status,
      };
    } catch (error) {
      // A decline is an answer, not a fault: Stripe names the card's problem, and that is what the user sees.
      const message = error instanceof Error ? error.message : String(error);
      const paymentIntentId = error instanceof Stripe.errors.StripeError ? (error.payment_intent?.id ?? null) : null;
      if (!(error instanceof Stripe.errors.StripeCardError)) logger.error("auto top-up failed", { error, userId });
      await db.transaction(async (tx) => {
        await tx
          .update(topUps)
          .set({
            status: "failed",
            failureMessage: message,
            ...(paymentIntentId === null ? {} : { paymentIntentId }),
            updatedAt: sql`now()`,
          })
          .where(and(eq(topUps.id, topUp.id), eq(topUps.status, "pending")));
        await tx
          .update(autoTopUpSettings)
          .set({ lastStatus: "failed", lastError: message, updatedAt: sql`now()` })
          .where(eq(autoTopUpSettings.userId, userId));
      });
      return { status: "failed", userId, topUpId: topUp.id, error: message };
    }
  }

  async function checkMany(balances: ReadonlyMap<string, bigint>): Promise<AutoTopUpOutcome[]> {
    const { stripe } = deps;
    if (stripe === null || balances.size === 0) return [];
    const claims = await claim(balances);
    return Promise.all(claims.map((claimed) => charge(stripe, claimed)));
  }

  return {
    async check(userId, balanceNano) {
      const [outcome] = await checkMany(new Map([[userId, balanceNano]]));
      return outcome ?? { status: "skipped" };
    },
    checkMany,
    onBalancesWritten(balances) {
      void checkMany(balances).catch((error: unknown) => logger.error("auto top-up check failed", { error }));
    },
  };
}
