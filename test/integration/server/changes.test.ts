import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "~/server/db/raw-rows";
import { apiKeys } from "~/server/db/schema";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";

/*
 * Changes reach other processes by NOTIFY on one listening connection. A notification sent while that connection is
 * down never arrives: when the process listens again, it must stop trusting what it cached on changes (keys, leases,
 * the catalog), or a revoked key would keep working until its cache entry expired.
 */

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)("changes after the listening connection is lost", () => {
  let harness: GatewayHarness;

  beforeAll(async () => {
    harness = await startGatewayHarness({ databaseKind: "postgres" });
  });

  afterAll(async () => {
    await harness?.stop();
  });

  async function listeningBackends(): Promise<number[]> {
    const rows = rowsOf<{ pid: number }>(
      await harness.container.db.execute(sql`
        select pid from pg_stat_activity
        where datname = current_database() and query ilike 'listen %' and pid <> pg_backend_pid()`),
    );
    return rows.map((row) => Number(row.pid));
  }

  it("drops the cached keys once it listens again, so a key revoked meanwhile is refused", async () => {
    const { apiKey, apiKeyId } = await harness.createFundedUser("1");
    const models = () => fetch(`${harness.baseUrl}/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect((await models()).status).toBe(200);

    const [listening] = await listeningBackends();
    expect(listening).toBeDefined();
    await harness.container.db.execute(sql`select pg_terminate_backend(${listening!})`);
    // Revoked while nobody listens: no process hears of it.
    await harness.container.db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, apiKeyId));
    await expect
      .poll(async () => (await listeningBackends()).some((pid) => pid !== listening), { timeout: 30_000 })
      .toBe(true);

    await expect.poll(async () => (await models()).status, { timeout: 10_000 }).toBe(401);
  });
});
