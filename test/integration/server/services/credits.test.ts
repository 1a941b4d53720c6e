import { TEST_ADJUSTMENT } from "../../../helpers/audit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChangeBus, type ChangeBus } from "~/server/changes";
import type { Database } from "~/server/db";
import { silentLogger } from "~/server/gateway/logger";
import { adjustCredits } from "~/server/services/credits";
import { createUser } from "~/server/services/users";
import { balanceOf, expectLedgerConsistent, ledgerOf } from "../../../helpers/ledger-assertions";
import { createTestDatabase, type TestDatabase } from "../../../helpers/test-database";

let database: TestDatabase;
let db: Database;
let changes: ChangeBus;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.handle.db;
  changes = await createChangeBus(database.handle, silentLogger, { listen: false });
});

afterAll(async () => {
  await changes?.close();
  await database?.drop();
});

async function newUser(): Promise<string> {
  return (await createUser(db, { email: `adjust-${crypto.randomUUID()}@example.com`, password: "password-123" })).id;
}

describe("adjustCredits", () => {
  it("posts a signed adjustment with its note and refuses one without a reason", async () => {
    const userId = await newUser();
    await adjustCredits(db, changes, { userId, amountNano: 5_000_000_000n, note: "goodwill" }, TEST_ADJUSTMENT);
    const result = await adjustCredits(
      db,
      changes,
      { userId, amountNano: -1n, note: " refund clawback " },
      TEST_ADJUSTMENT,
    );
    expect(result.balanceNano).toBe(4_999_999_999n);
    expect((await ledgerOf(db, userId)).map((entry) => [entry.kind, entry.amountNano, entry.note])).toEqual([
      ["adjustment", 5_000_000_000n, "goodwill"],
      ["adjustment", -1n, "refund clawback"],
    ]);
    await expect(adjustCredits(db, changes, { userId, amountNano: 1n, note: "  " }, TEST_ADJUSTMENT)).rejects.toThrow(
      "An adjustment needs a note saying why",
    );
    await expect(
      adjustCredits(db, changes, { userId, amountNano: 0n, note: "nothing" }, TEST_ADJUSTMENT),
    ).rejects.toThrow("The amount must not be zero");
    const requestId = crypto.randomUUID();
    const first = await adjustCredits(
      db,
      changes,
      { userId, amountNano: 7n, note: "retried", requestId },
      TEST_ADJUSTMENT,
    );
    const again = await adjustCredits(
      db,
      changes,
      { userId, amountNano: 7n, note: "retried", requestId },
      TEST_ADJUSTMENT,
    );
    expect([first.posted, again.posted]).toEqual([true, false]);
    expect(await balanceOf(db, userId)).toBe(5_000_000_006n);
    await expectLedgerConsistent(db, userId);
  });
});
