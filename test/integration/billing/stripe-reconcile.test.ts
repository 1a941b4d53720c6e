import { and, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { billingReconcile } from "~/cli/commands/billing";
import { createCliContextFromContainer } from "~/cli/context";
import { createCheckoutTopUp } from "~/server/billing/stripe/checkout";
import { stripeBillingConfig } from "~/server/billing/stripe/config";
import { stripeWebhookDeps } from "~/server/billing/stripe/deps-from-container";
import { handleStripeWebhook } from "~/server/billing/stripe/webhook";
import { ledgerEntries } from "~/server/db/schema";
import { centsToNano } from "~/server/billing/stripe/amounts";
import { reconcileBalances } from "~/server/services/reconcile";
import {
  signedStripeEvent,
  startFakeStripe,
  stripeTestEnv,
  TEST_STRIPE_WEBHOOK_SECRET,
  type FakeStripe,
} from "../../helpers/fake-stripe";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { expectLedgerConsistent } from "../../helpers/ledger-assertions";

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 20_260_101;
const STEPS = 60;

interface Account {
  userId: string;
  apiKey: string;
  /** What Stripe moved for this account, in cents: credits minus refunds and disputes. */
  stripeNetCents: number;
  charges: { id: string; amountCents: number; refundedCents: number; disputed: boolean }[];
}

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

async function deliver(type: string, object: Record<string, unknown>, copies: number): Promise<void> {
  const signed = signedStripeEvent(TEST_STRIPE_WEBHOOK_SECRET, type, object);
  const deps = stripeWebhookDeps(harness.container);
  const results = await Promise.all(Array.from({ length: copies }, () => handleStripeWebhook(deps, signed)));
  for (const result of results) expect(result.status).toBe(200);
}

describe("billing reconcile after a random mix of payments and usage", () => {
  it(`finds every balance equal to its ledger (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const { stripe, publicUrl } = stripeBillingConfig(harness.container.env);
    const accounts: Account[] = [];
    for (let index = 0; index < 3; index++) {
      const { userId, apiKey } = await harness.createFundedUser("0");
      accounts.push({ userId, apiKey, stripeNetCents: 0, charges: [] });
    }

    async function topUp(account: Account): Promise<void> {
      const amountCents = pick([500, 1000, 2500, 1234]);
      const { checkoutSessionId } = await createCheckoutTopUp(
        { db: harness.container.db, stripe: stripe!, publicUrl },
        { user: { id: account.userId, email: null }, amountNano: centsToNano(amountCents), saveCard: false },
      );
      const session = fake.completeCheckoutSession(checkoutSessionId);
      // Stripe delivers at least once: sometimes twice, sometimes at the same moment.
      await deliver("checkout.session.completed", session, pick([1, 1, 2, 3]));
      const intent = fake.paymentIntents.get(String(session.payment_intent))!;
      account.charges.push({ id: String(intent.latest_charge), amountCents, refundedCents: 0, disputed: false });
      account.stripeNetCents += amountCents;
    }

    async function chat(account: Account, mode: "plain" | "stream" | "abort"): Promise<void> {
      const controller = new AbortController();
      const response = await fetch(`${harness.baseUrl}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${account.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "tollgate/echo",
          stream: mode !== "plain",
          messages: [
            { role: "user", content: `step ${random().toString(36).slice(2)} `.repeat(1 + Math.floor(random() * 20)) },
          ],
        }),
        signal: controller.signal,
      });
      // An account that went negative after a dispute is refused; that is part of the story too.
      expect([200, 402]).toContain(response.status);
      if (mode !== "abort" || response.body === null) {
        await response.text();
        return;
      }
      const reader = response.body.getReader();
      await reader.read();
      controller.abort();
      await reader.cancel().catch(() => {});
    }

    async function refund(account: Account): Promise<void> {
      const charge = account.charges.find((item) => !item.disputed && item.refundedCents < item.amountCents);
      if (charge === undefined) return;
      const cents = Math.max(1, Math.floor(random() * (charge.amountCents - charge.refundedCents)));
      charge.refundedCents += cents;
      account.stripeNetCents -= cents;
      await deliver("charge.refunded", fake.refund(charge.id, cents), pick([1, 2]));
    }

    async function dispute(account: Account): Promise<void> {
      const charge = account.charges.find((item) => !item.disputed && item.refundedCents === 0);
      if (charge === undefined) return;
      charge.disputed = true;
      account.stripeNetCents -= charge.amountCents;
      await deliver("charge.dispute.created", fake.dispute(charge.id), pick([1, 2]));
    }

    for (const account of accounts) await topUp(account);
    const steps = { topUp: 0, plain: 0, stream: 0, abort: 0, refund: 0, dispute: 0 };
    for (let step = 0; step < STEPS; step++) {
      const account = pick(accounts);
      const roll = random();
      if (roll < 0.2) {
        steps.topUp++;
        await topUp(account);
      } else if (roll < 0.45) {
        steps.plain++;
        await chat(account, "plain");
      } else if (roll < 0.65) {
        steps.stream++;
        await chat(account, "stream");
      } else if (roll < 0.8) {
        steps.abort++;
        await chat(account, "abort");
      } else if (roll < 0.93) {
        steps.refund++;
        await refund(account);
      } else {
        steps.dispute++;
        await dispute(account);
      }
    }
    // The sequence exercises every kind of step (a changed seed that did not would prove less).
    for (const count of Object.values(steps)) expect(count).toBeGreaterThan(0);

    await harness.container.usageWriter.flush();

    const usage = await harness.container.db
      .select({ id: ledgerEntries.id })
      .from(ledgerEntries)
      .where(
        and(
          eq(ledgerEntries.kind, "usage"),
          inArray(
            ledgerEntries.userId,
            accounts.map((account) => account.userId),
          ),
        ),
      );
    // The calls were billed: usage debits are part of what reconcile checked.
    expect(usage.length).toBeGreaterThan(0);

    const { mismatches, accounts: checked } = await reconcileBalances(harness.container.db);
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(accounts.length);
    const cli = await billingReconcile.run(
      { options: {}, positionals: [] },
      createCliContextFromContainer(harness.container),
    );
    expect(cli.text).toMatch(/^All \d+ accounts match their ledger/);

    for (const account of accounts) {
      await expectLedgerConsistent(harness.container.db, account.userId);
      // Exactly once: what Stripe moved is what the ledger holds, no more and no less.
      const [stripeSide] = await harness.container.db
        .select({ total: sql<string>`coalesce(sum(${ledgerEntries.amountNano}), 0)::text` })
        .from(ledgerEntries)
        .where(
          and(eq(ledgerEntries.userId, account.userId), inArray(ledgerEntries.kind, ["topup", "refund", "dispute"])),
        );
      expect(BigInt(stripeSide!.total)).toBe(centsToNano(account.stripeNetCents));
    }
  });
});
