import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAutoTopUp, type AutoTopUp } from "~/server/billing/stripe/auto-top-up";
import { saveAutoTopUpSettings } from "~/server/billing/stripe/auto-top-up-settings";
import { createCheckoutTopUp } from "~/server/billing/stripe/checkout";
import { stripeBillingConfig } from "~/server/billing/stripe/config";
import { stripeWebhookDeps } from "~/server/billing/stripe/deps-from-container";
import { handleStripeWebhook } from "~/server/billing/stripe/webhook";
import { autoTopUpSettings, topUps } from "~/server/db/schema";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { silentLogger } from "~/server/gateway/logger";
import {
  signedStripeEvent,
  startFakeStripe,
  stripeTestEnv,
  TEST_STRIPE_WEBHOOK_SECRET,
  type FakeStripe,
} from "../../helpers/fake-stripe";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, ledgerOf } from "../../helpers/ledger-assertions";

const HOUR = 3_600_000;
let fake: FakeStripe;
let harness: GatewayHarness;
let now = Date.parse("2030-01-01T00:00:00Z");

/** What one gateway process builds; two of them on one database stand for two processes. */
function autoTopUpProcess(): AutoTopUp {
  return createAutoTopUp({
    db: harness.container.db,
    stripe: stripeBillingConfig(harness.container.env).stripe,
    clock: () => now,
    logger: silentLogger,
    minIntervalMs: HOUR,
  });
}

function deliver(type: string, object: Record<string, unknown>) {
  const signed = signedStripeEvent(TEST_STRIPE_WEBHOOK_SECRET, type, object);
  return handleStripeWebhook(stripeWebhookDeps(harness.container), signed);
}

/** A user with $`usd`, a card saved through Checkout (the real webhook path), and auto top-up "below $5, add $20". */
async function userWithSavedCard(usd: string, paymentMethod: string) {
  const { userId } = await harness.createFundedUser(usd);
  const { stripe, publicUrl } = stripeBillingConfig(harness.container.env);
  const { checkoutSessionId } = await createCheckoutTopUp(
    { db: harness.container.db, stripe: stripe!, publicUrl },
    { user: { id: userId, email: null }, amountNano: parseUsdToNano("10"), saveCard: true },
  );
  const session = fake.completeCheckoutSession(checkoutSessionId, { paymentMethod });
  expect((await deliver("checkout.session.completed", session)).status).toBe(200);
  await saveAutoTopUpSettings(harness.container.db, userId, {
    enabled: true,
    thresholdNano: parseUsdToNano("5"),
    amountNano: parseUsdToNano("20"),
  });
  return userId;
}

function paymentIntentRequests(userId: string) {
  return fake.requests.filter(
    (request) =>
      request.method === "POST" &&
      request.path === "/v1/payment_intents" &&
      (request.body.metadata as Record<string, string>).tollgate_user_id === userId,
  );
}

async function settingsOf(userId: string) {
  const [row] = await harness.container.db.select().from(autoTopUpSettings).where(eq(autoTopUpSettings.userId, userId));
  return row!;
}

beforeAll(async () => {
  fake = await startFakeStripe();
  harness = await startGatewayHarness({ env: stripeTestEnv(fake) });
});

afterAll(async () => {
  await harness?.stop();
  await fake?.close();
});

