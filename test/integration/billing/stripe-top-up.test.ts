import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { billingTopUpProcedures } from "~/server/api/routers/billing-top-ups";
import { createCallerFactory, createTRPCRouter, type TRPCContext } from "~/server/api/trpc";
import type { Container } from "~/server/container";
import { stripeCustomers, topUps, users } from "~/server/db/schema";
import { parseUsdToNano } from "~/server/gateway/billing/money";
import { startFakeStripe, stripeTestEnv, type FakeStripe } from "../../helpers/fake-stripe";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { ledgerOf } from "../../helpers/ledger-assertions";
import { sessionFor } from "../api/support";

// The billing router is assembled elsewhere; its top-up procedures are tested here on their own router.
const createCaller = createCallerFactory(createTRPCRouter(billingTopUpProcedures));

async function callerFor(container: Container, userId: string) {
  const [user] = await container.db.select().from(users).where(eq(users.id, userId));
  const context: TRPCContext = {
    headers: new Headers(),
    session: sessionFor({ id: userId, email: user!.email, role: "user" }),
    container,
  };
  return createCaller(context);
}

describe("billing.createTopUp", () => {
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

  it("reports the presets and limits", async () => {
    const { userId } = await harness.createFundedUser("0");
    const caller = await callerFor(harness.container, userId);
    expect(await caller.topUpOptions()).toEqual({
      configured: true,
      presets: ["10.00", "25.00", "50.00", "100.00"],
      min: "5.00",
      max: "1000.00",
    });
  });

  it("creates one Stripe customer per user and a Checkout Session for the amount, and credits nothing yet", async () => {
    const { userId } = await harness.createFundedUser("0");
    const caller = await callerFor(harness.container, userId);

    const first = await caller.createTopUp({ amountUsd: "25" });
    const second = await caller.createTopUp({ amountUsd: "12.34", saveCard: true });

    const customerCreates = fake.requests.filter(
      (request) =>
        request.path === "/v1/customers" &&
        (request.body.metadata as Record<string, string>).tollgate_user_id === userId,
    );
    expect(customerCreates).toHaveLength(1);
    const [customer] = await harness.container.db
      .select()
      .from(stripeCustomers)
      .where(eq(stripeCustomers.userId, userId));
    expect(fake.customers.has(customer!.customerId)).toBe(true);

    const sessions = fake.requests
      .filter((request) => request.path === "/v1/checkout/sessions" && request.body.client_reference_id === userId)
      .map((request) => request.body);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({
      mode: "payment",
      customer: customer!.customerId,
      line_items: [{ quantity: "1", price_data: { currency: "usd", unit_amount: "2500" } }],
      metadata: { tollgate_user_id: userId, tollgate_amount_nano: "25000000000", tollgate_save_card: "false" },
      success_url: "https://tollgate.test/billing?topup=success",
      cancel_url: "https://tollgate.test/billing?topup=cancelled",
    });
    expect(sessions[0]!.payment_intent_data).not.toHaveProperty("setup_future_usage");
    expect(sessions[1]).toMatchObject({
      customer: customer!.customerId,
      line_items: [{ price_data: { unit_amount: "1234" } }],
      payment_intent_data: { setup_future_usage: "off_session", metadata: { tollgate_source: "checkout" } },
    });

    for (const topUp of [first, second])
      expect(topUp.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
    const rows = await harness.container.db.select().from(topUps).where(eq(topUps.userId, userId));
    expect(rows.map((row) => [row.source, row.status, row.amountNano]).sort()).toEqual([
      ["checkout", "pending", parseUsdToNano("12.34")],
      ["checkout", "pending", parseUsdToNano("25")],
    ]);
    expect(rows.map((row) => row.id).sort()).toEqual([first.topUpId, second.topUpId].sort());
    expect(await ledgerOf(harness.container.db, userId)).toEqual([]);
  });

  it("refuses amounts outside the limits and finer than a cent", async () => {
    const { userId } = await harness.createFundedUser("0");
    const caller = await callerFor(harness.container, userId);
    const before = fake.requests.length;
    await expect(caller.createTopUp({ amountUsd: "4.99" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "The smallest top-up is $5.00",
    });
    await expect(caller.createTopUp({ amountUsd: "1000.01" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(caller.createTopUp({ amountUsd: "10.005" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(caller.createTopUp({ amountUsd: "-10" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(fake.requests.length).toBe(before);
    expect(await harness.container.db.select().from(topUps).where(eq(topUps.userId, userId))).toEqual([]);
  });

  it("answers BAD_GATEWAY and records nothing when Stripe refuses the session", async () => {
    const { userId } = await harness.createFundedUser("0");
    // A customer deleted on Stripe's side: the session is refused with Stripe's "No such customer".
    await harness.container.db.insert(stripeCustomers).values({ userId, customerId: "cus_test_deleted" });
    const caller = await callerFor(harness.container, userId);
    await expect(caller.createTopUp({ amountUsd: "25" })).rejects.toMatchObject({ code: "BAD_GATEWAY" });
    expect(await harness.container.db.select().from(topUps).where(eq(topUps.userId, userId))).toEqual([]);
  });

  it("says top-ups are not configured without STRIPE_SECRET_KEY", async () => {
    const { userId } = await harness.createFundedUser("0");
    const unconfigured = { ...harness.container, env: { ...harness.container.env, STRIPE_SECRET_KEY: undefined } };
    const caller = await callerFor(unconfigured, userId);
    expect(await caller.topUpOptions()).toMatchObject({ configured: false, min: "5.00", max: "1000.00" });
    await expect(caller.createTopUp({ amountUsd: "25" })).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
      message: "Top-ups are not configured",
    });
    expect((await caller.autoTopUp()).configured).toBe(false);
  });

  it("saves auto top-up settings once a card is saved, within the limits", async () => {
    const { userId } = await harness.createFundedUser("0");
    const caller = await callerFor(harness.container, userId);
    expect(await caller.autoTopUp()).toMatchObject({ configured: true, enabled: false, hasSavedCard: false });
    await expect(caller.saveAutoTopUp({ enabled: true, thresholdUsd: "5", amountUsd: "20" })).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
    });
    // Saving disabled settings needs no card.
    await caller.saveAutoTopUp({ enabled: false, thresholdUsd: "5", amountUsd: "20" });

    await caller.createTopUp({ amountUsd: "10" });
    await harness.container.db
      .update(stripeCustomers)
      .set({ defaultPaymentMethodId: "pm_test_saved" })
      .where(eq(stripeCustomers.userId, userId));
    await expect(caller.saveAutoTopUp({ enabled: true, thresholdUsd: "5", amountUsd: "1" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await caller.saveAutoTopUp({ enabled: true, thresholdUsd: "5.5", amountUsd: "20" });
    expect(await caller.autoTopUp()).toMatchObject({
      enabled: true,
      thresholdUsd: "5.5",
      amountUsd: "20",
      hasSavedCard: true,
      lastStatus: null,
    });
  });
});
