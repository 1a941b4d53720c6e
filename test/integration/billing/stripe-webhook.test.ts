import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "~/app/api/stripe/webhook/route";
import { createCheckoutTopUp } from "~/server/billing/stripe/checkout";
import { stripeBillingConfig } from "~/server/billing/stripe/config";
import { stripeWebhookDeps } from "~/server/billing/stripe/deps-from-container";
import { handleStripeWebhook } from "~/server/billing/stripe/webhook";
import { setContainer } from "~/server/container";
import { balances, ledgerEntries, stripeCustomers, stripeEvents, topUps } from "~/server/db/schema";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import {
  signedStripeEvent,
  startFakeStripe,
  stripeTestEnv,
  TEST_STRIPE_WEBHOOK_SECRET,
  type FakeObject,
  type FakeStripe,
} from "../../helpers/fake-stripe";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { balanceOf, expectLedgerConsistent, ledgerOf } from "../../helpers/ledger-assertions";

let fake: FakeStripe;
let harness: GatewayHarness;

beforeAll(async () => {
  fake = await startFakeStripe();
  harness = await startGatewayHarness({ env: stripeTestEnv(fake) });
});

afterAll(async () => {
  await harness?.stop();
  await fake?.close();
});

type SignedEvent = ReturnType<typeof signedStripeEvent>;

function event(type: string, object: Record<string, unknown>, options: { signWith?: string } = {}): SignedEvent {
  return signedStripeEvent(TEST_STRIPE_WEBHOOK_SECRET, type, object, options);
}

function deliver(signed: Pick<SignedEvent, "rawBody" | "signature">) {
  return handleStripeWebhook(stripeWebhookDeps(harness.container), {
    rawBody: signed.rawBody,
    signature: signed.signature,
  });
}

/** A user who started a Checkout top-up through the real code path; the session is still open. */
async function startTopUp(usd: string, options: { saveCard?: boolean } = {}) {
  const { userId } = await harness.createFundedUser("0");
  const { stripe, publicUrl } = stripeBillingConfig(harness.container.env);
  const topUp = await createCheckoutTopUp(
    { db: harness.container.db, stripe: stripe!, publicUrl },
    { user: { id: userId, email: null }, amountNano: parseUsdToNano(usd), saveCard: options.saveCard ?? false },
  );
  return { userId, sessionId: topUp.checkoutSessionId, topUpId: topUp.topUpId };
}

async function topUpRow(id: string) {
  const [row] = await harness.container.db.select().from(topUps).where(eq(topUps.id, id));
  return row!;
}

async function eventRow(id: string) {
  const [row] = await harness.container.db.select().from(stripeEvents).where(eq(stripeEvents.id, id));
  return row;
}

async function paidTopUp(usd: string) {
  const started = await startTopUp(usd);
  const session = fake.completeCheckoutSession(started.sessionId);
  expect((await deliver(event("checkout.session.completed", session))).status).toBe(200);
  const intent = fake.paymentIntents.get(String(session.payment_intent))!;
  return { ...started, chargeId: String(intent.latest_charge) };
}

