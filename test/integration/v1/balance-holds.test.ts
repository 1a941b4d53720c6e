import { TEST_ACTOR, TEST_ADJUSTMENT } from "../../helpers/audit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangeBus } from "~/server/changes";
import type { Database } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";
import { createDatabaseBalanceHolds, type BalanceHolds } from "~/server/gateway/billing/balance-holds";
import { computeCostNano, worstCaseCostNano, type TokenPrices } from "~/server/gateway/billing/compute-cost";
import { measurePrompt, promptTokenBound } from "~/server/gateway/billing/estimate-tokens";
import { formatNanoAsUsd, parseUsdToNano } from "~/server/gateway/billing/money";
import { createApiKey, updateApiKeyLimits } from "~/server/services/api-keys";
import { addChannel } from "~/server/services/channels";
import { addCredits, adjustCredits } from "~/server/services/credits";
import { reconcileBalances } from "~/server/services/reconcile";
import { createUser } from "~/server/services/users";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { startGatewayPair, type GatewayPair } from "../../helpers/gateway-pair";
import { HELD_USAGE, startHeldUpstream, type HeldUpstream } from "../../helpers/held-upstream";
import { balanceOf, expectLedgerConsistent, generationsOf } from "../../helpers/ledger-assertions";
import { TEXT_ONLY, tokenPrices } from "../../helpers/prices";
import { availableDatabaseKinds } from "../../helpers/test-database";

/*
 * Admission control that cannot be raced: every call reserves its worst-case cost in PostgreSQL before it is sent
 * upstream. The upstream here holds every request until the test releases it, so all admissions are decided while
 * nothing has settled yet: exactly as many calls get through as the balance covers, however many arrive at once and
 * through however many gateway processes.
 */

const MODEL = "openai/gpt-4.1-nano";
const MAX_TOKENS = 100;
const REQUEST = {
  model: MODEL,
  messages: [{ role: "user" as const, content: "Count the holds." }],
  max_tokens: MAX_TOKENS,
};

const SHORT_LEASES = { BALANCE_LEASE_TTL_MS: "1200" };

interface Outcome {
  status: number;
  body: { usage?: { cost: number }; error?: { code: string; message: string; type: string } };
}

async function call(baseUrl: string, apiKey: string, body: object = REQUEST): Promise<Outcome> {
  const response = await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Outcome["body"] };
}

/** The hold each REQUEST places, from the same bounds the gateway uses. */
function holdOf(prices: TokenPrices): bigint {
  const prompt = measurePrompt(REQUEST);
  return worstCaseCostNano({ promptTokens: promptTokenBound(prompt), outputTokens: MAX_TOKENS, imageCount: 0 }, prices);
}

function costOf(prices: TokenPrices): bigint {
  return computeCostNano(
    {
      promptTokens: HELD_USAGE.prompt_tokens,
      completionTokens: HELD_USAGE.completion_tokens,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    },
    prices,
    TEXT_ONLY,
  );
}

/**
 * The stored balance and what PostgreSQL holds for the account: in all (balances.held_nano), in call holds (rows named
 * after their generation) and in balance leases (rows named `lease:…`, which gateway processes admit calls against).
 */
async function heldState(db: Database, userId: string) {
  const [row] = rowsOf<{ balance: string; held: string; call_holds: string; leases: string; leased: string }>(
    await db.execute(sql`
      select coalesce((select balance_nano from balances where user_id = ${userId}), 0)::text as balance,
        coalesce((select held_nano from balances where user_id = ${userId}), 0)::text as held,
        (select count(*) from balance_holds where user_id = ${userId} and id not like 'lease:%')::text as call_holds,
        (select count(*) from balance_holds where user_id = ${userId} and id like 'lease:%')::text as leases,
        (select coalesce(sum(amount_nano), 0) from balance_holds where user_id = ${userId} and id like 'lease:%')::text
          as leased`),
  );
  return {
    balance: BigInt(row!.balance),
    held: BigInt(row!.held),
    callHolds: Number(row!.call_holds),
    leases: Number(row!.leases),
    leased: BigInt(row!.leased),
  };
}

async function waitFor(condition: () => boolean): Promise<void> {
  await expect.poll(condition, { timeout: 30_000, interval: 10 }).toBe(true);
}

/**
 * Where admission keeps holds: in the one process (PGlite), or in PostgreSQL as call holds and leases; a test clock
 * that stands still is moved on so that idle leases are given back.
 */
