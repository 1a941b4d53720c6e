import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "~/server/db";
import { postLedgerEntriesNow } from "~/server/gateway/billing/ledger";
import { createUsageWriter, type Settlement } from "~/server/gateway/billing/usage-writer";
import { silentLogger } from "~/server/gateway/logger";
import { eq, sql } from "drizzle-orm";
import { apiKeys } from "~/server/db/schema";
import { createApiKey } from "~/server/services/api-keys";
import { createUser } from "~/server/services/users";
import { balanceOf, expectLedgerConsistent, generationsOf, ledgerOf } from "../../../../helpers/ledger-assertions";
import { createTestDatabase, type TestDatabase } from "../../../../helpers/test-database";

let database: TestDatabase;
let db: Database;
let users = 0;

beforeAll(async () => {
  database = await createTestDatabase({ poolSize: 12 });
  db = database.handle.db;
});

afterAll(async () => {
  await database?.drop();
});

async function newUser(): Promise<string> {
  users += 1;
  return (await createUser(db, { email: `ledger${users}@example.com`, password: "password-123" })).id;
}

function settlement(userId: string, id: string, costNano: bigint): Settlement {
  return {
    costNano,
    generation: {
      id,
      userId,
      modelId: "tollgate/echo",
      provider: "tollgate",
      upstreamModel: "echo",
      streamed: false,
      httpStatus: 200,
      promptTokens: 1,
      completionTokens: 1,
      costNano,
      latencyMs: 1,
      createdAt: new Date(),
    },
  };
}

describe("postLedgerEntries", () => {
  it("keeps balance = sum of ledger under concurrent writers, with an unbroken running balance", async () => {
    const userId = await newUser();
    await Promise.all(
      Array.from({ length: 24 }, (_, index) =>
        postLedgerEntriesNow(db, [
          {
            userId,
            kind: index % 3 === 0 ? "usage" : "topup",
            externalId: `concurrent-${index}`,
            amountNano: index % 3 === 0 ? -7n : 1_000n,
          },
        ]),
      ),
    );
    expect(await balanceOf(db, userId)).toBe(16n * 1_000n - 8n * 7n);
    expect(await ledgerOf(db, userId)).toHaveLength(24);
    await expectLedgerConsistent(db, userId);
  });

  it("treats a replayed (kind, external id) as a no-op, even concurrently", async () => {
    const userId = await newUser();
    const entry = { userId, kind: "topup" as const, externalId: "cs_test_replayed", amountNano: 5_000_000_000n };
    const results = await Promise.all(Array.from({ length: 5 }, () => postLedgerEntriesNow(db, [entry])));
    expect(results.filter((result) => result.posted.length === 1)).toHaveLength(1);
    expect(await balanceOf(db, userId)).toBe(5_000_000_000n);
    // The same external id under another kind is a different movement.
    await postLedgerEntriesNow(db, [{ ...entry, kind: "refund", amountNano: -1_000_000_000n }]);
    expect(await balanceOf(db, userId)).toBe(4_000_000_000n);
    await expectLedgerConsistent(db, userId);
  });
});