describe("POST /api/stripe/webhook", () => {
  it("credits a paid Checkout Session exactly once, however often and however concurrently it is delivered", async () => {
    const { userId, sessionId, topUpId } = await startTopUp("25");
    const session = fake.completeCheckoutSession(sessionId);
    const completed = event("checkout.session.completed", session);

    // Through the Next route handler once, raw body and header as Stripe sends them.
    setContainer(Promise.resolve(harness.container));
    const response = await POST(
      new Request("http://localhost/api/stripe/webhook", {
        method: "POST",
        body: completed.rawBody,
        headers: { "stripe-signature": completed.signature, "content-type": "application/json" },
      }),
    );
    expect(response.status).toBe(200);

    for (let delivery = 0; delivery < 4; delivery++) expect((await deliver(completed)).status).toBe(200);
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => deliver(completed)));
    expect(concurrent.map((result) => result.status)).toEqual([200, 200, 200, 200, 200]);
    // A different event about the same session (a fresh event id) does not credit again either.
    const concurrentFresh = await Promise.all(
      Array.from({ length: 5 }, () => deliver(event("checkout.session.async_payment_succeeded", session))),
    );
    expect(concurrentFresh.map((result) => result.status)).toEqual([200, 200, 200, 200, 200]);

    const entries = await ledgerOf(harness.container.db, userId);
    expect(entries.map((entry) => [entry.kind, entry.externalId, entry.amountNano])).toEqual([
      ["topup", sessionId, parseUsdToNano("25")],
    ]);
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("25"));
    expect(await topUpRow(topUpId)).toMatchObject({ status: "paid", paymentIntentId: session.payment_intent });
    expect((await eventRow(completed.id))?.processedAt).toBeInstanceOf(Date);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("refuses a bad signature with 400 and changes nothing", async () => {
    const { userId, sessionId, topUpId } = await startTopUp("10");
    const session = fake.completeCheckoutSession(sessionId);
    const forged = event("checkout.session.completed", session, { signWith: "whsec_someone_else" });
    const genuine = event("checkout.session.completed", session);
    const tampered = { ...genuine, rawBody: genuine.rawBody.replace('"amount_total":1000', '"amount_total":100000') };
    expect(tampered.rawBody).not.toBe(genuine.rawBody);

    expect(await deliver(forged)).toMatchObject({ status: 400 });
    expect(await deliver(tampered)).toMatchObject({ status: 400 });
    expect(await deliver({ rawBody: genuine.rawBody, signature: "" })).toMatchObject({ status: 400 });
    expect(await deliver({ rawBody: genuine.rawBody, signature: "t=1,v1=00" })).toMatchObject({ status: 400 });

    expect(await ledgerOf(harness.container.db, userId)).toEqual([]);
    expect(await eventRow(forged.id)).toBeUndefined();
    expect(await eventRow(genuine.id)).toBeUndefined();
    expect((await topUpRow(topUpId)).status).toBe("pending");
  });

  it("answers 503 and changes nothing when no webhook secret is configured", async () => {
    const { userId, sessionId } = await startTopUp("10");
    const signed = event("checkout.session.completed", fake.completeCheckoutSession(sessionId));
    const result = await handleStripeWebhook(
      { ...stripeWebhookDeps(harness.container), webhookSecret: null },
      { rawBody: signed.rawBody, signature: signed.signature },
    );
    expect(result.status).toBe(503);
    expect(await ledgerOf(harness.container.db, userId)).toEqual([]);
  });

  it("waits for a delayed payment: unpaid credits nothing until async_payment_succeeded", async () => {
    const { userId, sessionId, topUpId } = await startTopUp("50");
    const unpaid = fake.completeCheckoutSession(sessionId, { paymentStatus: "unpaid" });
    expect((await deliver(event("checkout.session.completed", unpaid))).status).toBe(200);
    expect(await ledgerOf(harness.container.db, userId)).toEqual([]);
    expect(await topUpRow(topUpId)).toMatchObject({ status: "pending", paymentIntentId: unpaid.payment_intent });

    const paid = fake.settleAsyncPayment(sessionId, "paid");
    expect((await deliver(event("checkout.session.async_payment_succeeded", paid))).status).toBe(200);
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("50"));
    // A late redelivery of the unpaid `completed` neither credits nor undoes the payment.
    expect((await deliver(event("checkout.session.completed", unpaid))).status).toBe(200);
    expect((await topUpRow(topUpId)).status).toBe("paid");
    expect(await ledgerOf(harness.container.db, userId)).toHaveLength(1);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("marks a top-up failed on async_payment_failed and credits nothing", async () => {
    const { userId, sessionId, topUpId } = await startTopUp("50");
    const unpaid = fake.completeCheckoutSession(sessionId, { paymentStatus: "unpaid" });
    expect((await deliver(event("checkout.session.completed", unpaid))).status).toBe(200);
    const failed = fake.settleAsyncPayment(sessionId, "failed");
    expect((await deliver(event("checkout.session.async_payment_failed", failed))).status).toBe(200);
    expect(await topUpRow(topUpId)).toMatchObject({ status: "failed", failureMessage: "The payment failed" });
    expect(await ledgerOf(harness.container.db, userId)).toEqual([]);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("acknowledges event types it does not handle and changes nothing", async () => {
    const { userId, sessionId, topUpId } = await startTopUp("10");
    const session = fake.completeCheckoutSession(sessionId);
    const ignored = event("checkout.session.updated", session);
    expect(await deliver(ignored)).toMatchObject({ status: 200, body: { received: true, ignored: true } });
    expect(await deliver(event("customer.created", { id: "cus_test_x", object: "customer" }))).toMatchObject({
      status: 200,
    });
    // Kept as ignored, so operators see what Stripe sends that nothing acts on.
    expect(await eventRow(ignored.id)).toMatchObject({ ignored: true, attempts: 0, lastError: null });
    expect(await ledgerOf(harness.container.db, userId)).toEqual([]);
    expect((await topUpRow(topUpId)).status).toBe("pending");
  });

  it("marks an abandoned top-up expired", async () => {
    const { userId, sessionId, topUpId } = await startTopUp("10");
    const expired = { ...fake.checkoutSessions.get(sessionId)!, status: "expired" };
    expect((await deliver(event("checkout.session.expired", expired))).status).toBe(200);
    expect((await topUpRow(topUpId)).status).toBe("expired");
    expect(await ledgerOf(harness.container.db, userId)).toEqual([]);
  });

  it("keeps the card the customer chose to save as the default for auto top-up", async () => {
    const { userId, sessionId } = await startTopUp("10", { saveCard: true });
    const session = fake.completeCheckoutSession(sessionId, { paymentMethod: "pm_test_saved_visa" });
    expect((await deliver(event("checkout.session.completed", session))).status).toBe(200);
    const [customer] = await harness.container.db
      .select()
      .from(stripeCustomers)
      .where(eq(stripeCustomers.userId, userId));
    expect(customer?.defaultPaymentMethodId).toBe("pm_test_saved_visa");
  });

  it("answers 500 when processing fails, leaves the event unprocessed, and processes the retry", async () => {
    const { userId, sessionId } = await startTopUp("10", { saveCard: true });
    const session = fake.completeCheckoutSession(sessionId);
    const intentId = String(session.payment_intent);
    const intent = fake.paymentIntents.get(intentId)!;
    // The PaymentIntent (read for the saved card) cannot be fetched: Stripe must retry later.
    fake.paymentIntents.delete(intentId);
    const completed = event("checkout.session.completed", session);
    expect((await deliver(completed)).status).toBe(500);
    expect(await ledgerOf(harness.container.db, userId)).toEqual([]);
    const failing = await eventRow(completed.id);
    expect(failing).toMatchObject({ processedAt: null, attempts: 1, ignored: false });
    expect(failing?.lastError).toEqual(expect.any(String));
    expect(failing?.lastError).not.toBe("");

    fake.paymentIntents.set(intentId, intent);
    expect((await deliver(completed)).status).toBe(200);
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("10"));
    // Handled on the second delivery; the error is cleared.
    const handled = await eventRow(completed.id);
    expect(handled).toMatchObject({ attempts: 2, lastError: null });
    expect(handled?.processedAt).toBeInstanceOf(Date);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("debits refunds by the difference of the cumulative amount, once each, in any order", async () => {
    const { userId, chargeId } = await paidTopUp("25");
    const firstRefund = event("charge.refunded", fake.refund(chargeId, 500));
    const secondRefund = event("charge.refunded", fake.refund(chargeId, 700));

    expect((await deliver(firstRefund)).status).toBe(200);
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("20"));
    expect((await deliver(secondRefund)).status).toBe(200);
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("13"));
    // Redeliveries, and the older event arriving again after the newer one, change nothing.
    await Promise.all([deliver(firstRefund), deliver(secondRefund), deliver(secondRefund)]);
    expect((await deliver(event("charge.refunded", fake.charges.get(chargeId)!))).status).toBe(200);

    const refunds = (await ledgerOf(harness.container.db, userId)).filter((entry) => entry.kind === "refund");
    expect(refunds.map((entry) => [entry.externalId, entry.amountNano])).toEqual([
      [`${chargeId}:500`, -parseUsdToNano("5")],
      [`${chargeId}:1200`, -parseUsdToNano("7")],
    ]);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("debits two partial refunds delivered at the same time, newest first, exactly once in total", async () => {
    const { userId, chargeId } = await paidTopUp("30");
    const older = fake.refund(chargeId, 1000);
    const newer = fake.refund(chargeId, 1000);
    const results = await Promise.all([
      deliver(event("charge.refunded", newer)),
      deliver(event("charge.refunded", older)),
      deliver(event("charge.refunded", newer)),
    ]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("10"));
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("debits a dispute and flags the account, once", async () => {
    const { userId, chargeId } = await paidTopUp("40");
    const dispute = fake.dispute(chargeId, 1500);
    const created = event("charge.dispute.created", dispute);
    const results = await Promise.all(Array.from({ length: 3 }, () => deliver(created)));
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    expect((await deliver(event("charge.dispute.created", dispute))).status).toBe(200);

    const disputes = await harness.container.db
      .select()
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.userId, userId), eq(ledgerEntries.kind, "dispute")));
    expect(disputes.map((entry) => [entry.externalId, entry.amountNano])).toEqual([
      [dispute.id, -parseUsdToNano("15")],
    ]);
    expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("25"));
    const [balance] = await harness.container.db.select().from(balances).where(eq(balances.userId, userId));
    expect(balance?.flaggedAt).toBeInstanceOf(Date);
    expect(balance?.flagReason).toContain(dispute.id);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("finds the user of a dispute through the charge's customer when the PaymentIntent is unknown", async () => {
    const { userId, chargeId } = await paidTopUp("20");
    const charge = fake.charges.get(chargeId)!;
    const dispute: FakeObject = { ...fake.dispute(chargeId), payment_intent: null };
    expect(charge.customer).toEqual(expect.stringMatching(/^cus_test_/));
    expect((await deliver(event("charge.dispute.created", dispute))).status).toBe(200);
    expect(await balanceOf(harness.container.db, userId)).toBe(0n);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("ignores refunds and disputes of charges that are not Tollgate's", async () => {
    const before = await harness.container.db.select().from(ledgerEntries);
    const foreign = {
      id: "ch_test_foreign",
      object: "charge",
      amount: 1000,
      amount_refunded: 1000,
      currency: "usd",
      customer: "cus_test_foreign",
      payment_intent: "pi_test_foreign",
    };
    fake.charges.set(foreign.id, foreign);
    expect((await deliver(event("charge.refunded", foreign))).status).toBe(200);
    expect((await deliver(event("charge.dispute.created", fake.dispute(foreign.id)))).status).toBe(200);
    expect(await harness.container.db.select().from(ledgerEntries)).toHaveLength(before.length);
  });
});
