import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReadinessProbe, shippedMigrationCount } from "~/server/health/readiness";
import { MIGRATIONS_FOLDER, createTestDatabase, type TestDatabase } from "../../../helpers/test-database";

describe("the readiness probe", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  const probe = (overrides: Partial<Parameters<typeof createReadinessProbe>[0]> = {}) =>
    createReadinessProbe({
      db: database.handle.db,
      redis: null,
      usageBackpressure: () => undefined,
      expectedMigrations: shippedMigrationCount(MIGRATIONS_FOLDER),
      ...overrides,
    })();

  it("is ready with every shipped migration applied, and leaves Redis out when there is none", async () => {
    expect(shippedMigrationCount(MIGRATIONS_FOLDER)).toBeGreaterThanOrEqual(20);
    expect(await probe()).toEqual({
      ready: true,
      checks: { database: { ok: true }, migrations: { ok: true }, usageWriter: { ok: true } },
    });
  });

  it("is not ready while the usage writer is backed up, or when this build ships a migration the database lacks", async () => {
    const backedUp = await probe({ usageBackpressure: () => new Promise<void>(() => {}) });
    expect(backedUp).toMatchObject({ ready: false, checks: { usageWriter: { ok: false } } });
    const newer = await probe({ expectedMigrations: shippedMigrationCount(MIGRATIONS_FOLDER) + 1 });
    expect(newer).toMatchObject({ ready: false, checks: { database: { ok: true }, migrations: { ok: false } } });
  });

  it("counts a dependency that does not answer in time as down", async () => {
    const report = await probe({ redis: { ping: () => new Promise(() => {}) }, timeoutMs: 50 });
    expect(report).toMatchObject({ ready: false, checks: { redis: { ok: false, error: "no answer within 50 ms" } } });
  });
});