describe("usage writer", () => {
  it("commits a batch of usage rows and debits in one go and reports the new balances", async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    await postLedgerEntriesNow(db, [
      { userId: alice, kind: "topup", externalId: `seed-${alice}`, amountNano: 1_000_000n },
      { userId: bob, kind: "topup", externalId: `seed-${bob}`, amountNano: 1_000_000n },
    ]);
    const reported: Map<string, bigint>[] = [];
    const writer = createUsageWriter({
      db,
      logger: silentLogger,
      flushIntervalMs: 60_000,
      onBalancesWritten: (balances) => reported.push(balances),
    });
    writer.enqueue(settlement(alice, "gen-a1", 300n));
    writer.enqueue(settlement(alice, "gen-a2", 200n));
    writer.enqueue(settlement(bob, "gen-b1", 0n));
    expect(writer.pendingDebitNano(alice)).toBe(500n);

    await writer.flush();
    expect(writer.pendingDebitNano(alice)).toBe(0n);
    expect(await balanceOf(db, alice)).toBe(999_500n);
    expect(await balanceOf(db, bob)).toBe(1_000_000n);
    expect((await generationsOf(db, alice)).map((row) => row.id).sort()).toEqual(["gen-a1", "gen-a2"]);
    expect(await generationsOf(db, bob)).toHaveLength(1);
    // A free call leaves a usage row but no ledger entry.
    expect((await ledgerOf(db, bob)).filter((entry) => entry.kind === "usage")).toHaveLength(0);
    expect(reported.at(-1)?.get(alice)).toBe(999_500n);
    await expectLedgerConsistent(db, alice);

    // Settling the same generation again (a retry) debits nothing more, also in a batch with a new one.
    writer.enqueue(settlement(alice, "gen-a1", 300n));
    writer.enqueue(settlement(alice, "gen-a3", 50n));
    await writer.close();
    expect(await balanceOf(db, alice)).toBe(999_450n);
    expect((await generationsOf(db, alice)).map((row) => row.id).sort()).toEqual(["gen-a1", "gen-a2", "gen-a3"]);
    expect((await ledgerOf(db, alice)).filter((entry) => entry.kind === "usage")).toHaveLength(3);
    expect(reported.at(-1)?.get(alice)).toBe(999_450n);
    await expectLedgerConsistent(db, alice);
  });

  it("counts one batch's calls of a daily-limited key in the day each started, across midnight", async () => {
    const alice = await newUser();
    await postLedgerEntriesNow(db, [
      { userId: alice, kind: "topup", externalId: `seed-${alice}`, amountNano: 1_000_000n },
    ]);
    const { key } = await createApiKey(db, {
      userId: alice,
      name: "daily",
      spendLimitNano: 10_000n,
      limitReset: "daily",
    });
    const at = (iso: string, id: string, costNano: bigint): Settlement => {
      const call = settlement(alice, id, costNano);
      return { ...call, generation: { ...call.generation, apiKeyId: key.id, createdAt: new Date(iso) } };
    };
    const writer = createUsageWriter({ db, logger: silentLogger, flushIntervalMs: 60_000, holdsInDatabase: false });
    // One batch: three calls late on the 21st, two just after midnight.
    writer.enqueue(at("2026-11-21T23:59:58Z", "gen-d1", 100n));
    writer.enqueue(at("2026-11-22T00:00:01Z", "gen-d2", 40n));
    writer.enqueue(at("2026-11-21T23:59:59Z", "gen-d3", 200n));
    writer.enqueue(at("2026-11-22T00:00:02Z", "gen-d4", 2n));
    writer.enqueue(at("2026-11-21T12:00:00Z", "gen-d5", 300n));
    await writer.close();

    const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, key.id));
    // The key's period is the newest day, holding only that day's calls; the older day's spend is over.
    expect(row?.periodStartedAt?.toISOString()).toBe("2026-11-22T00:00:00.000Z");
    expect(row?.periodSpendNano).toBe(42n);
    expect(await balanceOf(db, alice)).toBe(1_000_000n - 642n);
    await expectLedgerConsistent(db, alice);
  });

  it("writes the good settlements of a batch that holds a bad one, and keeps the bad one queued", async () => {
    const userId = await newUser();
    const writer = createUsageWriter({ db, logger: silentLogger, flushIntervalMs: 60_000 });
    writer.enqueue(settlement(userId, "gen-good-1", 10n));
    writer.enqueue(settlement("no-such-user", "gen-orphan", 99n));
    writer.enqueue(settlement(userId, "gen-good-2", 20n));

    await expect(writer.flush()).rejects.toThrow();
    expect((await generationsOf(db, userId)).map((row) => row.id).sort()).toEqual(["gen-good-1", "gen-good-2"]);
    expect(await balanceOf(db, userId)).toBe(-30n);
    expect(writer.pendingDebitNano(userId)).toBe(0n);
    expect(writer.pendingDebitNano("no-such-user")).toBe(99n);
    await expect(writer.close()).rejects.toThrow();
  });

  /** A writer that writes only when asked to or when a batch fills, with the bounds under test. */
  function boundedWriter(bounds: { maxBatchSize: number; maxBacklog: number; maxBackpressureWaitMs?: number }) {
    return createUsageWriter({ db, logger: silentLogger, flushIntervalMs: 60_000, ...bounds });
  }

  /** Holds the account's balance row in a transaction of its own until the returned function is called. */
  async function lockBalanceRow(userId: string): Promise<() => Promise<void>> {
    const locked = Promise.withResolvers<void>();
    const unlock = Promise.withResolvers<void>();
    const holder = db.transaction(async (tx) => {
      await tx.execute(sql`select 1 from balances where user_id = ${userId} for update`);
      locked.resolve();
      await unlock.promise;
    });
    await locked.promise;
    return async () => {
      unlock.resolve();
      await holder;
    };
  }

  it("holds new calls back while more than its bound is queued, and lets them in as batches commit", async () => {
    const userId = await newUser();
    const writer = boundedWriter({ maxBatchSize: 2, maxBacklog: 4 });
    // Another transaction holds the account's balance row: the writer's batches wait on it.
    const releaseLock = await lockBalanceRow(userId);
    for (let call = 1; call <= 3; call++) writer.enqueue(settlement(userId, `gen-backlog-${call}`, 1n));
    expect(writer.backpressure()).toBeUndefined();
    writer.enqueue(settlement(userId, "gen-backlog-4", 1n));
    let admitted = false;
    const waiting = writer.backpressure()!.then(() => void (admitted = true));
    expect(waiting).toBeInstanceOf(Promise);
    // The batch cannot commit before the lock is let go, and so the call cannot be let in.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(admitted).toBe(false);
    await releaseLock();
    await waiting;
    expect(admitted).toBe(true);
    await writer.close();
    expect(await balanceOf(db, userId)).toBe(-4n);
  });

  it("holds nobody back while its batches fail: the calls go on and their usage stays queued", async () => {
    const writer = boundedWriter({ maxBatchSize: 10, maxBacklog: 1 });
    writer.enqueue(settlement("no-such-user", "gen-backlog-orphan", 5n));
    const waiting = writer.backpressure();
    expect(waiting).toBeInstanceOf(Promise);
    await expect(writer.flush()).rejects.toThrow();
    // The call that was waiting is let in, and the next one does not wait.
    await waiting;
    expect(writer.backpressure()).toBeUndefined();
    expect(writer.pendingDebitNano("no-such-user")).toBe(5n);
    await expect(writer.close()).rejects.toThrow();
  });

  it("writes what was queued when asked even while calls keep arriving, and says when it cannot", async () => {
    const userId = await newUser();
    let arrivals = 0;
    // Steady traffic: every batch written is followed by two new calls, so the queue is never empty while it lasts.
    const writer = createUsageWriter({
      db,
      logger: silentLogger,
      flushIntervalMs: 60_000,
      maxBatchSize: 2,
      onBatchWritten: () => {
        for (let call = 0; call < 2 && arrivals < 200; call++) {
          arrivals += 1;
          writer.enqueue(settlement(userId, `gen-arriving-${arrivals}`, 1n));
        }
      },
    });
    const asked = ["gen-asked-1", "gen-asked-2", "gen-asked-3", "gen-asked-4", "gen-asked-5"];
    for (const id of asked) writer.enqueue(settlement(userId, id, 1n));
    await writer.writeQueued();
    // Everything queued at the call is written; the calls that came after are still being written.
    const written = new Set((await generationsOf(db, userId)).map((row) => row.id));
    expect(asked.filter((id) => !written.has(id))).toEqual([]);
    expect(writer.queuedSettlements()).toBeGreaterThan(0);
    await writer.close();
    expect((await generationsOf(db, userId)).length).toBe(asked.length + arrivals);

    const failing = createUsageWriter({ db, logger: silentLogger, flushIntervalMs: 60_000 });
    failing.enqueue(settlement("no-such-user", "gen-never-written", 1n));
    await expect(failing.writeQueued()).rejects.toThrow();
    await expect(failing.close()).rejects.toThrow();
  });

  it("lets a held-back call in after its longest wait when a batch is stuck", async () => {
    const userId = await newUser();
    const writer = boundedWriter({ maxBatchSize: 10, maxBacklog: 1, maxBackpressureWaitMs: 50 });
    const releaseLock = await lockBalanceRow(userId);
    writer.enqueue(settlement(userId, "gen-stuck-1", 1n));
    void writer.flush().catch(() => {});
    // The batch waits on the lock for as long as the test holds it; the call is let in all the same.
    const waiting = writer.backpressure();
    expect(waiting).toBeInstanceOf(Promise);
    await waiting;
    await releaseLock();
    await writer.close();
    expect(await balanceOf(db, userId)).toBe(-1n);
  });
});
