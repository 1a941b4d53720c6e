import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { startCuttableProxy } from "../../../helpers/cuttable-proxy";
import { startGatewayProcess, type GatewayProcess } from "../../../helpers/gateway-process";
import { createTestDatabase } from "../../../helpers/test-database";

/*
 * /healthz and /readyz from the production entry, API only (SERVE_DASHBOARD=false, as the helper starts it): alive is
 * alive; ready means the database answers with every migration applied, Redis answers when configured, the usage
 * writer keeps up, and the process is not draining after a SIGTERM.
 */

const cleanups: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function start(variables: Record<string, string> = {}): Promise<{ gateway: GatewayProcess; origin: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "tollgate-health-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const gateway = await startGatewayProcess({
    DATA_DIR: dataDir,
    PGLITE_DIR: path.join(dataDir, "pglite"),
    ...variables,
  });
  cleanups.push(() => void gateway.child.kill("SIGKILL"));
  return { gateway, origin: gateway.baseUrl.replace(/\/v1$/, "") };
}

async function probe(origin: string, path: "/healthz" | "/readyz") {
  const response = await fetch(`${origin}${path}`);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("health checks of the production entry", () => {
  it("is alive and ready on the embedded database, with Redis when configured, and says which check fails", async () => {
    const { origin } = await start({ REDIS_URL: "redis://127.0.0.1:6379" });
    expect(await probe(origin, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await probe(origin, "/readyz")).toEqual({
      status: 200,
      body: {
        status: "ready",
        checks: { database: { ok: true }, migrations: { ok: true }, redis: { ok: true }, usageWriter: { ok: true } },
      },
    });

    // Redis down (nothing listens on port 1): not ready, and the reason names no URL.
    const { origin: withoutRedis } = await start({ REDIS_URL: "redis://:hunter2@127.0.0.1:1" });
    const notReady = await probe(withoutRedis, "/readyz");
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({
      status: "not ready",
      checks: { database: { ok: true }, redis: { ok: false } },
    });
    expect((notReady.body.checks as { redis: { error: string } }).redis.error).not.toBe("");
    expect(JSON.stringify(notReady.body)).not.toContain("hunter2");
    expect((await probe(withoutRedis, "/healthz")).status).toBe(200);
  });

  it("answers 503 on /readyz from the SIGTERM on, while it still serves traffic for the drain delay", async () => {
    const { gateway, origin } = await start({ SHUTDOWN_DRAIN_DELAY_MS: "1500" });
    expect((await probe(origin, "/readyz")).status).toBe(200);
    const exited = gateway.stop("SIGTERM");
    await expect.poll(async () => (await probe(origin, "/readyz")).status, { interval: 20 }).toBe(503);
    expect((await probe(origin, "/readyz")).body).toEqual({ status: "draining" });
    // Still served while the load balancer notices.
    expect((await probe(origin, "/healthz")).status).toBe(200);
    expect((await fetch(`${origin}/api/v1/models`)).status).toBe(200);
    expect(await exited).toBe(0);
  });
});

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)("readiness on PostgreSQL", () => {
  it("goes 503 while the database is unreachable or behind on migrations, and ready again after", async () => {
    const database = await createTestDatabase({ kind: "postgres" });
    cleanups.push(() => database.drop());
    // The gateway reaches the database through a proxy the test can cut.
    const url = new URL(database.url!);
    const proxy = await startCuttableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    cleanups.push(() => proxy.close());
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    const { origin } = await start({ DATABASE_URL: proxied.toString() });
    expect((await probe(origin, "/readyz")).status).toBe(200);

    proxy.cut();
    await expect
      .poll(async () => (await probe(origin, "/readyz")).status, { timeout: 10_000, interval: 100 })
      .toBe(503);
    const down = await probe(origin, "/readyz");
    expect(down.body).toMatchObject({
      status: "not ready",
      checks: { database: { ok: false }, migrations: { ok: false } },
    });
    expect((down.body.checks as { database: { error: string } }).database.error).not.toBe("");
    expect((await probe(origin, "/healthz")).status).toBe(200);
    proxy.restore();
    await expect
      .poll(async () => (await probe(origin, "/readyz")).status, { timeout: 10_000, interval: 100 })
      .toBe(200);

    // A schema behind this build (a restored old backup): the last migration's record is missing.
    const dbAdmin = postgres(database.url!, { max: 1, onnotice: () => {} });
    cleanups.push(() => dbAdmin.end());
    const [last] =
      await dbAdmin`select id, hash, created_at from drizzle.__drizzle_migrations order by id desc limit 1`;
    await dbAdmin`delete from drizzle.__drizzle_migrations where id = ${last!.id as number}`;
    const behind = await probe(origin, "/readyz");
    expect(behind.status).toBe(503);
    expect(behind.body).toMatchObject({ checks: { database: { ok: true }, migrations: { ok: false } } });
    expect(String((behind.body.checks as { migrations: { error: string } }).migrations.error)).toMatch(
      /^\d+ of \d+ migrations applied$/,
    );
    await dbAdmin`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${last!.id as number}, ${last!.hash as string}, ${last!.created_at as string})`;
    expect((await probe(origin, "/readyz")).status).toBe(200);
  });
});
