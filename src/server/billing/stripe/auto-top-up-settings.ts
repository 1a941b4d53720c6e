import { eq, sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { autoTopUpSettings } from "~/server/db/schema";
import { findStripeCustomer } from "./customers";

export interface AutoTopUpSettingsView {
  enabled: boolean;
  /** Null until the user saved settings once. */
  thresholdNano: bigint | null;
  amountNano: bigint | null;
  /** A card was kept at Checkout ("save card for auto top-up"); auto top-up needs one. */
  hasSavedCard: boolean;
  lastAttemptAt: Date | null;
  lastStatus: string | null;
  lastError: string | null;
}

export async function readAutoTopUpSettings(db: Database, userId: string): Promise<AutoTopUpSettingsView> {
  const [settings] = await db.select().from(autoTopUpSettings).where(eq(autoTopUpSettings.userId, userId));
  const customer = await findStripeCustomer(db, userId);
  return {
    enabled: settings?.enabled ?? false,
    thresholdNano: settings?.thresholdNano ?? null,
    amountNano: settings?.amountNano ?? null,
    hasSavedCard: customer?.defaultPaymentMethodId != null,
    lastAttemptAt: settings?.lastAttemptAt ?? null,
    lastStatus: settings?.lastStatus ?? null,
    lastError: settings?.lastError ?? null,
  };
}

/**
 * Saves "when my balance falls below threshold, add amount". The last attempt is kept: switching auto top-up off and
 * on again must not buy a second charge within the interval.
 */
export async function saveAutoTopUpSettings(
  db: Database,
  userId: string,
  settings: { enabled: boolean; thresholdNano: bigint; amountNano: bigint },
): Promise<void> {
  await db
    .insert(autoTopUpSettings)
    .values({ userId, ...settings })
    .onConflictDoUpdate({ target: autoTopUpSettings.userId, set: { ...settings, updatedAt: sql`now()` } });
}
