import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChangeBus } from "~/server/changes";
import { rowsOf } from "~/server/db/raw-rows";
import type { LeaseStatements } from "~/server/gateway/billing/lease-statements";
import { silentLogger } from "~/server/gateway/logger";
import { addCredits } from "~/server/services/credits";
import { createUser } from "~/server/services/users";
import { createTestDatabase, type TestDatabase } from "../../helpers/test-database";

/*
 * The balance-lease functions (drizzle/0011) on PostgreSQL, statement by statement: what a grant takes from the
 * balance, what renewal, return and the usage writer's take do to the lease row and to balances.held_nano.
 */

const NOW = new Date("2026-12-01T12:00:00Z");
const LATER = new Date("2026-12-01T12:00:30Z");

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)("balance lease statements", () => {
  let database: TestDatabase;
  let statements: LeaseStatements;

  beforeAll(async () => {
    database = await createTestDatabase({ kind: "postgres" });
    statements = database.handle.leaseStatements!;
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function fundedUser(email: string, amountNano: bigint): Promise<string> {
    const user = await createUser(database.handle.db, { email, password: "password-123" });
    const changes = await createChangeBus(database.handle, silentLogger, { listen: false });
    await addCredits(database.handle.db, changes, { userId: user.id, amountNano });
    return user.id;
  }

  async function state(userId: string) {
    const [row] = rowsOf<{ balance: string; held: string; leases: string }>(
      await database.handle.db.execute(sql`
        select balance_nano::text as balance, held_nano::text as held,
          (select coalesce(jsonb_object_agg(id, jsonb_build_object('amount', amount_nano::text,
            'expires', to_char(expires_at at time zone 'UTC', 'HH24:MI:SS'))), '{}')::text
            from balance_holds where user_id = ${userId}) as leases
        from balances where user_id = ${userId}`),
    );
    return { balance: BigInt(row!.balance), held: BigInt(row!.held), leases: JSON.parse(row!.leases) as unknown };
  }

  const grant = (leaseId: string, userId: string, minNano: bigint, wantNano: bigint) =>
    statements.leaseBalance({ leaseId, userId, minNano, wantNano, sharePerMille: 250, now: NOW, expiresAt: LATER });

  it("grants up to a quarter of what is available, at least the minimum, and nothing below it", async () => {
    const userId = await fundedUser("lease-grant@example.com", 1_000n);
    expect(await grant("lease:a:1", userId, 10n, 900n)).toEqual({
      grantedNano: 250n,
      leaseNano: 250n,
      availableNano: 750n,
      othersLeasedNano: 0n,
    });
    // Another process asking for more than a quarter of the rest gets its minimum, and sees the first lease.
    expect(await grant("lease:b:1", userId, 400n, 400n)).toMatchObject({
      grantedNano: 400n,
      availableNano: 350n,
      othersLeasedNano: 250n,
    });
    expect(await grant("lease:a:1", userId, 351n, 351n)).toMatchObject({ grantedNano: 0n, leaseNano: 250n });
    expect(await state(userId)).toEqual({
      balance: 1_000n,
      held: 650n,
      leases: {
        "lease:a:1": { amount: "250", expires: "12:00:30" },
        "lease:b:1": { amount: "400", expires: "12:00:30" },
      },
    });
  });

  it("renews, takes costs out and returns a lease, keeping held equal to what the leases hold", async () => {
    const userId = await fundedUser("lease-cycle@example.com", 1_000n);
    await grant("lease:a:2", userId, 100n, 100n);
    expect(await statements.renewLeases(["lease:a:2", "lease:gone"], new Date("2026-12-01T12:01:00Z"))).toEqual(
      new Set(["lease:a:2"]),
    );
    // The usage writer's share, inside the transaction that debits the costs (here without the debit).
    await database.handle.db.transaction(async (tx) => {
      await tx.execute(sql`
        select take_from_balance_leases(${JSON.stringify([
          { lease_id: "lease:a:2", cost: "30" },
          { lease_id: "lease:a:2", cost: "20" },
          { lease_id: "lease:gone", cost: "5" },
        ])}::jsonb)`);
    });
    expect(await state(userId)).toEqual({
      balance: 1_000n,
      held: 50n,
      leases: { "lease:a:2": { amount: "50", expires: "12:01:00" } },
    });
    expect(await statements.returnLease("lease:a:2", 20n)).toBe(20n);
    expect(await statements.returnLease("lease:a:2", 1_000n)).toBe(30n);
    expect(await statements.returnLease("lease:a:2", 1n)).toBe(0n);
    expect(await state(userId)).toEqual({ balance: 1_000n, held: 0n, leases: {} });
  });
});