describe("auto top-up", () => {
  it("charges the saved card off-session once per interval, across processes, and credits from the webhook", async () => {
    const userId = await userWithSavedCard("0", "pm_test_visa");
    const balance = await balanceOf(harness.container.db, userId);
    expect(balance).toBe(parseUsdToNano("10"));
    const [first, second] = [autoTopUpProcess(), autoTopUpProcess()];

    expect(await first.check(userId, balance)).toEqual({ status: "skipped" });
    expect(paymentIntentRequests(userId)).toHaveLength(0);

    // Below the threshold, seen by two processes at once: one charge.
    const low = parseUsdToNano("4.99");
    const outcomes = await Promise.all([first.check(userId, low), second.check(userId, low), first.check(userId, low)]);
    const charged = outcomes.filter((outcome) => outcome.status === "charged");
    expect(charged).toHaveLength(1);
    const requests = paymentIntentRequests(userId);
    expect(requests).toHaveLength(1);
    const customer = [...fake.customers.values()].find(
      (item) => (item.metadata as Record<string, string>).tollgate_user_id === userId,
    );
    expect(requests[0]?.body).toMatchObject({
      amount: "2000",
      currency: "usd",
      customer: customer?.id,
      payment_method: "pm_test_visa",
      off_session: "true",
      confirm: "true",
      metadata: { tollgate_source: "auto", tollgate_user_id: userId },
    });
    expect(requests[0]?.idempotencyKey).toMatch(/^tollgate-auto-top-up-/);

    const outcome = charged[0]!;
    if (outcome.status !== "charged") throw new Error("unreachable");
    const [row] = await harness.container.db.select().from(topUps).where(eq(topUps.id, outcome.topUpId));
    expect(row).toMatchObject({
      source: "auto",
      status: "pending",
      amountNano: parseUsdToNano("20"),
      paymentIntentId: outcome.paymentIntentId,
    });
    expect(await settingsOf(userId)).toMatchObject({
      lastAttemptAt: new Date(now),
      lastStatus: "succeeded",
      lastError: null,
    });
    // Nothing is credited until Stripe's webhook says so.
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("10"));

    // Within the interval: no new attempt, even with the balance still low.
    now += HOUR - 1;
    expect(await second.check(userId, low)).toEqual({ status: "skipped" });
    expect(paymentIntentRequests(userId)).toHaveLength(1);

    const intent = fake.paymentIntents.get(outcome.paymentIntentId)!;
    for (let delivery = 0; delivery < 3; delivery++) {
      expect((await deliver("payment_intent.succeeded", intent)).status).toBe(200);
    }
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("30"));
    const topUpsCredited = (await ledgerOf(harness.container.db, userId)).filter(
      (entry) => entry.externalId === intent.id,
    );
    expect(topUpsCredited.map((entry) => [entry.kind, entry.amountNano])).toEqual([["topup", parseUsdToNano("20")]]);
    const [paid] = await harness.container.db.select().from(topUps).where(eq(topUps.id, outcome.topUpId));
    expect(paid?.status).toBe("paid");

    // After the interval, a low balance charges again.
    now += 1;
    expect((await first.check(userId, low)).status).toBe("charged");
    expect(paymentIntentRequests(userId)).toHaveLength(2);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("records a declined card, credits nothing, and does not retry within the interval", async () => {
    const userId = await userWithSavedCard("0", "pm_test_declined");
    fake.declinedPaymentMethods.add("pm_test_declined");
    const process = autoTopUpProcess();
    const outcome = await process.check(userId, 0n);
    expect(outcome).toMatchObject({ status: "failed", error: "Your card was declined." });
    if (outcome.status !== "failed") throw new Error("unreachable");

    const [row] = await harness.container.db.select().from(topUps).where(eq(topUps.id, outcome.topUpId));
    expect(row).toMatchObject({ source: "auto", status: "failed", failureMessage: "Your card was declined." });
    expect(row?.paymentIntentId).toMatch(/^pi_test_/);
    expect(await settingsOf(userId)).toMatchObject({ lastStatus: "failed", lastError: "Your card was declined." });

    // Stripe's own event for the failure agrees and changes no money.
    const intent = fake.paymentIntents.get(row!.paymentIntentId!)!;
    expect((await deliver("payment_intent.payment_failed", intent)).status).toBe(200);
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("10"));
    expect(await process.check(userId, 0n)).toEqual({ status: "skipped" });
    expect(paymentIntentRequests(userId)).toHaveLength(1);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("does nothing for users without auto top-up, when disabled, or without Stripe", async () => {
    const { userId: plain } = await harness.createFundedUser("0");
    const disabled = await userWithSavedCard("0", "pm_test_disabled");
    await saveAutoTopUpSettings(harness.container.db, disabled, {
      enabled: false,
      thresholdNano: parseUsdToNano("5"),
      amountNano: parseUsdToNano("20"),
    });
    const process = autoTopUpProcess();
    expect(
      await process.checkMany(
        new Map([
          [plain, 0n],
          [disabled, 0n],
        ]),
      ),
    ).toEqual([]);
    const unconfigured = createAutoTopUp({
      db: harness.container.db,
      stripe: null,
      clock: () => now,
      logger: silentLogger,
      minIntervalMs: HOUR,
    });
    expect(await unconfigured.check(disabled, 0n)).toEqual({ status: "skipped" });
    expect(paymentIntentRequests(plain)).toHaveLength(0);
    expect(paymentIntentRequests(disabled)).toHaveLength(0);
  });
});