type HoldKeeping =
  { in: "process"; holds: BalanceHolds } | { in: "database"; processes: number; letTimePass?: () => void };

/**
 * Fires 200 calls at once (round-robin over `baseUrls`) from an account funded for `admissible` of them, checks
 * what was admitted while all of them are held upstream, releases them, and checks the money to the nano-dollar.
 */
async function raceTwoHundredCalls(options: {
  db: Database;
  keeping: HoldKeeping;
  baseUrls: string[];
  upstream: HeldUpstream;
  userId: string;
  apiKey: string;
  prices: TokenPrices;
  admissible: number;
  changes: ChangeBus;
  flush: () => Promise<void>;
}): Promise<void> {
  const { db, upstream, userId, prices, admissible, keeping } = options;
  const hold = holdOf(prices);
  const credits = hold * BigInt(admissible) + hold / 2n;
  await addCredits(db, options.changes, { userId, amountNano: credits });

  const arrivedBefore = upstream.arrivals();
  let refused = 0;
  const outcomes = Promise.all(
    Array.from({ length: 200 }, (_, index) =>
      call(options.baseUrls[index % options.baseUrls.length]!, options.apiKey).then((outcome) => {
        if (outcome.status === 402) refused += 1;
        return outcome;
      }),
    ),
  );
  // Every call has been either refused or sent upstream, and none has settled.
  await waitFor(() => refused + (upstream.arrivals() - arrivedBefore) === 200);
  const inFlight = await heldState(db, userId);
  if (keeping.in === "process") {
    expect(inFlight).toMatchObject({ held: 0n, callHolds: 0, leases: 0 });
    expect(await keeping.holds.heldNano(userId)).toBe(hold * BigInt(admissible));
  } else {
    // Everything admitted is held in PostgreSQL, by call holds or by leases, and never more than the balance.
    expect(inFlight.leases).toBeLessThanOrEqual(keeping.processes);
    expect(inFlight.held).toBeGreaterThanOrEqual(hold * BigInt(admissible));
    expect(inFlight.held).toBeLessThanOrEqual(inFlight.balance);
  }

  upstream.release();
  const results = await outcomes;
  const answered = results.filter((outcome) => outcome.status === 200);
  expect(answered).toHaveLength(admissible);
  expect(results.filter((outcome) => outcome.status === 402)).toHaveLength(200 - admissible);
  for (const outcome of results.filter((result) => result.status === 402)) {
    expect(outcome.body.error).toMatchObject({ code: "insufficient_credits", type: "payment_required" });
    expect(outcome.body.error?.message).toContain(`$${formatNanoAsUsd(hold)}`);
  }
  const cost = costOf(prices);
  for (const outcome of answered) expect(outcome.body.usage?.cost).toBe(Number(formatNanoAsUsd(cost)));

  await options.flush();
  const settled = await heldState(db, userId);
  expect(settled.balance).toBe(credits - cost * BigInt(admissible));
  // No call holds anything any more; what leases still hold is theirs until they are given back when idle.
  expect(settled.callHolds).toBe(0);
  expect(settled.held).toBe(settled.leased);
  if (keeping.in === "process") expect(await keeping.holds.heldNano(userId)).toBe(0n);
  await expectLedgerConsistent(db, userId);
  const generations = await generationsOf(db, userId);
  expect(generations).toHaveLength(admissible);
  expect(generations.every((row) => row.billingStatus === "exact" && row.costNano === cost)).toBe(true);
  if (keeping.in === "database") {
    // Idle leases are given back: the account holds nothing.
    keeping.letTimePass?.();
    await expect.poll(() => heldState(db, userId), { timeout: 30_000 }).toMatchObject({ held: 0n, leases: 0 });
  }
}

describe.each(availableDatabaseKinds())("balance holds in one gateway on %s", (kind) => {
  let harness: GatewayHarness;
  let upstream: HeldUpstream;
  let now = Date.parse("2026-11-22T12:00:00Z");
  let prices: TokenPrices;
  let channelId: string;

  beforeAll(async () => {
    // Short-lived leases: an idle one is given back within a second.
    harness = await startGatewayHarness({ clock: () => now, databaseKind: kind, env: SHORT_LEASES });
    upstream = await startHeldUpstream();
    const { channel } = await addChannel(
      harness.container.db,
      harness.container.secretBox,
      harness.container.changes,
      {
        kind: "openai-compatible",
        name: "held",
        baseUrl: upstream.baseUrl,
        models: [{ modelId: MODEL, upstreamModel: "gpt-4.1-nano" }],
      },
      TEST_ACTOR,
    );
    channelId = channel.id;
    prices = harness.container.catalog.getModel(MODEL)!.endpoints[0]!.prices;
  });

  afterAll(async () => {
    await harness?.stop();
    await upstream?.close();
  });

  it("admits exactly as many of 200 concurrent calls as the balance covers, and settles to the nano-dollar", async () => {
    const { userId, apiKey } = await harness.createFundedUser("0");
    await raceTwoHundredCalls({
      db: harness.container.db,
      keeping:
        kind === "postgres"
          ? { in: "database", processes: 1, letTimePass: () => (now += 60_000) }
          : { in: "process", holds: harness.container.holds },
      baseUrls: [harness.baseUrl],
      upstream,
      userId,
      apiKey,
      prices,
      admissible: 50,
      changes: harness.container.changes,
      flush: () => harness.container.usageWriter.flush(),
    });
  });

  it("refuses a call whose worst case exceeds what is available, saying how much it needs", async () => {
    const { userId, apiKey } = await harness.createFundedUser("0");
    const hold = holdOf(prices);
    await addCredits(harness.container.db, harness.container.changes, { userId, amountNano: hold - 1n });
    const refused = await call(harness.baseUrl, apiKey);
    expect(refused.status).toBe(402);
    expect(refused.body.error?.code).toBe("insufficient_credits");
    expect(refused.body.error?.message).toContain(`needs $${formatNanoAsUsd(hold)}`);
    expect(refused.body.error?.message).toContain(`$${formatNanoAsUsd(hold - 1n)} is available`);

    // A smaller cap needs a smaller hold, and is admitted.
    const answered = await call(harness.baseUrl, apiKey, { ...REQUEST, max_tokens: MAX_TOKENS / 2 });
    expect(answered.status).toBe(200);
    await harness.container.usageWriter.flush();
    expect(await harness.container.holds.heldNano(userId)).toBe(0n);
    expect(await heldState(harness.container.db, userId)).toMatchObject({ callHolds: 0 });
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("admits nothing against credit taken back outside the gateway (a refund, an adjustment)", async () => {
    upstream.release();
    const { userId, apiKey } = await harness.createFundedUser("1");
    // The first call leaves this process holding part of the balance for the calls to come (a lease, on PostgreSQL).
    expect((await call(harness.baseUrl, apiKey)).status).toBe(200);
    await harness.container.usageWriter.flush();
    const left = await balanceOf(harness.container.db, userId);
    const hold = holdOf(prices);
    await adjustCredits(
      harness.container.db,
      harness.container.changes,
      {
        userId,
        amountNano: -(left - hold / 2n),
        note: "refunded",
      },
      TEST_ADJUSTMENT,
    );
    const refused = await call(harness.baseUrl, apiKey);
    expect(refused.status).toBe(402);
    expect(refused.body.error?.message).toContain(`$${formatNanoAsUsd(hold / 2n)} is available`);
    expect(await balanceOf(harness.container.db, userId)).toBe(hold / 2n);
    await expectLedgerConsistent(harness.container.db, userId);
  });

  it("applies a limit set while the key is in use from its next call", async () => {
    const { apiKey, apiKeyId } = await harness.createFundedUser("10");
    expect((await call(harness.baseUrl, apiKey)).status).toBe(200);
    await updateApiKeyLimits(harness.container.db, harness.container.changes, {
      id: apiKeyId,
      spendLimitNano: holdOf(prices) - 1n,
      limitReset: "monthly",
    });
    const refused = await call(harness.baseUrl, apiKey);
    expect(refused.status).toBe(402);
    expect(refused.body.error?.code).toBe("key_limit_exceeded");
    await updateApiKeyLimits(harness.container.db, harness.container.changes, { id: apiKeyId, spendLimitNano: null });
    expect((await call(harness.baseUrl, apiKey)).status).toBe(200);
  });

  // On PGlite a hold lives in the one process that would settle it: it cannot be orphaned.
  it.skipIf(kind === "pglite")("releases a hold orphaned by a process that died, once it expires", async () => {
    const { userId, apiKeyId } = await harness.createFundedUser("1");
    const { db } = harness.container;
    // The call holds of another process, which dies before it settles the one it places.
    const deadProcess = createDatabaseBalanceHolds({
      statements: harness.container.database.holdStatements!,
      clock: () => now,
      ttlMs: harness.container.env.BALANCE_HOLD_TTL_MS,
    });
    const hold = { userId, apiKeyId, keyHasSpendLimit: false, amountNano: 700_000_000n };
    expect(await deadProcess.place({ ...hold, holdId: "gen-orphan" })).toEqual({ kind: "held" });
    // Nothing will settle this hold: it keeps its amount out of reach until it expires.
    expect(await deadProcess.place({ ...hold, holdId: "gen-blocked" })).toMatchObject({
      kind: "insufficient_credits",
      availableNano: 300_000_000n,
    });
    expect(await harness.container.holds.releaseExpired()).toBe(0);
    now += harness.container.env.BALANCE_HOLD_TTL_MS + 1;
    // Any live process releases it (with whatever else expired by then).
    expect(await harness.container.holds.releaseExpired()).toBeGreaterThanOrEqual(1);
    expect(await heldState(db, userId)).toMatchObject({ balance: 1_000_000_000n, held: 0n, callHolds: 0 });
    const [key] = rowsOf<{ held: string }>(
      await db.execute(sql`select held_nano::text as held from api_keys where id = ${apiKeyId}`),
    );
    expect(key?.held).toBe("0");
    await expectLedgerConsistent(db, userId);
  });

  it("refuses a key over its $1 daily limit with 402 key_limit_exceeded, and admits it again the next UTC day", async () => {
    // Each call costs exactly $0.30 here (10 output tokens at $30,000 per million, input free), and holds that too.
    await harness.container.db.execute(sql`
      update model_endpoints set input_price_nano = 0, output_price_nano = ${parseUsdToNano("30000")}
      where channel_id = ${channelId}`);
    await harness.container.catalog.reload();
    try {
      now = Date.parse("2026-11-23T22:00:00Z");
      const { userId, apiKey, apiKeyId } = await harness.createFundedUser("100");
      await harness.container.db.execute(sql`
        update api_keys set spend_limit_nano = ${parseUsdToNano("1")}, limit_reset = 'daily' where id = ${apiKeyId}`);
      const limited = { ...REQUEST, max_tokens: 10 };
      for (let spent = 0; spent < 3; spent++) expect((await call(harness.baseUrl, apiKey, limited)).status).toBe(200);
      await harness.container.usageWriter.flush();

      const refused = await call(harness.baseUrl, apiKey, limited);
      expect(refused.status).toBe(402);
      expect(refused.body.error).toMatchObject({ code: "key_limit_exceeded", type: "payment_required" });
      expect(refused.body.error?.message).toContain("$0.9 is spent");
      expect(refused.body.error?.message).toContain("resets at 2026-11-24T00:00:00.000Z");
      // The balance could pay: only the key's limit refuses.
      expect(await balanceOf(harness.container.db, userId)).toBe(parseUsdToNano("99.1"));
      expect(await keyInfo(harness.baseUrl, apiKey)).toMatchObject({
        limit: 1,
        limit_remaining: 0.1,
        limit_reset: "daily",
      });

      now = Date.parse("2026-11-23T23:59:59.999Z");
      expect((await call(harness.baseUrl, apiKey, limited)).status).toBe(402);
      now = Date.parse("2026-11-24T00:00:00Z");
      expect((await call(harness.baseUrl, apiKey, limited)).status).toBe(200);
      await harness.container.usageWriter.flush();
      const [key] = rowsOf<{ spent: string; started: Date | string }>(
        await harness.container.db.execute(sql`
          select period_spend_nano::text as spent, period_started_at as started from api_keys where id = ${apiKeyId}`),
      );
      expect(key?.spent).toBe(parseUsdToNano("0.3").toString());
      expect(await keyInfo(harness.baseUrl, apiKey)).toMatchObject({ limit: 1, limit_remaining: 0.7 });
      expect(new Date(key!.started).toISOString()).toBe("2026-11-24T00:00:00.000Z");
      await expectLedgerConsistent(harness.container.db, userId);
    } finally {
      await harness.container.db.execute(sql`
        update model_endpoints set input_price_nano = ${prices.inputPriceNano},
          output_price_nano = ${prices.outputPriceNano} where channel_id = ${channelId}`);
      await harness.container.catalog.reload();
    }
  });
});

describe.skipIf(process.env.TEST_DATABASE_URL === undefined).each([2, 3])(
  "balance leases across %i gateway processes",
  (processes) => {
    let pair: GatewayPair;
    let upstream: HeldUpstream;
    let prices: TokenPrices;

    beforeAll(async () => {
      upstream = await startHeldUpstream();
      pair = await startGatewayPair({
        channel: {
          name: "held",
          baseUrl: upstream.baseUrl,
          models: [{ modelId: MODEL, upstreamModel: "gpt-4.1-nano" }],
        },
        variables: SHORT_LEASES,
        processes,
      });
      const [row] = rowsOf<{ input: string; output: string }>(
        await pair.database.handle.db.execute(sql`
          select input_price_nano::text as input, output_price_nano::text as output
          from model_endpoints where model_id = ${MODEL}`),
      );
      prices = tokenPrices({ inputPriceNano: BigInt(row!.input), outputPriceNano: BigInt(row!.output) });
    });

    afterAll(async () => {
      await pair?.close();
      await upstream?.close();
    });

    /** A user with a key that every process already routes to the held upstream. */
    async function routedUser(email: string): Promise<{ userId: string; apiKey: string }> {
      const { db } = pair.database.handle;
      const user = await createUser(db, { email, password: "password-123" });
      const { plaintext } = await createApiKey(db, { userId: user.id, name: "race" });
      for (const gateway of pair.gateways) {
        await expect
          .poll(
            async () => (await fetch(`${gateway.baseUrl}/models/${MODEL}`, { headers: bearer(plaintext) })).status,
            { timeout: 30_000 },
          )
          .toBe(200);
      }
      return { userId: user.id, apiKey: plaintext };
    }

    it("admits exactly as many of 200 concurrent calls as the shared balance covers, and reconciles", async () => {
      const { db } = pair.database.handle;
      const { userId, apiKey } = await routedUser(`race-${processes}@example.com`);
      await raceTwoHundredCalls({
        db,
        keeping: { in: "database", processes },
        baseUrls: pair.gateways.map((gateway) => gateway.baseUrl),
        upstream,
        userId,
        apiKey,
        prices,
        admissible: 50,
        changes: pair.changes,
        // Each process writes its settlements within its own group-commit window; generation rows, debits and the
        // costs' share of leases commit together.
        flush: async () => {
          await expect.poll(async () => (await generationsOf(db, userId)).length, { timeout: 30_000 }).toBe(50);
        },
      });
      expect((await reconcileBalances(db)).mismatches).toEqual([]);
    });

    it("gives back the lease of a process killed while holding it, once the lease expires", async () => {
      const { db } = pair.database.handle;
      const { userId, apiKey } = await routedUser(`killed-${processes}@example.com`);
      await addCredits(db, pair.changes, { userId, amountNano: holdOf(prices) * 100n });
      const doomed = pair.gateways.at(-1)!;
      for (let answered = 0; answered < 3; answered++) expect((await call(doomed.baseUrl, apiKey)).status).toBe(200);
      // A fourth call is in flight when the process dies: its lease is in use, so the process keeps renewing it
      // rather than giving it back as idle (however slowly this machine gets to the checks below).
      upstream.hold();
      const arrived = upstream.arrivals();
      const inFlight = call(doomed.baseUrl, apiKey).catch(() => null);
      await waitFor(() => upstream.arrivals() > arrived);
      await expect.poll(async () => (await generationsOf(db, userId)).length, { timeout: 30_000 }).toBe(3);
      const leased = await heldState(db, userId);
      expect(leased).toMatchObject({ leases: 1, callHolds: 0 });
      expect(leased.held).toBeGreaterThan(0n);

      // No SIGTERM: the process cannot give its lease back. The others release it once it expires. The call it
      // held is never answered, so never billed.
      await doomed.stop("SIGKILL");
      pair.gateways.pop();
      expect(await inFlight).toBeNull();
      upstream.release();
      await expect
        .poll(() => heldState(db, userId), { timeout: 30_000 })
        .toMatchObject({ held: 0n, leases: 0, balance: holdOf(prices) * 100n - costOf(prices) * 3n });
      expect((await reconcileBalances(db)).mismatches).toEqual([]);
      await expectLedgerConsistent(db, userId);
      // The whole balance is available to the processes left.
      expect((await call(pair.gateways[0]!.baseUrl, apiKey)).status).toBe(200);
    });
  },
);

async function keyInfo(baseUrl: string, apiKey: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}/key`, { headers: bearer(apiKey) });
  return ((await response.json()) as { data: Record<string, unknown> }).data;
}

function bearer(apiKey: string): Record<string, string> {
  return { authorization: `Bearer ${apiKey}` };
}
